// One episode of a policy in an env: observation history in, action chunks out, receding horizon. The one chunk loop:
// evaluation (`runEpisode`), recording and a recording's lead-in (record-episode.ts) all play through `playEpisode`.
import { DuetError, type Env, type Observation, type Policy, type StepResult } from "../../core/index.ts";

/** What one episode produced. */
export interface EpisodeOutcome {
  seed: number;
  success: boolean;
  /** Control steps taken. */
  steps: number;
  /** Which arm held the bottle ("left", "right", or "none"). */
  holder: string;
  /** Loosening turns of the cap at the end. */
  turns: number;
  /** The episode's task ("unscrew", "lift", "handover") and the hand its instruction named ("any" if none). */
  task: string;
  named_hand: string;
  /** The grasp model drawn for the episode, where the scenario draws one (`grasp.model` weights). */
  grasp?: string;
  /**
   * Goal-conditioned policies: where the episode's goal came from — the scripted expert's last frame of the same
   * episode, a --goal PNG, or a --prior's sample from the instruction.
   */
  goal?: GoalOrigin;
  /** Wall-clock seconds for the episode. */
  wall_s: number;
}

/** Where a goal-conditioned policy's goal came from (EpisodeOutcome.goal). */
export type GoalOrigin = "expert-frame" | "png" | "prior";

/** Called after every control step with what went in and what came out. */
export type StepHook = (step: number, observation: Observation, action: Float32Array, result: StepResult) => void;

/** Thrown by an episode whose abort signal fired (Ctrl-C, or its pool stopping); the episode is dropped. */
export class EpisodeAborted extends Error {
  constructor() {
    super("episode aborted");
  }
}

/** Options for `runEpisode`. */
export interface RolloutOptions {
  /**
   * Observations passed to the policy (default: the policy's historySteps, else 2). The first observation is repeated
   * to fill the history.
   */
  obsHorizon?: number;
  /** Ta: actions executed from each chunk before planning again (default: the whole chunk). */
  actionHorizon?: number;
  onStep?: StepHook;
  /**
   * Abort: the episode rejects with EpisodeAborted before its next step. With a signal, each chunk first yields to the
   * event loop: a policy that answers at once (the scripted expert) would otherwise never let an abort arrive.
   */
  signal?: AbortSignal;
}

/** Options for `playEpisode`: `runEpisode`'s, and where the episode starts and stops. */
export interface PlayOptions extends RolloutOptions {
  /**
   * The observation the episode starts from when the env is already there (after a lead-in): the env is not reset;
   * the policy still is, with the seed. Default: `env.reset(seed)`.
   */
  from?: Observation;
  /** Stop after this many steps even if the env has not said done. Default: until done. */
  stepLimit?: number;
}

/** Where an episode stopped: after `steps` steps, the last one's result (none if no step was taken). */
export interface PlayedEpisode {
  steps: number;
  last: StepResult | undefined;
  /** The observation it stopped at. */
  observation: Observation;
}

/**
 * Play one episode: reset env (unless `from`) and policy with `seed`, then plan a chunk from the last To observations,
 * execute its first Ta actions, repeat until the env says done or `stepLimit` steps were taken.
 *
 *   obs:     o[t-1] o[t]
 *   chunk:          a[t] … a[t+Tp-1]   → execute a[t] … a[t+Ta-1], then plan from o[t+Ta]
 */
export async function playEpisode(
  env: Env,
  policy: Policy,
  seed: number,
  options: PlayOptions = {},
): Promise<PlayedEpisode> {
  const { signal } = options;
  const To = options.obsHorizon ?? policy.historySteps ?? 2;
  const limit = options.stepLimit ?? Infinity;
  let observation = options.from ?? env.reset(seed);
  policy.reset(seed);
  const history: Observation[] = Array.from({ length: To }, () => observation);
  let steps = 0;
  let last: StepResult | undefined;
  while (steps < limit) {
    if (signal) await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new EpisodeAborted();
    const chunk = await policy.predictChunk(history);
    const Ta = Math.min(options.actionHorizon ?? chunk.horizon, chunk.horizon);
    if (Ta < 1) throw new DuetError(`policy returned an empty action chunk (horizon ${chunk.horizon})`);
    for (let k = 0; k < Ta && steps < limit; k++) {
      if (signal?.aborted) throw new EpisodeAborted();
      const action = chunk.actions.subarray(k * chunk.dim, (k + 1) * chunk.dim);
      last = env.step(action);
      options.onStep?.(steps, observation, action, last);
      steps++;
      observation = last.observation;
      history.shift();
      history.push(observation);
      if (last.done) return { steps, last, observation };
    }
  }
  return { steps, last, observation };
}

/** Play one episode to its end (see `playEpisode`) and report how it went. */
export async function runEpisode(
  env: Env,
  policy: Policy,
  seed: number,
  options: RolloutOptions = {},
): Promise<EpisodeOutcome> {
  const start = performance.now();
  const { steps, last } = await playEpisode(env, policy, seed, options);
  const info = (last as StepResult).info;
  return {
    seed,
    success: (last as StepResult).success,
    steps,
    holder: String(info.holder ?? "none"),
    turns: Number(info.turns ?? 0),
    task: String(info.task ?? "unscrew"),
    named_hand: String(info.named_hand ?? "any"),
    ...(info.grasp !== undefined && { grasp: String(info.grasp) }),
    wall_s: (performance.now() - start) / 1000,
  };
}

/**
 * A job made ready to play (its env and policy built once, reused across episodes): call it with a seed to play that
 * episode. `cancel()` ends the episode in progress before its next step, and every later one at once (they reject
 * with EpisodeAborted; an inference already running finishes first); `close()` releases the policy's onnxruntime
 * sessions.
 */
export type EpisodeRunner<R> = ((seed: number) => Promise<R>) & { cancel(): void; close(): Promise<void> };
