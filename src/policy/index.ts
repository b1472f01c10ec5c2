// policy: noise schedules and samplers, normalizers, denoisers (1-D U-Net, transformer), the diffusion policy runtime,
// model directories, and the registry that resolves denoiser and encoder names.
export { NoiseSchedule, schedulerConfigSchema, cosineAlphaBar } from "./noiseSchedule.ts";
export type { SchedulerConfig } from "./noiseSchedule.ts";
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
export { policyModelSchema, MODEL_FORMAT, MODEL_FILE, GRAPH_FILES } from "./modelFile.ts";
export type { PolicyModel } from "./modelFile.ts";
export { DiffusionPolicy, dropElapsed } from "./diffusionPolicy.ts";
export type { SamplingOptions, PolicyGraphs } from "./diffusionPolicy.ts";
export { exportPolicy, loadPolicy, readPolicyModel, releasePolicy } from "./modelDir.ts";
export { reexportPolicy } from "./reexport.ts";
export type { RunSettings } from "./reexport.ts";
export type { ModelInfo, PolicyExpectations, LoadPolicyOptions } from "./modelDir.ts";
