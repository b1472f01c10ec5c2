// The inference graph: the same builder graph emitted with parameters as initializers and a symbolic batch axis.
import type { GraphBuilder } from "./graph.ts";
import { toOnnx, type OnnxModel, type WeightPrecision } from "./onnx.ts";
import { ParamLayout } from "./params.ts";

export interface InferenceOptions {
  /** Outputs to keep (default every `g.output`). */
  outputs?: readonly string[];
  /** Keep the batch axis symbolic (default true). */
  symbolicBatch?: boolean;
  /** How the parameters are stored (default float32). */
  precision?: WeightPrecision;
}

/** ONNX bytes plus declared inputs/outputs of `g`'s forward graph with `params` embedded (layout from `g`). */
export function inferenceModel(g: GraphBuilder, params: Float32Array, options: InferenceOptions = {}): OnnxModel {
  const layout = ParamLayout.of(g);
  return toOnnx(g, {
    name: "inference",
    params: { mode: "initializers", layout, values: params, precision: options.precision ?? "float32" },
    symbolicBatch: options.symbolicBatch ?? true,
    ...(options.outputs ? { outputs: options.outputs } : {}),
  });
}
