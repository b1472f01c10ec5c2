// End-to-end harness: test rosbridge server + simulated robot + the real bridge (roslib over ws) + deploy loop.
import { resolve } from "node:path";
import { ACTION_DIM, type Policy } from "../../../src/core/index.ts";
import {
  SafetyLayer,
  createClock,
  createRosBridge,
  loadRobotInterface,
  slotLimits,
  type RobotInterface,
  type RosBridge,
} from "../../../src/bridge/index.ts";
import { DeployController, type DeployLanguage } from "../../../src/runner/deploy/index.ts";
import { RosbridgeTestServer, type ServerOptions } from "../../bridge/rosbridge-server.ts";
import { SimRobot, homePose, type SimRobotOptions } from "../../bridge/sim-robot.ts";

export interface Harness {
  server: RosbridgeTestServer;
  robot: SimRobot;
  bridge: RosBridge;
  controller: DeployController;
  spec: RobotInterface;
  /** Log lines of the controller and bridge, with clock time (ms). */
  logs: { at: number; line: string }[];
  /** Server publishes on command topics or action goals (what reached "the robot"). */
  commands(): { at: number; client: number; source: string; positions: number[] }[];
  close(): Promise<void>;
}

/** Replay chunks (Tp = 10) moving left joint1 from home by `deltas[k]` in chunk k. */
export function chunksMovingJoint1(
  deltas: number[],
  edit?: (row: number[], chunk: number, step: number) => void,
): number[][][] {
  const home = Array.from(homePose());
  return deltas.map((d, k) =>
    Array.from({ length: 10 }, (_, s) => {
      const row = [...home];
      row[0] = (row[0] as number) + d;
      edit?.(row, k, s);
      return row;
    }),
  );
}

export interface HarnessOptions {
  interfaceFile?: string;
  edit?: (spec: RobotInterface) => void;
  robot?: SimRobotOptions;
  dryRun?: boolean;
  port?: number;
  /** The deploy loop's Ta (its default otherwise). */
  actionSteps?: number;
  /** Test-server behaviour (late subscription). */
  server?: Omit<ServerOptions, "rosVersion" | "port">;
  /** A language-conditioned policy's instructions (the deploy loop's `language`). */
  language?: DeployLanguage;
}

export async function startHarness(policy: Policy, options: HarnessOptions = {}): Promise<Harness> {
  const ri = loadRobotInterface(resolve("robot-interfaces", options.interfaceFile ?? "panda-pair-ros2.json"));
  const spec = structuredClone(ri.spec);
  spec.control_hz = 20;
  spec.connection.reconnect_initial_ms = 50;
  spec.connection.heartbeat_ms = 200;
  options.edit?.(spec);
  const server = await RosbridgeTestServer.start({
    rosVersion: spec.ros_version,
    ...(options.port ? { port: options.port } : {}),
    ...options.server,
  });
  const robot = new SimRobot(server, spec, options.robot);
  robot.attach(server);
  const clock = createClock();
  const bridge = createRosBridge(spec, server.url, clock);
  const logs: { at: number; line: string }[] = [];
  const log = (line: string): void => void logs.push({ at: clock.now(), line });
  bridge.on("log", log);
  const safety = new SafetyLayer(slotLimits(ri.robot), spec.safety, spec.control_hz);
  const controller = new DeployController({
    policy,
    bridge,
    safety,
    clock,
    watchdogMs: spec.safety.watchdog_ms,
    maxCommandAgeMs: spec.max_age_ms.joint_states,
    dryRun: options.dryRun ?? false,
    ...(options.actionSteps !== undefined && { actionSteps: options.actionSteps }),
    ...(options.language && { language: options.language }),
    log,
  });
  const h: Harness = {
    server,
    robot,
    bridge,
    controller,
    spec,
    logs,
    commands: () => {
      const topics = new Set<string>();
      for (const arm of ["left", "right"] as const) {
        const c = spec.arms[arm].command;
        if (c.kind !== "follow_joint_trajectory") topics.add(c.topic);
        else topics.add(`${c.action}/goal`);
      }
      // what the arms' controllers were sent (a message held by a frozen server counts when it was processed)
      const fromMsg = (m: Record<string, unknown>): number[] => {
        const tr = (m.points ? m : ((m.goal as Record<string, unknown> | undefined)?.trajectory ?? m.trajectory)) as
          { points?: { positions: number[] }[] } | undefined;
        return tr?.points?.[0]?.positions ?? (m.data as number[]);
      };
      const topicCmds = h.server.received
        .filter((r) => topics.has(r.topic))
        .map((r) => ({ at: r.at, client: r.client, source: r.topic, positions: fromMsg(r.msg) }));
      const armActions = new Set(
        ["left", "right"]
          .map((a) => spec.arms[a as "left"].command)
          .flatMap((c) => (c.kind === "follow_joint_trajectory" ? [c.action] : [])),
      );
      const goalCmds = h.server.goals
        .filter((g) => armActions.has(g.action))
        .map((g) => ({ at: g.at, client: g.client, source: g.action, positions: fromMsg(g.args) }));
      return [...topicCmds, ...goalCmds].sort((a, b) => a.at - b.at);
    },
    close: async () => {
      controller.close();
      h.robot.detach();
      await h.server.kill();
    },
  };
  controller.start();
  return h;
}

export { ACTION_DIM };
