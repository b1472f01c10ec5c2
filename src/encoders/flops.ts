// Cost of a built graph: MatMul FLOPs (2·M·K·N per product), the measure bench/train uses; elementwise ops excluded.
import { GraphBuilder, numel } from "../nn/index.ts";
import type { ImageEncoder } from "./image/encoder.ts";

/** Sum of 2·(output elements)·K over every MatMul node on `g`. */
export function matmulFlops(g: GraphBuilder): number {
  let flops = 0;
  for (const node of g.nodes) {
    if (node.op !== "MatMul") continue;
    const a = node.inputs[0];
    const k = a ? (a.shape[a.shape.length - 1] as number) : 0;
    flops += 2 * numel(node.output.shape) * k;
  }
  return flops;
}

/** Forward MatMul FLOPs of `encoder` on one image (one clip for video encoders) and its parameter count. */
export function encoderCost(encoder: ImageEncoder): { flops: number; params: number } {
  const g = new GraphBuilder();
  const dims =
    encoder.frames === 1
      ? [1, encoder.height, encoder.width, 3]
      : [1, encoder.frames, encoder.height, encoder.width, 3];
  encoder.apply(g, g.input("images", dims));
  let params = 0;
  for (const spec of g.paramSpecs.values()) params += numel(spec.shape);
  return { flops: matmulFlops(g), params };
}
