// runtime: the only module that imports onnxruntime-node.
export { Session } from "./session.ts";
export type { TensorDType, DeclaredValue, SessionOptions, ProfileEvent } from "./session.ts";
// Declared once in core (nn runs its training graphs through an Executor too); re-exported for runtime's users.
export type { Executor, Fetches, TensorData } from "../core/index.ts";
