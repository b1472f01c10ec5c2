// One demonstration episode: a policy acting in an env from a seed, collected into an EpisodeRecord (PNG frames).
// Played by the record job in this thread or in a worker thread (jobs.ts), so both produce the same bytes.
import { DuetError, type Env, type Observation, type Policy } from "../../core/index.ts";
import { EpisodeBuilder, type DatasetSpec, type EpisodeRecord } from "../../data/index.ts";
import { playEpisode } from "./episode.ts";

/** How episodes are played. Plain data: worker threads receive it. */
export interface EpisodeSettings {
  /** To: observations passed to the policy (the first observation repeated at the start). */
  obsSteps: number;
  /** Ta: actions executed from each chunk before planning again; undefined = the whole chunk. */
  actionsPerChunk: number | undefined;
  /** An episode running longer than this many steps is an error (the env never said done). */
  maxSteps: number;
  /** Task description stored with the episode, unless the env names the episode's own (`info.instruction`). */
  task: string;
}

/** A policy that drives the first `steps(seed)` steps of an episode, unrecorded, before the recorded policy. */
export interface LeadIn {
  policy: Policy;
  steps: (seed: number) => number;
}

/**
 * Play one episode of `policy` in `env` reset with `seed` and collect it. Frame t is the observation at step t and
 * the action taken there. With `lead`, that policy first drives the env for its steps, unrecorded, and `policy` is
 * reset after it (recording starts there: frame 0 is the observation the lead left). Throws `EpisodeAborted` when
 * `signal` fires.
 */
export async function recordEpisode(
  env: Env,
  policy: Policy,
  spec: DatasetSpec,
  seed: number,
  settings: EpisodeSettings,
  signal?: AbortSignal,
  lead?: LeadIn,
): Promise<EpisodeRecord> {
  const builder = new EpisodeBuilder(spec);
  const stops = { obsHorizon: settings.obsSteps, ...(signal && { signal }) };
  let from: Observation = env.reset(seed);
  // A lead that ends the episode within its k steps leaves nothing to take over: the episode is played again from the
  // reset with the expert taking over halfway to that end (k = 0 at worst: the expert's own episode), so every seed
  // still yields one episode and the dataset's episode i keeps seed + i.
  for (let k = lead?.steps(seed) ?? 0; lead && k > 0; from = env.reset(seed)) {
    const led = await playEpisode(env, lead.policy, seed, { ...stops, from, stepLimit: k });
    if (led.last?.done !== true) {
      from = led.observation;
      break;
    }
    k = Math.floor(led.steps / 2);
  }
  let mode = "";
  const played = await playEpisode(env, policy, seed, {
    ...stops,
    from,
    stepLimit: settings.maxSteps,
    ...(settings.actionsPerChunk !== undefined && { actionHorizon: settings.actionsPerChunk }),
    onStep: (_step, observation, action, result) => {
      builder.addFrame(observation, action);
      const m = result.info["mode"] ?? result.info["holder"];
      if (typeof m === "string" && m !== "none") mode = m;
    },
  });
  const last = played.last;
  if (last?.done !== true) {
    throw new DuetError(`episode with seed ${seed}: the env did not finish within ${settings.maxSteps} steps`);
  }
  const instruction = last.info["instruction"];
  const task = typeof instruction === "string" ? instruction : settings.task;
  return builder.finish({ task, success: last.success, mode, seed });
}
