// The simulated bimanual environment: reset(seed) → Observation, step(action) → StepResult, at the control rate.
import {
  ACTION_DIM,
  ARMS,
  ARM_DOF,
  AUDIO_SAMPLE_RATE,
  DuetError,
  Rng,
  SLOTS_PER_ARM,
  SLOT_NAMES,
  armOffset,
  type Arm,
  type CameraFrame,
  type Env,
  type Observation,
  type StepResult,
} from "../core/index.ts";
import { drawAppearance } from "./appearance.ts";
import { ContactAudio } from "./audio.ts";
import { ENVIRONMENT_NAMES, environmentState } from "./environment-state.ts";
import { GRASP_MODELS, type GraspModel, type GraspWeights, type Scenario } from "./scenario.ts";
import { drawTask, taskFor, taskSuccess, type EpisodeTask, type ScoredAs } from "./tasks.ts";
import { BimanualWorld, type EpisodeParams } from "./world.ts";

/**
 * The episode's grasp model: a fixed one, or one drawn by weight. Takes one draw either way (the last of the episode
 * parameters' stream), so the bottle's pose and the cap's tightness are drawn alike whatever `grasp.model` is.
 */
function drawGrasp(model: GraspModel | GraspWeights, rng: Rng): GraspModel {
  const u = rng.next();
  if (typeof model === "string") return model;
  const listed = GRASP_MODELS.filter((m) => model[m] !== undefined);
  let pick = u * listed.reduce((sum, m) => sum + model[m]!, 0);
  return listed.find((m) => (pick -= model[m]!) < 0) ?? listed[listed.length - 1]!;
}

/** Renders the scenario's cameras for a world; injected so physics-only runs skip rendering. */
export interface EnvCameras {
  readonly names: readonly string[];
  render(world: BimanualWorld): Record<string, CameraFrame>;
}

/** Options for `SimEnv`. */
export interface SimEnvOptions {
  /** Camera renderer (default: none, observations carry no images). */
  cameras?: EnvCameras;
  /**
   * Std (rad) of a tracking error added to every target of joints 1–6 of both arms (default: the scenario's
   * `actuation.tracking_noise`, else 0): a slowly varying error (AR(1), correlation 0.8 per control step, so ≈ 5
   * steps — about what a policy executes of one chunk), drawn from the episode's seed. Recording the scripted expert
   * with it is DART (Laskey et al. 2017): the expert computes each command from its own last command, never from the
   * measured joints, so the recorded actions lead back to its path from the states the error pushed the arm into —
   * corrections from states a policy's own errors lead to.
   * Measured: a state-only policy trained on such data did worse than without (docs/experiments), and the expert
   * itself tolerates only ≈ 0.002 rad (scripts/expert-tolerance.ts --actuation).
   */
  actuationNoise?: number;
  /** Synthesise contact sound (`Observation.audio`, 16 kHz; see ContactAudio). Default false. */
  audio?: boolean;
  /**
   * Every episode asks this instead of drawing its task: one of a multi-task scenario's phrasings, or any text when
   * `scoredAs` says how to score it (see taskFor).
   */
  instruction?: string;
  /** With `instruction`: score every episode as this task and hand, whatever the instruction's words. */
  scoredAs?: ScoredAs;
}

/** Per-step correlation of the actuation error (see SimEnvOptions.actuationNoise). */
const ACTUATION_CORRELATION = 0.8;
/** Joints 1–6 of each arm get the actuation error; joint 7 only turns the tool about its axis. */
const NOISY_JOINTS = ARM_DOF - 1;

/** Thrown for an action that cannot be executed: wrong length or a non-finite number. */
export class ActionError extends DuetError {
  override name = "ActionError";
}

/**
 * Simulation of the bottle-cap scenarios. Actions are 16 absolute joint targets; targets beyond a joint's limits or
 * the gripper's range are clamped to the limit (documented behaviour: a position-controlled arm cannot go further),
 * and `info.clamped` counts the clamped slots of that step. NaN/Inf or a wrong length throws `ActionError`.
 */
export class SimEnv implements Env {
  readonly controlHz: number;
  readonly cameras: readonly string[];
  readonly environmentNames = ENVIRONMENT_NAMES;
  private w: BimanualWorld | null = null;
  private steps = 0;
  private holder: Arm | "none" = "none";
  private readonly substeps: number;
  private readonly maxSteps: number;
  private readonly lower: Float64Array;
  private readonly upper: Float64Array;
  private readonly maxOpening: number;
  private readonly actuation = new Float64Array(ACTION_DIM);
  private actuationRng = new Rng(0);
  /** Std (rad) of the tracking error: the option's, else the scenario's. */
  private readonly trackingNoise: number;
  /** Physics steps from a command to the joints taking it up (scenario actuation.delay_s). */
  private readonly delaySteps: number;
  /**
   * The commands not yet taken up, and the one in force: a ring of `ACTION_DIM` targets per control step, command k
   * in slot k mod its length. Command k is taken up at physics step k·substeps + delaySteps, so with no delay it is
   * taken up before the first physics step of its own control step, as a command always was.
   */
  private readonly commands: Float64Array;
  private audio: ContactAudio | null = null;

  /** Whether observations carry sound (SimEnvOptions.audio). */
  get hears(): boolean {
    return this.options.audio === true;
  }
  private episodeTask: EpisodeTask | null = null;
  private readonly fixedTask: EpisodeTask | null;

  constructor(
    readonly scenario: Scenario,
    private readonly options: SimEnvOptions = {},
  ) {
    this.controlHz = scenario.control_hz;
    this.cameras = options.cameras?.names ?? [];
    this.substeps = Math.round(scenario.physics_hz / scenario.control_hz);
    this.maxSteps = Math.round(scenario.time_limit_s * scenario.control_hz);
    const robot = scenario.robotDescription;
    this.lower = Float64Array.from(robot.joints, (j) => j.lower);
    this.upper = Float64Array.from(robot.joints, (j) => j.upper);
    this.maxOpening = robot.gripper.max_opening;
    if (options.scoredAs && options.instruction === undefined) {
      throw new DuetError("SimEnv: scoredAs says how to score an instruction; give the instruction too");
    }
    this.fixedTask =
      options.instruction !== undefined ? taskFor(scenario, options.instruction, options.scoredAs) : null;
    if (options.audio && AUDIO_SAMPLE_RATE % scenario.control_hz !== 0) {
      throw new DuetError(
        `${scenario.file}: control_hz ${scenario.control_hz} does not divide the audio rate ${AUDIO_SAMPLE_RATE} Hz, so ` +
          `control periods would not hold a whole number of samples; use a rate such as 10, 20 or 50 Hz, or no audio`,
      );
    }
    const n = options.actuationNoise ?? scenario.actuation?.tracking_noise ?? 0;
    if (!(Number.isFinite(n) && n >= 0)) throw new DuetError(`SimEnv: actuationNoise ${n}; expected a std ≥ 0 (rad)`);
    this.trackingNoise = n;
    this.delaySteps = Math.round((scenario.actuation?.delay_s ?? 0) * scenario.physics_hz);
    this.commands = new Float64Array((Math.floor(this.delaySteps / this.substeps) + 1) * ACTION_DIM);
  }

  /** The physics world of the current episode (privileged state for the scripted expert, replays and tests). */
  get world(): BimanualWorld {
    if (!this.w) throw new DuetError("SimEnv: call reset(seed) before using the environment");
    return this.w;
  }

  /** The current episode's task and instruction (drawn by `reset` from the seed; see sim/tasks.ts). */
  get task(): EpisodeTask {
    if (!this.episodeTask) throw new DuetError("SimEnv: call reset(seed) before asking for the task");
    return this.episodeTask;
  }

  /** Episode parameters drawn from the scenario's ranges by `seed` (the appearance on a stream of its own). */
  static drawParams(scenario: Scenario, seed: number): EpisodeParams {
    const rng = new Rng(seed);
    const b = scenario.bottle;
    return {
      bottleX: rng.uniform(b.x[0], b.x[1]),
      bottleY: rng.uniform(b.y[0], b.y[1]),
      bottleYaw: rng.uniform(b.yaw[0], b.yaw[1]),
      frictionTorque: rng.uniform(scenario.cap.friction_torque[0], scenario.cap.friction_torque[1]),
      grasp: drawGrasp(scenario.grasp.model, rng),
      appearance: drawAppearance(scenario, seed),
    };
  }

  reset(seed: number): Observation {
    this.w = new BimanualWorld(this.scenario, SimEnv.drawParams(this.scenario, seed));
    this.episodeTask = this.fixedTask ?? drawTask(this.scenario, seed);
    this.steps = 0;
    this.holder = "none";
    this.actuation.fill(0);
    this.actuationRng = new Rng((seed ^ 0x5bd1e995) >>> 0);
    this.audio = this.options.audio ? new ContactAudio(seed, this.w.dt, this.controlHz) : null;
    return this.observe();
  }

  step(action: Float32Array | Float64Array): StepResult {
    const w = this.world;
    if (action.length !== ACTION_DIM) {
      throw new ActionError(
        `action: expected ${ACTION_DIM} joint targets [${SLOT_NAMES.join(", ")}], received ${action.length}`,
      );
    }
    const bad: string[] = [];
    for (let i = 0; i < ACTION_DIM; i++) if (!Number.isFinite(action[i]!)) bad.push(`${SLOT_NAMES[i]}=${action[i]}`);
    if (bad.length > 0) throw new ActionError(`action: expected finite numbers, received ${bad.join(", ")}`);
    let clamped = 0;
    this.driftActuation();
    // this step's command, into its slot of the ring (taken up by takeUpCommand when it falls due)
    const slot = (this.steps % (this.commands.length / ACTION_DIM)) * ACTION_DIM;
    for (const arm of ARMS) {
      const o = armOffset(arm);
      for (let j = 0; j < ARM_DOF; j++) {
        const v = action[o + j]! + this.actuation[o + j]!;
        const c = Math.min(this.upper[j]!, Math.max(this.lower[j]!, v));
        if (c !== v) clamped++;
        this.commands[slot + o + j] = c;
      }
      const g = action[o + ARM_DOF]!;
      const gc = Math.min(this.maxOpening, Math.max(0, g));
      if (gc !== g) clamped++;
      this.commands[slot + o + ARM_DOF] = gc;
    }
    for (let s = 0; s < this.substeps; s++) {
      this.takeUpCommand(this.steps * this.substeps + s);
      w.step();
      this.audio?.afterPhysicsStep(w);
    }
    this.steps++;
    let held = false;
    for (const arm of ARMS) {
      if (w.arms[arm].gripper.holding !== w.bottle) continue;
      held = true;
      if (this.holder === "none") this.holder = arm;
    }
    const released = w.thread.released;
    const capDistance = w.capDistanceFromSeat();
    const success = taskSuccess(this.task.task, this.scenario, w, this.holder);
    const timeout = this.steps >= this.maxSteps;
    return {
      observation: this.observe(),
      done: success || timeout,
      success,
      reward: success ? 1 : 0,
      info: {
        holder: this.holder,
        turns: w.thread.turns,
        released,
        bottle_held: held,
        cap_distance: capDistance,
        task: this.task.task,
        named_hand: this.task.hand ?? "any",
        ...(this.scenario.tasks && { instruction: this.task.instruction }),
        ...(typeof this.scenario.grasp.model === "object" && { grasp: w.params.grasp }),
        clamped,
        step: this.steps,
      },
    };
  }

  /**
   * Before physics step `n`: if a command falls due now (command k at k·substeps + delaySteps), it becomes the arms'
   * targets. Until the first one does, the arms hold the targets they were reset with.
   */
  private takeUpCommand(n: number): void {
    const since = n - this.delaySteps;
    if (since < 0 || since % this.substeps !== 0) return;
    const slots = this.commands.length / ACTION_DIM;
    const base = ((since / this.substeps) % slots) * ACTION_DIM;
    for (const arm of ARMS) {
      const a = this.world.arms[arm];
      const o = base + armOffset(arm);
      for (let j = 0; j < ARM_DOF; j++) a.target[j] = this.commands[o + j]!;
      a.gripper.target = this.commands[o + ARM_DOF]!;
    }
  }

  /** Advance the actuation error one control step (stationary AR(1) with the configured std). */
  private driftActuation(): void {
    const std = this.trackingNoise;
    if (std === 0) return;
    const r = ACTUATION_CORRELATION;
    const fresh = std * Math.sqrt(1 - r * r);
    const first = this.steps === 0;
    for (const arm of ARMS) {
      const o = armOffset(arm);
      for (let j = 0; j < NOISY_JOINTS; j++) {
        const e = this.actuationRng.normal();
        this.actuation[o + j] = first ? std * e : r * this.actuation[o + j]! + fresh * e;
      }
    }
  }

  private observe(): Observation {
    const w = this.world;
    const state = new Float32Array(ACTION_DIM);
    for (const arm of ARMS) {
      const a = w.arms[arm];
      const o = armOffset(arm);
      for (let j = 0; j < ARM_DOF; j++) state[o + j] = a.q[j]!;
      state[o + SLOTS_PER_ARM - 1] = a.gripper.opening;
    }
    return {
      time: this.steps / this.controlHz,
      state,
      images: this.options.cameras ? this.options.cameras.render(w) : {},
      environmentState: environmentState(w),
      ...(this.audio && { audio: this.audio.take() }),
      instruction: this.task.instruction,
    };
  }
}
