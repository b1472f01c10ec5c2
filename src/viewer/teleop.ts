// Teleoperation: the page moves each gripper's target; here inverse kinematics turns targets into the 16 joint
// targets a SimEnv steps with at its control rate, and every step is recorded into a dataset by the same Recorder as
// `duet record`'s. The sim waits for the first command of each episode.
import { ACTION_DIM, ARMS, ARM_DOF, DuetError, armOffset, type Arm, type Observation } from "../core/index.ts";
import {
  ArmKinematics,
  createEnv,
  loadScenario,
  newPose,
  poseFromQuaternion,
  poseQuaternion,
  type SimEnv,
} from "../sim/index.ts";
import { Recorder, envSpec } from "../runner/record/index.ts";
import type { ServerMessage, TeleopTarget } from "./protocol.ts";

/** Options for teleoperation. */
export interface TeleopOptions {
  /** Dataset folder the episodes are recorded into. */
  out: string;
  /** Scenario file. */
  scenario: string;
  /** Base seed: the dataset's episode k is reset with seed + k (as `duet record`). Default 0. */
  seed?: number;
  /** Append to an existing dataset. Default false. */
  resume?: boolean;
  /** Task stored with every episode. Default "unscrew the bottle cap". */
  task?: string;
  /** Render the scenario's cameras into the dataset. Default true. */
  cameras?: boolean;
}

/** One teleoperation session: one env, one recorder and its episode in progress. Not re-entrant. */
export class TeleopSession {
  private readonly kin: Record<Arm, ArmKinematics>;
  private readonly targets: Record<Arm, TeleopTarget>;
  private readonly solution: Record<Arm, Float64Array>;
  private readonly home: Record<Arm, Float64Array>;
  private readonly action = new Float32Array(ACTION_DIM);
  private readonly goal = newPose();
  private observation: Observation;
  private seed = 0;
  private steps = 0;
  private armed = false;
  private timer: NodeJS.Timeout | null = null;
  private holder = "";

  private constructor(
    private readonly options: TeleopOptions,
    private readonly env: SimEnv,
    private readonly recorder: Recorder,
    private readonly send: (message: ServerMessage) => void,
  ) {
    const robot = env.scenario.robotDescription;
    this.kin = { left: new ArmKinematics(robot, "left"), right: new ArmKinematics(robot, "right") };
    this.home = {
      left: Float64Array.from(robot.arms.left.home),
      right: Float64Array.from(robot.arms.right.home),
    };
    this.solution = { left: this.home.left.slice(), right: this.home.right.slice() };
    this.targets = { left: this.homeTarget("left"), right: this.homeTarget("right") };
    this.observation = this.reset();
  }

  /** Open the env and the dataset (refuses an existing dataset unless `resume`). */
  static async open(options: TeleopOptions, send: (message: ServerMessage) => void): Promise<TeleopSession> {
    const env = createEnv(loadScenario(options.scenario), { cameras: options.cameras ?? true });
    const spec = envSpec(env, env.reset(options.seed ?? 0), ACTION_DIM, {
      robotType: "duet_panda_pair",
      stateNames: undefined,
      actionNames: undefined,
    });
    const recorder = await Recorder.open(options.out, { spec, resume: options.resume ?? false });
    return new TeleopSession(options, env, recorder, send);
  }

  /** The message that (re)starts a page on the current episode. */
  beginMessage(): ServerMessage {
    return {
      type: "teleop-begin",
      seed: this.seed,
      episodes: this.recorder.datasetEpisodes,
      out: this.options.out,
      fps: this.env.controlHz,
      maxOpening: this.env.scenario.robotDescription.gripper.max_opening,
      bodies: this.env.world.specs,
      poses: Array.from(this.env.world.bodyPoses()),
      targets: { left: { ...this.targets.left }, right: { ...this.targets.right } },
    };
  }

  /** Step the sim at its control rate (steps start with the first command of an episode). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), 1000 / this.env.controlHz);
  }

  setTarget(arm: Arm, target: TeleopTarget): void {
    this.targets[arm] = target;
    this.armed = true;
  }

  /** Commit the episode in progress and begin the next one. */
  save(): void {
    if (this.recorder.frames === 0) {
      this.send({ type: "error", message: "nothing recorded yet: move a gripper target first" });
      return;
    }
    this.commit(false);
  }

  /** Drop the episode in progress and begin it again (same seed). */
  discard(): void {
    this.recorder.discard();
    this.observation = this.reset();
    this.send(this.beginMessage());
  }

  /** Stop stepping and release the dataset (the episode in progress is not committed). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.recorder.close();
  }

  /** One control step: IK for both arms, step the env, record the frame. */
  tick(): void {
    if (!this.armed) return;
    const a = this.action;
    for (const arm of ARMS) {
      const t = this.targets[arm];
      quaternionToPose(t.quaternion, t.position, this.goal);
      const ik = this.kin[arm].solveIk(this.goal, this.solution[arm], { iterations: 60, rest: this.home[arm] });
      this.solution[arm].set(ik.q);
      const o = armOffset(arm);
      for (let j = 0; j < ARM_DOF; j++) a[o + j] = ik.q[j]!;
      a[o + ARM_DOF] = t.gripper;
    }
    let result;
    try {
      result = this.env.step(a);
    } catch (e) {
      this.send({ type: "error", message: (e as Error).message });
      return;
    }
    this.recorder.addFrame(this.observation, a);
    this.observation = result.observation;
    this.steps++;
    if (this.holder === "" && (result.info.holder === "left" || result.info.holder === "right")) {
      this.holder = result.info.holder;
    }
    const tcp = { left: [] as number[], right: [] as number[] };
    const ikError = { left: 0, right: 0 };
    for (const arm of ARMS) {
      const k = this.kin[arm];
      k.forward(this.solution[arm]);
      tcp[arm] = [k.tcp[9]!, k.tcp[10]!, k.tcp[11]!];
      const p = this.targets[arm].position;
      ikError[arm] = Math.hypot(p[0] - k.tcp[9]!, p[1] - k.tcp[10]!, p[2] - k.tcp[11]!);
    }
    this.send({
      type: "teleop-frame",
      step: this.steps,
      poses: Array.from(this.env.world.bodyPoses()),
      state: Array.from(this.observation.state),
      tcp,
      ikError,
    });
    if (result.done) this.commit(result.success);
  }

  private commit(success: boolean): void {
    const meta = this.recorder.commit({
      task: this.options.task ?? "unscrew the bottle cap",
      success,
      mode: this.holder,
      seed: this.seed,
    });
    this.send({
      type: "teleop-saved",
      episode: meta.episodeIndex,
      frames: meta.length,
      success,
      out: this.options.out,
    });
    this.observation = this.reset();
    this.send(this.beginMessage());
  }

  /** Begin the next episode: the dataset's episode k is reset with seed + k. */
  private reset(): Observation {
    this.recorder.begin();
    this.seed = (this.options.seed ?? 0) + this.recorder.datasetEpisodes;
    this.steps = 0;
    this.armed = false;
    this.holder = "";
    for (const arm of ARMS) {
      this.solution[arm].set(this.home[arm]);
      this.targets[arm] = this.homeTarget(arm);
    }
    return this.env.reset(this.seed);
  }

  private homeTarget(arm: Arm): TeleopTarget {
    const k = this.kin[arm];
    k.forward(this.home[arm]);
    const q = new Float64Array(4);
    poseQuaternion(k.tcp, q);
    return {
      position: [k.tcp[9]!, k.tcp[10]!, k.tcp[11]!],
      quaternion: [q[0]!, q[1]!, q[2]!, q[3]!],
      gripper: this.env.scenario.robotDescription.gripper.max_opening,
    };
  }
}

/** Pose (R row-major, p) from a quaternion xyzw (normalised here) and a position. */
function quaternionToPose(q: readonly number[], p: readonly number[], out: Float64Array): void {
  const n = Math.hypot(q[0]!, q[1]!, q[2]!, q[3]!);
  if (!(n > 0)) throw new DuetError("teleop target: quaternion must not be zero");
  poseFromQuaternion(out, q[0]! / n, q[1]! / n, q[2]! / n, q[3]! / n, p[0]!, p[1]!, p[2]!);
}
