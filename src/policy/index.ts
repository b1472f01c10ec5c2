// policy: noise schedules and samplers, normalizers, denoisers (1-D U-Net, transformer), the diffusion policy runtime,
// model directories, and the registry that resolves denoiser names.
export { NoiseSchedule, schedulerConfigSchema, cosineAlphaBar } from "./schedulers/noise-schedule.ts";
export type { SchedulerConfig } from "./schedulers/noise-schedule.ts";
export { DdimSampler, ddimTimesteps } from "./schedulers/ddim.ts";
export type { DdimCoefficients } from "./schedulers/ddim.ts";
export { DdpmSampler } from "./schedulers/ddpm.ts";
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
  pickEntries,
  policyConfigSchema,
  sceneIndices,
  soundWindowOf,
} from "./diffusion/config.ts";
export type { PolicyConfig, PolicyConfigInput } from "./diffusion/config.ts";
export { ObservationEncoder } from "./diffusion/observer.ts";
export type { CameraShape } from "./diffusion/observer.ts";
export { PolicyNetwork, IO, featureInput, imageInput } from "./diffusion/network.ts";
export type { PolicyShape, TrainingLossGraph } from "./diffusion/network.ts";
export { policyModelSchema, MODEL_FORMAT, MODEL_FILE, GRAPH_FILES } from "./diffusion/model-file.ts";
export type { PolicyModel } from "./diffusion/model-file.ts";
export { DiffusionPolicy, dropElapsed } from "./diffusion/policy.ts";
export type { SamplingOptions, PolicyGraphs } from "./diffusion/policy.ts";
export { exportPolicy, loadPolicy, readPolicyModel, releasePolicy } from "./diffusion/model-dir.ts";
export { reexportPolicy } from "./diffusion/reexport.ts";
export type { RunSettings } from "./diffusion/reexport.ts";
export type { ModelInfo, PolicyExpectations, LoadPolicyOptions } from "./diffusion/model-dir.ts";
