// Lockstep end to end: a policy drives duet's simulator through the REAL deploy path — DeployController, SafetyLayer,
// RosBridge, RoslibLink (roslib 2 over ws on 127.0.0.1) — and the rosbridge v2 test server, with the sim behind the
// server as the robot (./sim-backed-robot.ts). Optionally a RosSource on its own connection records the episode,
// tapping the command topics as `duet record --source ros --actions commanded` does.
//
// Why lockstep. At the interface's 10 Hz an episode of the default scenario takes ≈16 s of real time; 20 of them would
// take minutes. So the controller and recorder run on a virtual clock (./lockstep-clock.ts, behind the bridge's Clock
// interface) and the driver advances it one control period at a time, waiting in real time for each message to
// arrive. Period k, controller tick at c[k] = T + (k+1)·P (P = 1/control_hz):
//   1. clock → just before c[k]: due timers fire (the recorder's tick at c[k-1] + P/2 records o[k-1] with the command
//      a[k-1] it saw on the command topics);
//   2. the robot steps the sim one period with its latest targets (a[k-1]) → o[k]; done → the episode ends;
//   3. clock = c[k]: the robot publishes JointState (and camera frames) for o[k]; the driver waits until every client
//      has received them;
//   4. the controller's tick fires at c[k]: observe o[k] → policy → safety → JointTrajectory publishes; the driver
//      waits until the tick finished and every command message reached the robot (and the recorder's tap).
// What is faithful: the same messages over the same websocket in the same order, the same observation assembly, the
// same safety layer and epoch checks, one policy step per observation, and the same order as a direct rollout
// (o[k] → a[k] → step → o[k+1]). What differs from a real cell: input ages are ~0 ms (a real robot's joint states
// are ≤ 1 period old), and a tick that sends no command still advances the sim one period (the arms hold their last
// targets, as position controllers do) — such ticks are counted.
import { ACTION_DIM, SLOT_NAMES, type Policy, type StepResult } from "../../../src/core/index.ts";
import {
  SafetyLayer,
  createRosBridge,
  slotLimits,
  type LoadedRobotInterface,
  type RosBridge,
} from "../../../src/bridge/index.ts";
import { DeployController, type DeployLanguage } from "../../../src/runner/deploy/index.ts";
import type { RosSource } from "../../../src/runner/record/index.ts";
import type { LockstepClock } from "../../bridge/lockstep-clock.ts";
import type { RosbridgeTestServer } from "../../bridge/rosbridge-server.ts";
import type { SimBackedRobot } from "../../bridge/sim-backed-robot.ts";

/** Wait (yielding to I/O between checks) until `cond()` holds; throw naming `what` after `timeoutMs` of real time
 * (generous: a loaded 2-core machine can stall a loopback message for seconds; the wait is about order, not speed). */
export async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`lockstep: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A policy wrapper that keeps the first row (Da = 16) of every chunk it returns: what the policy asked for. */
export class TracedPolicy implements Policy {
  readonly rows: Float32Array[] = [];
  constructor(private readonly inner: Policy) {}
  reset(seed: number): void {
    this.rows.length = 0;
    this.inner.reset(seed);
  }
  async predictChunk(history: Parameters<Policy["predictChunk"]>[0]): ReturnType<Policy["predictChunk"]> {
    const chunk = await this.inner.predictChunk(history);
    this.rows.push(chunk.actions.slice(0, chunk.dim));
    return chunk;
  }
}

/** The recording side: a recorder on its own connection and the message counter of its command tap. */
export interface RecorderSide {
  source: RosSource;
  bridge: RosBridge;
  /** Messages delivered to the recorder on the interface's command topics. */
  tapMessages(): number;
}

/** What else an episode of the rig does. */
export interface EpisodeOptions {
  /** A recorder records the episode (its ticks fall half a period after the controller's) and commits it. */
  rec?: RecorderSide;
  /** A language-conditioned policy's instructions, as `duet deploy` gives them (resolveDeployPolicy's `language`). */
  language?: DeployLanguage;
  /** Once the controller is connected and has its first observation, before its first tick (e.g. publish a message). */
  afterConnect?: () => Promise<void>;
  /** End the episode after the first step for which this holds (default: when the env says done). */
  until?: (r: StepResult) => boolean;
}

/** One episode through the bridge. */
export interface BridgeEpisode {
  seed: number;
  success: boolean;
  /** Control steps the sim took. */
  steps: number;
  holder: string;
  /** The instruction the sim's episode asked (its info.instruction; "" in a single-task scenario) and the hand named. */
  instruction: string;
  namedHand: string;
  turns: number;
  /** Commands the controller sent, and commands the safety layer clamped (with the clamped slots). */
  commandsSent: number;
  clamped: number;
  clampedSlots: Record<string, number>;
  /** Ticks that sent no command (rejected, discarded, no observation) while the sim advanced. */
  ticksWithoutCommand: number;
  /** Steps whose applied targets differ from the policy's (float32) targets, and by slot. */
  changedSteps: number;
  changedSlots: Record<string, number>;
  /** Largest |applied − policy target| over the episode. */
  maxChange: number;
  /** Last step at which an arm joint (not a gripper) differed from the policy's target; −1 if none. */
  lastArmChangeStep: number;
  /** Controller and bridge log lines (clock ms). */
  logs: { at: number; line: string }[];
  wallS: number;
}

export interface LockstepOptions {
  ri: LoadedRobotInterface;
  server: RosbridgeTestServer;
  robot: SimBackedRobot;
  clock: LockstepClock;
  /** Publish camera frames each period (the interface's cameras). */
  cameras: boolean;
  /** The deploy loop's To and Ta (its defaults otherwise), as `duet deploy` sets them for a trained policy. */
  obsSteps?: number;
  actionSteps?: number;
}

/** Runs episodes of a policy on the sim-backed robot through the bridge, one control period at a time. */
export class LockstepRig {
  private readonly periodMs: number;
  private readonly msgsPerCommand = 4; // per arm: one message for the 7 joints, one for the gripper

  constructor(private readonly o: LockstepOptions) {
    const hz = o.ri.spec.control_hz;
    if (hz !== o.robot.env.controlHz)
      throw new Error(`interface control_hz ${hz} differs from the scenario's ${o.robot.env.controlHz}`);
    this.periodMs = 1000 / hz;
  }

  /** Publish the robot's state at the current clock time and wait until every bridge in `bridges` has it. */
  private async publish(bridges: readonly RosBridge[]): Promise<void> {
    const j = bridges.map((b) => b.stats.jointStates);
    const f = bridges.map((b) => b.stats.frames);
    const wall = this.o.clock.wallSeconds();
    const nj = this.o.robot.publishJointStates(wall);
    const nf = this.o.cameras ? this.o.robot.publishFrames(wall) : 0;
    await until("joint states and frames at every client", () =>
      bridges.every((b, i) => b.stats.jointStates >= (j[i] as number) + nj && b.stats.frames >= (f[i] as number) + nf),
    );
  }

  /** Until `bridges` are subscribed: publish the current state every 2 ms of real time until each has received it. */
  private async primeSubscriptions(bridges: readonly RosBridge[]): Promise<void> {
    await until("connection", () => bridges.every((b) => b.connected));
    const j = bridges.map((b) => b.stats.jointStates);
    const f = bridges.map((b) => b.stats.frames);
    let last = -Infinity;
    const nCams = this.o.cameras ? Object.keys(this.o.ri.spec.cameras).length : 0;
    await until("first joint state and frames", () => {
      const ok = bridges.every(
        (b, i) => b.stats.jointStates > (j[i] as number) && b.stats.frames >= (f[i] as number) + nCams,
      );
      if (!ok && performance.now() - last > 2) {
        last = performance.now();
        this.o.robot.publishJointStates(this.o.clock.wallSeconds());
        if (this.o.cameras) this.o.robot.publishFrames(this.o.clock.wallSeconds());
      }
      return ok;
    });
  }

  /**
   * One episode of `policy` (which must act on the robot's env) from `seed`. With `options.rec`, the recorder records
   * it and commits it with the env's success.
   */
  async runEpisode(policy: TracedPolicy, seed: number, options: EpisodeOptions = {}): Promise<BridgeEpisode> {
    const { rec, language, afterConnect, until: stop } = options;
    const { ri, robot, clock } = this.o;
    const spec = ri.spec;
    const P = this.periodMs;
    const wall0 = performance.now();
    robot.reset(seed);
    if (rec) {
      // phase: controller ticks half a period after the recorder's (the recorder started at a multiple of P)
      const now = clock.now();
      clock.advanceTo(Math.ceil((now - P / 2) / P) * P + P / 2);
    }
    const bridge = createRosBridge(spec, this.o.server.url, clock);
    const logs: { at: number; line: string }[] = [];
    const log = (line: string): void => void logs.push({ at: clock.now(), line });
    bridge.on("log", log);
    const controller = new DeployController({
      policy,
      bridge,
      safety: new SafetyLayer(slotLimits(ri.robot), spec.safety, spec.control_hz),
      clock,
      watchdogMs: spec.safety.watchdog_ms,
      maxCommandAgeMs: spec.max_age_ms.joint_states,
      ...(this.o.obsSteps !== undefined && { obsSteps: this.o.obsSteps }),
      ...(this.o.actionSteps !== undefined && { actionSteps: this.o.actionSteps }),
      ...(language && { language }),
      log,
    });
    let ticks = 0;
    controller.onStatus(() => void ticks++);
    // message counters are cumulative over episodes: count this episode's from here
    const robotBase = robot.commandMessages;
    const tapBase = rec?.tapMessages() ?? 0;
    const T = clock.now();
    controller.start(seed);
    const clients = rec ? [bridge, rec.bridge] : [bridge];
    let last: StepResult | null = null;
    let ticksWithoutCommand = 0;
    try {
      await this.primeSubscriptions(clients);
      await afterConnect?.();
      const maxPeriods = Math.round(robot.env.scenario.time_limit_s * spec.control_hz) + 5;
      for (let k = 0; ; k++) {
        if (k > maxPeriods) throw new Error(`seed ${seed}: the env did not finish within ${maxPeriods} periods`);
        const ck = T + (k + 1) * P;
        clock.advanceTo(ck, { inclusive: false }); // 1. the recorder's tick of the previous period, if any
        if (rec && k === 0 && !rec.source.start(`seed ${seed}`))
          throw new Error(`recorder did not start: ${rec.source.status.reason}`);
        const r = robot.step(); // 2. one period with the latest targets
        if (r) last = r;
        if (r && (r.done || stop?.(r) === true)) break;
        await this.publish(clients); // 3. o[k] to every client
        const sentBefore = controller.status.commandsSent;
        const ticksBefore = ticks;
        if (clock.nextDue() !== ck)
          throw new Error(`no controller tick due at ${ck} (next timer at ${clock.nextDue()})`);
        clock.advanceTo(ck);
        await until(`controller tick ${k}`, () => ticks > ticksBefore && clock.pending > 0);
        const sent = controller.status.commandsSent;
        if (sent === sentBefore && robot.hasCommand) ticksWithoutCommand++;
        const msgs = this.msgsPerCommand * sent;
        await until(`command ${k} at the robot`, () => robot.commandMessages - robotBase >= msgs);
        if (rec) await until(`command ${k} at the recorder`, () => rec.tapMessages() - tapBase >= msgs);
      }
    } finally {
      controller.close();
    }
    if (rec) rec.source.stop(last?.success ?? false, `seed ${seed} done`);
    // what the policy asked for vs what the robot applied, step by step
    const changedSlots: Record<string, number> = {};
    let changedSteps = 0;
    let maxChange = 0;
    let lastArmChangeStep = -1;
    robot.applied.forEach((applied, k) => {
      const want = policy.rows[k];
      let changed = false;
      for (let i = 0; i < ACTION_DIM; i++) {
        const d = want === undefined ? Infinity : Math.abs((applied[i] as number) - (want[i] as number));
        if (d > 0) {
          changed = true;
          const name = SLOT_NAMES[i] as string;
          changedSlots[name] = (changedSlots[name] ?? 0) + 1;
          maxChange = Math.max(maxChange, d);
          if (!name.endsWith("_gripper")) lastArmChangeStep = k;
        }
      }
      if (changed) changedSteps++;
    });
    const s = controller.status;
    return {
      seed,
      success: last?.success ?? false,
      steps: robot.applied.length,
      holder: String(last?.info.holder ?? "none"),
      instruction: String(last?.info.instruction ?? ""),
      namedHand: String(last?.info.named_hand ?? "any"),
      turns: Number(last?.info.turns ?? 0),
      commandsSent: s.commandsSent,
      clamped: s.clamped,
      clampedSlots: s.clampedSlots,
      ticksWithoutCommand,
      changedSteps,
      changedSlots,
      maxChange,
      lastArmChangeStep,
      logs,
      wallS: (performance.now() - wall0) / 1000,
    };
  }
}
