// Activations written with fast ONNX kernels (Mish avoids Softplus, ≈25× slower than Sigmoid in onnxruntime).
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";

/** Exact GELU: 0.5·x·(1 + erf(x/√2)) (PyTorch's default). */
export function gelu(g: GraphBuilder, x: Tensor): Tensor {
  return g.mul(g.mul(x, 0.5), g.add(1, g.erf(g.mul(x, Math.SQRT1_2))));
}

/** Mish: x·tanh(softplus(x)) = x·s(2−s)/(1+(1−s)²) with s = σ(x). */
export function mish(g: GraphBuilder, x: Tensor): Tensor {
  const s = g.sigmoid(x);
  const u = g.sub(1, s);
  return g.div(g.mul(x, g.mul(s, g.add(u, 1))), g.add(1, g.mul(u, u)));
}

/** SiLU / swish: x·σ(x). */
export function silu(g: GraphBuilder, x: Tensor): Tensor {
  return g.mul(x, g.sigmoid(x));
}

export type Activation = "gelu" | "mish" | "silu" | "relu" | "tanh" | "none";

export function activate(g: GraphBuilder, x: Tensor, kind: Activation): Tensor {
  switch (kind) {
    case "gelu":
      return gelu(g, x);
    case "mish":
      return mish(g, x);
    case "silu":
      return silu(g, x);
    case "relu":
      return g.relu(x);
    case "tanh":
      return g.tanh(x);
    case "none":
      return x;
  }
}
