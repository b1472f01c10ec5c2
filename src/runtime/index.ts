// runtime: the only module that imports onnxruntime-node.
export { Session } from "./session.ts";
export type { Executor, TensorData, TensorDType, DeclaredValue, SessionOptions } from "./session.ts";
export { exportModel, loadModelMetadata, modelMetadataSchema } from "./export.ts";
export type { ModelMetadata } from "./export.ts";
