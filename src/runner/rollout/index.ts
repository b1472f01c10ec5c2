// runner/rollout: episodes in the simulator — the chunk loop, episode jobs as plain data (evaluate a policy on a seed,
// record the expert or a policy's takeover on a seed), and the one seeded pool that plays them in this thread or in
// worker threads.
export { EpisodeAborted, playEpisode, runEpisode } from "./episode.ts";
export type {
  EpisodeOutcome,
  EpisodeRunner,
  GoalOrigin,
  PlayOptions,
  PlayedEpisode,
  RolloutOptions,
  StepHook,
} from "./episode.ts";
export { runEpisodes } from "./evaluate.ts";
export type { EvaluateOptions } from "./evaluate.ts";
export { jobFiles, prepareEpisodeJob, transferables } from "./jobs.ts";
export type { EpisodeJob, EvaluateJob, JobFile, RecordJob, ResultOf } from "./jobs.ts";
export { playSeeds } from "./pool.ts";
export type { Played, PoolOptions } from "./pool.ts";
export { recordEpisode } from "./record-episode.ts";
export type { EpisodeSettings, LeadIn } from "./record-episode.ts";
export { leadSteps, recordRunner, simSource } from "./record-job.ts";
export type { RecordSimJob } from "./record-job.ts";
export { checkJob, prepareJob } from "./sim-job.ts";
export type { PreparedJob, SimJob } from "./sim-job.ts";
