// Evaluation: a SimJob's episodes over seeds through the episode pool → their outcomes, in seed order.
import type { EpisodeOutcome } from "./episode.ts";
import { playSeeds } from "./pool.ts";
import type { SimJob } from "./sim-job.ts";

/** Options for `runEpisodes`. */
export interface EvaluateOptions {
  /** Worker threads (default 1: run in this thread). */
  workers?: number;
  /** Called as each episode finishes (in completion order). */
  onEpisode?: (outcome: EpisodeOutcome) => void;
}

/**
 * Run one episode per seed. The first error (an episode's, or a worker's own) stops every episode in hand at its next
 * step; it leaves as a DuetError naming the seed once every worker has released its sessions and ended.
 */
export async function runEpisodes(
  job: SimJob,
  seeds: readonly number[],
  options: EvaluateOptions = {},
): Promise<EpisodeOutcome[]> {
  const outcomes: EpisodeOutcome[] = [];
  const played = playSeeds({ kind: "evaluate", sim: job }, seeds, {
    ...(options.workers !== undefined && { workers: options.workers }),
    ...(options.onEpisode && { onResult: (_seed: number, outcome: EpisodeOutcome) => options.onEpisode?.(outcome) }),
    onFailure: "at-once",
  });
  for await (const { result } of played) outcomes.push(result);
  return outcomes;
}
