// Token embedding (a learned table) and sinusoidal embedding of scalar positions / diffusion steps.
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import type { Module } from "./module.ts";

/** Learned table [V, D] indexed by int64 ids: ids (any shape) → ids.shape ++ [D]. Init N(0, 1) as PyTorch. */
export class Embedding implements Module {
  constructor(
    readonly name: string,
    readonly vocab: number,
    readonly dim: number,
  ) {}

  apply(g: GraphBuilder, ids: Tensor): Tensor {
    return g.scope(this.name, () =>
      g.gather(g.param("weight", [this.vocab, this.dim], { kind: "normal", std: 1 }, false), ids),
    );
  }
}

/**
 * Sinusoidal embedding (Diffusion Policy's SinusoidalPosEmb): t [B] → [B, D] = [sin(t·f), cos(t·f)],
 * f_i = exp(−i·ln(10000)/(D/2 − 1)), i < D/2.
 */
export function sinusoidalEmbedding(g: GraphBuilder, t: Tensor, dim: number): Tensor {
  const half = dim / 2;
  const scale = Math.log(10000) / (half - 1);
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp(-i * scale));
  const b = t.shape[0] as number;
  const arg = g.mul(g.reshape(t, [b, 1]), g.constant(freqs, [1, half]));
  return g.concat([g.sin(arg), g.cos(arg)], 1);
}
