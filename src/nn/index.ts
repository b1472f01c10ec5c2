// nn: define a network once; emit its inference graph and its training graph (autodiff + fused AdamW) as ONNX.
export { GraphBuilder, ShapeError } from "./graph.ts";
export type { Operand, ParamInit, ParamSpec, InputOptions } from "./graph.ts";
export type { Tensor, Node, OpType, DType } from "./tensor.ts";
export { numel } from "./tensor.ts";
export { ParamLayout } from "./params.ts";
export type { ParamEntry } from "./params.ts";
export { toOnnx, OPSET, BATCH_DIM } from "./onnx.ts";
export type { OnnxModel, ValueSpec, EmitOptions, ParamSource } from "./onnx.ts";
export { backward, gradRules, sumTo } from "./autodiff.ts";
export type { GradRule } from "./autodiff.ts";
