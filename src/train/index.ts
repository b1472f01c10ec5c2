// train: the one training loop (any policy config, any dataset), its config schema, batches and the curves plot;
// CLIP-style text–image training with its retrieval evaluation, sound bound to its images, and the prior from its
// text embeddings to its image embeddings.
export { train } from "./trainer.ts";
export { CHECKPOINT_FILE } from "./run-dir.ts";
export { FEATURES_FILE } from "./frozen-observer.ts";
export type { DistilledFrom } from "./run-dir.ts";
export type { TrainOptions, TrainResult, TrainEvent, Evaluator } from "./trainer.ts";
export { trainConfigSchema, trainSettingsSchema, datasetExpectationSchema, loadTrainConfig } from "./config.ts";
export type { TrainConfig, TrainConfigInput, TrainSettings } from "./config.ts";
export { BatchAssembler } from "./batch.ts";
export type { BatchOptions } from "./batch.ts";
export { plotCurves } from "./plot.ts";
export type { Curves } from "./plot.ts";
export { DEFAULT_CLIP_TEXT, trainTextImage } from "./text-image.ts";
export type { TextImageOptions, RetrievalResult, InstructionMeaning } from "./text-image.ts";
export { trainAudioImage } from "./audio-image.ts";
export { fitPrior, trainPrior } from "./prior.ts";
export type { FittedPrior, PriorFitOptions, PriorOptions, PriorResult } from "./prior.ts";
export type { AudioImageOptions, AudioRetrievalResult } from "./audio-image.ts";
