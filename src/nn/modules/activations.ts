// Activations written with fast ONNX kernels (Mish avoids Softplus, ≈25× slower than Sigmoid in onnxruntime).
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";

/** Exact GELU: 0.5·x·(1 + erf(x/√2)) (PyTorch's default). */
export function gelu(g: GraphBuilder, x: Tensor): Tensor {
  return g.mul(g.mul(x, 0.5), g.add(1, g.erf(g.mul(x, Math.SQRT1_2))));
}

/**
 * Mish: x·tanh(softplus(x)) = x·q/(2−q) with q = s(2−s), s = σ(x) (tanh(log(1+eˣ)) = ((1+eˣ)²−1)/((1+eˣ)²+1), and
 * (1+eˣ)² = 1/(1−s)²). Six nodes; exact at both ends: s → 0 gives x·s, s → 1 gives x.
 */
export function mish(g: GraphBuilder, x: Tensor): Tensor {
  const s = g.sigmoid(x);
  const q = g.mul(s, g.sub(2, s));
  return g.mul(x, g.div(q, g.sub(2, q)));
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
