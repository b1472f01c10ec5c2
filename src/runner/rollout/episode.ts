// One episode of a policy in an env: observation history in, action chunks out, receding horizon.
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
  /** Wall-clock seconds for the episode. */
  wall_s: number;
}

/** Called after every control step with what went in and what came out. */
export type StepHook = (step: number, observation: Observation, action: Float32Array, result: StepResult) => void;

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
}

/**
 * Run one episode: reset env and policy with `seed`, then plan a chunk from the last To observations, execute its
 * first Ta actions, repeat until the env says done.
 *
 *   obs:     o[t-1] o[t]
 *   chunk:          a[t] … a[t+Tp-1]   → execute a[t] … a[t+Ta-1], then plan from o[t+Ta]
 */
export async function runEpisode(
  env: Env,
  policy: Policy,
  seed: number,
  options: RolloutOptions = {},
): Promise<EpisodeOutcome> {
  const start = performance.now();
  const To = options.obsHorizon ?? policy.historySteps ?? 2;
  let observation = env.reset(seed);
  policy.reset(seed);
  const history: Observation[] = Array.from({ length: To }, () => observation);
  let steps = 0;
  for (;;) {
    const chunk = await policy.predictChunk(history);
    const Ta = Math.min(options.actionHorizon ?? chunk.horizon, chunk.horizon);
    if (Ta < 1) throw new DuetError(`policy returned an empty action chunk (horizon ${chunk.horizon})`);
    for (let k = 0; k < Ta; k++) {
      const action = chunk.actions.subarray(k * chunk.dim, (k + 1) * chunk.dim);
      const last = env.step(action);
      options.onStep?.(steps, observation, action, last);
      steps++;
      observation = last.observation;
      history.shift();
      history.push(observation);
      if (last.done) {
        return {
          seed,
          success: last.success,
          steps,
          holder: String(last.info.holder ?? "none"),
          turns: Number(last.info.turns ?? 0),
          task: String(last.info.task ?? "unscrew"),
          named_hand: String(last.info.named_hand ?? "any"),
          wall_s: (performance.now() - start) / 1000,
        };
      }
    }
  }
}
