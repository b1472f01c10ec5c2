// data: demonstration datasets in the LeRobot v3.0 layout — write (crash-safe), read for training, validate, export.
export { DatasetWriter, EPISODES_PER_META_FILE } from "./writer.ts";
export type { DatasetWriterOptions } from "./writer.ts";
export { EpisodeBuilder } from "./episode.ts";
export type { EpisodeRecord, EpisodeOutcome } from "./episode.ts";
export { Dataset, DamagedDataFile } from "./dataset.ts";
export type { OpenDatasetOptions, EpisodeFrames } from "./dataset.ts";
export { WindowSampler, splitEpisodes } from "./windows.ts";
export type { WindowOptions, WindowBuffers } from "./windows.ts";
export { validateDataset, formatProblem, TIMESTAMP_TOLERANCE_S } from "./validate.ts";
export type { ValidationReport, ValidateOptions, Problem } from "./validate.ts";
export { mergeDatasets } from "./merge.ts";
export type { MergeOptions, MergeResult } from "./merge.ts";
export { exportZarr, readZarrArray } from "./zarr.ts";
export type { ExportResult, ZarrArray } from "./zarr.ts";
export {
  CODEBASE_VERSION,
  DEFAULT_DATA_PATH,
  DEFAULT_VIDEO_PATH,
  DEFAULT_EPISODES_PATH,
  INFO_PATH,
  STATS_PATH,
  TASKS_PATH,
  datasetSpecSchema,
  featuresFromSpec,
  compareFeatures,
  formatPath,
} from "./info.ts";
export type { DatasetInfo, DatasetScenario, DatasetSpec, Feature, Features } from "./info.ts";
export type { EpisodeMeta } from "./episodes.ts";
export { QUANTILES, aggregateStats, vectorStats } from "./stats.ts";
export type { DatasetFeatureStats, DatasetStats } from "./stats.ts";
export { nodeFs } from "./fs.ts";
export type { DatasetFs } from "./fs.ts";
