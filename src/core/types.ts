// Shared types that cross domains (sim ↔ runner ↔ policy ↔ bridge ↔ data).

/** An RGB camera image, row-major HWC uint8 (`data.length = height·width·3`). */
export interface CameraFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * What a policy sees at one control step.
 * `state`: Ds = 16 measured joint positions [left q1..q7, left gripper opening, right q1..q7, right gripper opening]
 * (radians; gripper in metres per finger, 0–0.04).
 */
export interface Observation {
  /** Seconds since the episode started. */
  time: number;
  state: Float32Array;
  /** Camera name → frame. Empty when cameras are disabled. */
  images: Record<string, CameraFrame>;
  /**
   * Privileged scene state (a simulator's object poses, named by `Env.environmentNames`); absent on a real robot.
   * Recorded as `observation.environment_state`: the target of the scene auxiliary loss, and read at run time only by
   * privileged policies (policy config `observeScene`, simulation only); other policies never read it.
   */
  environmentState?: Float32Array;
  /** Mono sound of the control period that ended at `time`, at AUDIO_SAMPLE_RATE (16 kHz); absent without audio. */
  audio?: Float32Array;
  /**
   * What the episode asks, in words (the simulator's task instruction, recorded as the LeRobot `task`); read by
   * language-conditioned policies only. Absent where nobody gave one.
   */
  instruction?: string;
  /** A picture of the episode's task done (a camera frame); read by goal-conditioned policies only. */
  goal?: CameraFrame;
  /**
   * The unit-norm CLIP image embedding of a picture of the episode's task done (or a prior's sample of one, from the
   * instruction); read by goal-embedding policies (policy config `goal.embedding`) only.
   */
  goalEmbedding?: Float32Array;
}

/**
 * A chunk of future joint targets. `actions: Tp,Da` row-major (Da = 16), absolute joint targets.
 *
 * Timeline (To = 2, Tp = 10, Ta = 8):
 *   obs:     o[t-1] o[t]
 *   actions:        a[t] a[t+1] … a[t+9]
 *   execute:        a[t] … a[t+7], then plan again from o[t+8]
 */
export interface ActionChunk {
  actions: Float32Array;
  /** Tp: number of steps in the chunk. */
  horizon: number;
  /** Da: numbers per step. */
  dim: number;
}

/** Anything that maps observation history to an action chunk: the diffusion policy, a scripted expert, a replay. */
export interface Policy {
  /**
   * Observations the policy wants in `history` (default 2): To, or more for one that hears (the sound of every
   * control period since, which the last To observations alone do not carry).
   */
  readonly historySteps?: number;
  /** `history`: the last `historySteps` observations, oldest first. */
  predictChunk(history: readonly Observation[]): Promise<ActionChunk>;
  /** Forget internal state at an episode boundary. */
  reset(seed: number): void;
}

/** Per-feature statistics (elementwise over the feature's vector), computed once at dataset write time. */
export interface FeatureStats {
  min: number[];
  max: number[];
  mean: number[];
  std: number[];
  count: number;
}

/** Feature key → its statistics. */
export type Stats = Record<string, FeatureStats>;

/** Per-step facts an environment reports besides the observation (for metrics, datasets and the viewer). */
export type StepInfo = Record<string, number | string | boolean>;

/** What `Env.step` returns. */
export interface StepResult {
  observation: Observation;
  /** Episode over: success, or the time limit reached. */
  done: boolean;
  success: boolean;
  reward?: number;
  info: StepInfo;
}

/** An environment stepped at the control rate: simulation or a real robot. */
export interface Env {
  /** Control rate (Hz): one `step` per 1/controlHz seconds. */
  readonly controlHz: number;
  /** Camera names, in the order datasets and policies use. */
  readonly cameras: readonly string[];
  /** Names of the entries of `Observation.environmentState`; undefined when the env has none. */
  readonly environmentNames?: readonly string[];
  reset(seed: number): Observation;
  /** `action`: Da = 16 absolute joint targets. */
  step(action: Float32Array): StepResult;
}
