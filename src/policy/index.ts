// policy: noise schedules and samplers, normalizers, denoisers (1-D U-Net, transformer), the diffusion policy runtime,
// model directories, and the registry that resolves denoiser and encoder names.
export { NoiseSchedule, schedulerConfigSchema, cosineAlphaBar } from "./noise-schedule.ts";
export type { SchedulerConfig } from "./noise-schedule.ts";
export { DdimSampler, ddimTimesteps } from "./ddim.ts";
export type { DdimCoefficients } from "./ddim.ts";
export { DdpmSampler } from "./ddpm.ts";
export { MinMaxNormalizer, rangeSchema } from "./normalizer.ts";
export type { FeatureRange } from "./normalizer.ts";
export type { Denoiser, DenoiserDims } from "./denoisers/denoiser.ts";
export { ConditionalUnet1d, unetConfigSchema } from "./denoisers/unet1d.ts";
export type { UnetConfig } from "./denoisers/unet1d.ts";
export { TransformerDenoiser, transformerConfigSchema } from "./denoisers/transformer.ts";
export type { TransformerConfig } from "./denoisers/transformer.ts";
export { denoiserConfigSchema, encoderRefSchema, createDenoiser, createEncoder } from "./registry.ts";
export type { DenoiserConfig, EncoderRef } from "./registry.ts";
export {
  INFERENCE_ONLY_FIELDS,
  historyStepsOf,
  pickEntries,
  policyConfigSchema,
  sceneIndices,
  soundWindowOf,
} from "./config.ts";
export type { PolicyConfig, PolicyConfigInput } from "./config.ts";
export { ObservationEncoder } from "./observer.ts";
export type { CameraShape } from "./observer.ts";
export { PolicyNetwork, IO, featureInput, imageInput } from "./network.ts";
export type { PolicyShape, TrainingLossGraph } from "./network.ts";
export { policyModelSchema, MODEL_FORMAT, MODEL_FILE, GRAPH_FILES } from "./model-file.ts";
export type { PolicyModel } from "./model-file.ts";
export { DiffusionPolicy, dropElapsed } from "./diffusion-policy.ts";
export type { SamplingOptions, PolicyGraphs } from "./diffusion-policy.ts";
export { exportPolicy, loadPolicy, readPolicyModel, releasePolicy } from "./model-dir.ts";
export { reexportPolicy } from "./reexport.ts";
export type { RunSettings } from "./reexport.ts";
export type { ModelInfo, PolicyExpectations, LoadPolicyOptions } from "./model-dir.ts";
