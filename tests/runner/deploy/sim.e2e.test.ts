// Issue 7 acceptance, end to end through the test harness: a policy drives duet's simulator over the rosbridge v2
// protocol and unscrews the cap, as often as the same policy run directly in simulation; recording through the bridge
// produces a dataset that validates.
//
// The policy is the scripted expert (a trained one takes the same path in ./deploy-trained.e2e.test.ts). The expert
// is PRIVILEGED: it reads the simulator's world (bottle and cap poses, thread turns, grasps), so it is created on the
// very SimEnv that the sim-backed robot steps behind the server. Its targets still travel the whole deploy path: DeployController → SafetyLayer → RosBridge
// → roslib → ws → test server → the robot's controllers; the robot's joint states travel back the same way and are
// what the controller observes (the expert ignores them, a trained policy would not).
// Lockstep timing (virtual clock, real messages) is explained in ./lockstep.ts.
//
// Robot interface: ./sim-panda-pair.json — ROS 2, JointTrajectory controllers, PNG cameras named as the scenario's.
// Its safety block is set for the expert's speeds: velocity_scale 1 (the robot description's velocity limits), a
// ramp as fast as those limits, and "clamp", because the expert commands its grippers in single jumps (0.04 → 0 m)
// that the gripper's 0.1 m/s limit turns into 0.01 m per 10 Hz command; the fingers move at that speed anyway.
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  RosBridge,
  createRosLink,
  loadRobotInterface,
  type LoadedRobotInterface,
  type RosLink,
} from "../../../src/bridge/index.ts";
import { Dataset, validateDataset } from "../../../src/data/index.ts";
import { commandTaps, Recorder, rosDatasetSpec, RosSource } from "../../../src/runner/record/index.ts";
import { runEpisodes } from "../../../src/runner/rollout/index.ts";
import { createEnv, createExpert } from "../../../src/sim/index.ts";
import { tempDir } from "../../data/fixtures.ts";
import { LockstepRig, TracedPolicy, until, type BridgeEpisode } from "./lockstep.ts";
import { LockstepClock } from "../../bridge/lockstep-clock.ts";
import { RosbridgeTestServer } from "../../bridge/rosbridge-server.ts";
import { SimBackedRobot } from "../../bridge/sim-backed-robot.ts";

const SCENARIO = resolve("scenarios/bottle-cap.json");
const INTERFACE = resolve("tests/bridge/sim-panda-pair.json");

let server: RosbridgeTestServer | undefined;
afterEach(async () => {
  await server?.kill();
  server = undefined;
});

/** The interface without cameras (the expert does not look; rendering 3 cameras per step triples the run time). */
function withoutCameras(ri: LoadedRobotInterface): LoadedRobotInterface {
  return { ...ri, spec: { ...structuredClone(ri.spec), cameras: {} } };
}

/** Slots the safety layer may change: the grippers (jump commands, clamped) and, while ramping, any joint. */
const GRIPPERS = new Set(["left_gripper", "right_gripper"]);
/** The only log lines an episode may produce: connect, run, clamps, close. */
const EXPECTED_LOG = ["connected (epoch 1); ", "running: observations fresh on epoch 1", "clamped: ", "closed: "];

function summary(eps: readonly BridgeEpisode[]): Record<string, unknown> {
  const sum = (f: (e: BridgeEpisode) => number): number => eps.reduce((a, e) => a + f(e), 0);
  const slots: Record<string, number> = {};
  for (const e of eps) for (const [k, v] of Object.entries(e.changedSlots)) slots[k] = (slots[k] ?? 0) + v;
  return {
    steps: sum((e) => e.steps),
    commandsSent: sum((e) => e.commandsSent),
    clamped: sum((e) => e.clamped),
    changedSteps: sum((e) => e.changedSteps),
    changedSlots: slots,
  };
}

describe("the simulator as the robot behind rosbridge", () => {
  it("the expert unscrews the cap through the bridge as often as directly (20 episodes each)", async () => {
    const t0 = performance.now();
    const seeds = Array.from({ length: 20 }, (_, i) => i);
    // direct baseline in worker threads, while this thread drives the bridge
    const direct = runEpisodes({ scenario: SCENARIO, policy: "expert", cameras: false }, seeds, { workers: 2 });
    const ri = withoutCameras(loadRobotInterface(INTERFACE));
    server = await RosbridgeTestServer.start({ rosVersion: 2 });
    const env = createEnv(SCENARIO, { cameras: false });
    const clock = new LockstepClock();
    const robot = new SimBackedRobot(server, ri.spec, env, () => clock.wallSeconds());
    const policy = new TracedPolicy(createExpert(env)); // same SimEnv: the expert reads its world
    const rig = new LockstepRig({ ri, server, robot, clock, cameras: false });
    const viaBridge: BridgeEpisode[] = [];
    for (const seed of seeds) viaBridge.push(await rig.runEpisode(policy, seed));
    const directOutcomes = await direct;

    const rateBridge = viaBridge.filter((e) => e.success).length / seeds.length;
    const rateDirect = directOutcomes.filter((e) => e.success).length / seeds.length;
    expect(rateDirect).toBeGreaterThanOrEqual(0.9);
    expect(rateBridge).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(rateBridge - rateDirect)).toBeLessThanOrEqual(0.1);

    const s = summary(viaBridge);
    const report = process.env.DUET_BRIDGE_E2E_REPORT; // optional: where to write the measured numbers (JSON)
    if (report)
      writeFileSync(
        report,
        JSON.stringify({
          rateBridge,
          rateDirect,
          ...s,
          bridge: viaBridge.map(({ logs: _logs, ...e }) => e),
          direct: directOutcomes,
          wallS: (performance.now() - t0) / 1000,
        }),
      );
    // one command per control period, every one sent, none rejected; the robot applied every message
    for (const e of viaBridge) {
      expect(e.ticksWithoutCommand, `seed ${e.seed}`).toBe(0);
      expect(e.commandsSent, `seed ${e.seed}`).toBe(e.steps);
      expect(e.logs.map((l) => l.line).filter((l) => !EXPECTED_LOG.some((p) => l.startsWith(p)))).toEqual([]);
    }
    expect(robot.refused).toEqual([]);
    expect(robot.expired).toBe(0);
    expect(server.log).toEqual([]);
    // The expert's targets pass unchanged except where the safety layer rate-limits them:
    //  - gripper jumps (0.04 m in one command) are clamped to the gripper's 0.01 m per period;
    //  - the ramp out of the start pose: when the left arm holds, the expert swings the right wrist (joint 7) toward
    //    its twist start at ≈2.8 rad/s, above the Panda's 2.61 rad/s, so the ramp (at the velocity limit) trails it by
    //    up to ≈0.13 rad for the first few commands, then meets it.
    // No arm joint is ever clamped, and no arm joint differs after the ramp.
    const armClamps = viaBridge.flatMap((e) => Object.keys(e.clampedSlots).filter((n) => !GRIPPERS.has(n)));
    expect(armClamps).toEqual([]);
    for (const e of viaBridge) expect(e.lastArmChangeStep, `seed ${e.seed}`).toBeLessThan(10);
    expect((s.changedSteps as number) / (s.steps as number)).toBeLessThan(0.1);
  }, 300_000);

  it("recording through the bridge (commanded actions, PNG cameras) produces a dataset that validates", async () => {
    const ri = loadRobotInterface(INTERFACE);
    const spec = ri.spec;
    server = await RosbridgeTestServer.start({ rosVersion: 2 });
    const env = createEnv(SCENARIO); // cameras rendered: the robot publishes them
    const clock = new LockstepClock();
    const robot = new SimBackedRobot(server, spec, env, () => clock.wallSeconds());
    const policy = new TracedPolicy(createExpert(env));
    const rig = new LockstepRig({ ri, server, robot, clock, cameras: true });

    // the recorder as `duet record --source ros --actions commanded` builds it (openRosRecording), on its own
    // connection, with a counter on the command-tap topics so the driver knows when the tap has each command
    const c = spec.connection;
    const link = createRosLink(
      {
        url: server.url,
        heartbeatMs: c.heartbeat_ms,
        reconnectInitialMs: c.reconnect_initial_ms,
        reconnectMax: c.reconnect_max_ms,
        connectTimeoutMs: c.connect_timeout_ms,
      },
      clock,
    );
    const tapTopics = new Set(commandTaps(spec).map((t) => t.topic));
    let tapMessages = 0;
    const counted: Pick<RosLink, "subscribe"> = {
      subscribe: (topic, type, options, fn) =>
        link.subscribe(topic, type, options, (msg) => {
          if (tapTopics.has(topic)) tapMessages++;
          fn(msg);
        }),
    };
    const bridge = new RosBridge(spec, link, clock, { commands: false }); // a recorder only listens
    const out = tempDir("duet-ros-sim-rec-");
    const recorder = await Recorder.open(out, { spec: rosDatasetSpec(spec) });
    const logs: string[] = [];
    const source = new RosSource({
      bridge,
      link: counted,
      clock,
      recorder,
      interface: spec,
      episodes: 2,
      actions: "commanded",
      topics: null,
      task: "unscrew the bottle cap",
      log: (line) => logs.push(line),
    });
    const done = source.run();
    await until("recorder connected and tapping", () =>
      [...tapTopics].every((t) => (server as RosbridgeTestServer).subscribers(t) > 0),
    );
    const episodes: { ep: BridgeEpisode; applied: Float64Array[] }[] = [];
    for (const seed of [3, 4]) {
      const ep = await rig.runEpisode(policy, seed, { rec: { source, bridge, tapMessages: () => tapMessages } });
      episodes.push({ ep, applied: robot.applied.map((a) => Float64Array.from(a)) });
    }
    const result = await done;
    expect(episodes.map((e) => e.ep.success)).toEqual([true, true]);
    expect(result.recorded.map((m) => m.length)).toEqual(episodes.map((e) => e.ep.steps));
    // the only steps not recorded are the recorder's ticks before the controller's first command of each episode (the
    // controller commands from connection.command_settle_ms after connecting); no gap ever ended an episode
    expect(result.skippedTotal).toBeLessThanOrEqual(2 * Math.ceil(spec.connection.command_settle_ms / 100));
    expect(
      logs.filter(
        (l) =>
          !/^(idle|recording|done): |^step not recorded: (no command received|commands older than 200 ms) for /.test(l),
      ),
    ).toEqual([]);

    const report = await validateDataset(out);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.episodes).toBe(2);
    // every frame: the observation the controller saw and the command it sent (what the robot applied)
    const ds = await Dataset.open(out);
    expect(ds.spec.cameras.map((cam) => cam.name)).toEqual(["front", "left_wrist", "right_wrist"]);
    for (const [i, { ep, applied }] of episodes.entries()) {
      const frames = await ds.episode(i);
      expect(frames.meta.success).toBe(true);
      expect(frames.action.length).toBe(ep.steps * 16);
      for (let t = 0; t < ep.steps; t++) {
        const want = Float32Array.from(applied[t] as Float64Array);
        expect(Array.from(frames.action.subarray(t * 16, t * 16 + 16)), `episode ${i} frame ${t}`).toEqual(
          Array.from(want),
        );
      }
      expect(frames.images.front).toHaveLength(ep.steps);
      expect(frames.images.front?.[0]?.data.length).toBe(96 * 96 * 3);
    }
  });
});
