// Diffusion Policy's TransformerForDiffusion (pre-norm decoder): causal self-attention over action tokens,
// cross-attention to condition tokens [diffusion-step token, To observation tokens].
import { z } from "zod";
import {
  LayerNorm,
  Linear,
  Mlp,
  MultiHeadAttention,
  dropout,
  gelu,
  sinusoidalEmbedding,
  type GraphBuilder,
  type Tensor,
} from "../../nn/index.ts";
import { DuetError } from "../../core/index.ts";
import type { Denoiser, DenoiserDims } from "./denoiser.ts";

export const transformerConfigSchema = z
  .object({
    name: z.literal("transformer"),
    /** Token width (default 128; divisible by heads). */
    dim: z.int().positive().default(128),
    /** Attention heads (default 4). */
    heads: z.int().positive().default(4),
    /** Decoder layers (default 4). */
    layers: z.int().min(1).max(16).default(4),
    /** Dropout on token embeddings while training (default 0). */
    dropout: z.number().min(0).max(0.9).default(0),
    /** Causal self-attention over action tokens (default true). */
    causal: z.boolean().default(true),
  })
  .strict();
export type TransformerConfig = z.output<typeof transformerConfigSchema>;

/**
 *   action tokens  x: B,Tp,Dx → Linear → + pos[Tp]                                 B,Tp,D
 *   cond tokens    [sin(step) ; Linear(obs_1..To)] + pos[1+To] → Mlp(D,4D,D)       B,1+To,D
 *   layers ×L:     x += SelfAttn(LN x, causal);  x += CrossAttn(LN x, cond);  x += FFN(LN x)
 *   head:          LN → Linear(D, Dx)                                             B,Tp,Dx
 */
export class TransformerDenoiser implements Denoiser {
  constructor(
    readonly config: TransformerConfig,
    readonly dims: DenoiserDims,
  ) {
    if (config.dim % config.heads !== 0) {
      throw new DuetError(`transformer: dim ${config.dim} is not divisible by heads = ${config.heads}`);
    }
    if (config.dim % 2 !== 0) throw new DuetError(`transformer: dim ${config.dim} must be even`);
  }

  apply(g: GraphBuilder, sample: Tensor, timestep: Tensor, cond: Tensor): Tensor {
    return g.scope("denoiser", () => {
      const { dim: d, heads, layers, causal } = this.config;
      const { horizon: tp, sampleDim: dx, obsSteps: to, obsDim } = this.dims;
      const b = sample.shape[0] as number;
      const pos = (name: string, n: number): Tensor => g.param(name, [1, n, d], { kind: "normal", std: 0.02 }, false);

      let x = g.add(new Linear("input", dx, d).apply(g, sample), pos("pos_action", tp));
      x = dropout(g, x, this.config.dropout);
      const stepToken = g.reshape(sinusoidalEmbedding(g, timestep, d), [b, 1, d]);
      const obsTokens = new Linear("cond_obs", obsDim, d).apply(g, cond);
      let c = g.add(g.concat([stepToken, obsTokens], 1), pos("pos_cond", 1 + to));
      c = new Mlp("cond_encoder", [d, 4 * d, d], "mish").apply(g, dropout(g, c, this.config.dropout));

      for (let i = 0; i < layers; i++) {
        g.scope(`layer${i}`, () => {
          const self = new MultiHeadAttention("self_attn", d, heads, { causal });
          x = g.add(x, self.apply(g, new LayerNorm("norm0", d).apply(g, x)));
          const cross = new MultiHeadAttention("cross_attn", d, heads);
          x = g.add(x, cross.apply(g, new LayerNorm("norm1", d).apply(g, x), c));
          const h = new Linear("ffn0", d, 4 * d).apply(g, new LayerNorm("norm2", d).apply(g, x));
          x = g.add(x, new Linear("ffn1", 4 * d, d).apply(g, gelu(g, h)));
        });
      }
      return new Linear("head", d, dx).apply(g, new LayerNorm("norm_out", d).apply(g, x));
    });
  }
}
