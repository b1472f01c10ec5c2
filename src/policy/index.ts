// policy: noise schedules and samplers, normalizers, denoisers (1-D U-Net, transformer, residual MLP), the diffusion
// policy runtime, model directories, the registry that resolves denoiser names, and the prior from words to goals.
export {
  NoiseSchedule,
  schedulerConfigSchema,
  cosineAlphaBar,
  DdimSampler,
  ddimTimesteps,
  DdpmSampler,
  createSampler,
} from "./schedulers/index.ts";
export type { SchedulerConfig, DdimCoefficients, Sampler } from "./schedulers/index.ts";
export { MinMaxNormalizer, rangeSchema } from "./normalizer.ts";
export type { FeatureRange } from "./normalizer.ts";
export type { Denoiser, DenoiserDims } from "./denoisers/denoiser.ts";
export { ConditionalUnet1d, unetConfigSchema } from "./denoisers/unet1d.ts";
export type { UnetConfig } from "./denoisers/unet1d.ts";
export { TransformerDenoiser, transformerConfigSchema } from "./denoisers/transformer.ts";
export type { TransformerConfig } from "./denoisers/transformer.ts";
export { denoiserConfigSchema, createDenoiser } from "./registry.ts";
export type { DenoiserConfig } from "./registry.ts";
export {
  INFERENCE_ONLY_FIELDS,
  historyStepsOf,
  policyConfigSchema,
  sceneIndices,
  soundWindowOf,
} from "./diffusion/config.ts";
export type { PolicyConfig, PolicyConfigInput } from "./diffusion/config.ts";
export { inferenceSchema, migrateInference } from "./diffusion/inference.ts";
export type { InferenceSettings, InferenceOverrides } from "./diffusion/inference.ts";
export { ObservationEncoder } from "./diffusion/observer.ts";
export type { ObserverSpec } from "./diffusion/observer.ts";
export { IO, GoalEmbeddingInput, allocateInputs, featureInput, imageInput } from "./diffusion/inputs.ts";
export type {
  CameraShape,
  InputData,
  InputNormalization,
  ObservationInput,
  TrainingContext,
  TrainingWindow,
} from "./diffusion/inputs.ts";
export { PolicyNetwork } from "./diffusion/network.ts";
export type { PolicyShape, TrainingLossGraph } from "./diffusion/network.ts";
export { policyModelSchema, MODEL_FORMAT, MODEL_FILE, GRAPH_FILES, GOAL_ENCODER_FILE } from "./diffusion/model-file.ts";
export { GoalEncoder, fileSha256 } from "./diffusion/goal-encoder.ts";
export type { PolicyModel } from "./diffusion/model-file.ts";
export { DiffusionPolicy, dropElapsed } from "./diffusion/policy.ts";
export type { SamplingOptions, PolicyGraphs } from "./diffusion/policy.ts";
export { exportPolicy, loadPolicy, networkOf, readPolicyModel, releasePolicy } from "./diffusion/model-dir.ts";
export { reexportPolicy } from "./diffusion/reexport.ts";
export type { RunSettings } from "./diffusion/reexport.ts";
export type { ModelInfo, PolicyExpectations, LoadPolicyOptions } from "./diffusion/model-dir.ts";
export { PriorNetwork, priorConfigSchema, PRIOR_IO } from "./prior/network.ts";
export { GoalPrior, PRIOR_FILES, embedTexts, readPriorInfo } from "./prior/prior-dir.ts";
export type { PriorInfo } from "./prior/prior-dir.ts";
export type { PriorConfig, PriorConfigInput } from "./prior/network.ts";
