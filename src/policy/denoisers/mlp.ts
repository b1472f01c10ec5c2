// A residual MLP denoiser: the whole sample as one vector, conditioned through FiLM on the observation and the
// diffusion step. Small and fast where the sample is one vector, as in DALL-E 2's prior (an image embedding
// denoised given a text embedding, src/policy/prior/network.ts). Not in the denoiser registry: no policy config names
// it yet; the prior builds it directly.
import { z } from "zod";
import {
  Film,
  LayerNorm,
  Linear,
  Mlp,
  mish,
  sinusoidalEmbedding,
  type GraphBuilder,
  type Tensor,
} from "../../nn/index.ts";
import { DuetError } from "../../core/index.ts";
import type { Denoiser, DenoiserDims } from "./denoiser.ts";

export const mlpConfigSchema = z
  .object({
    /** Hidden width of every block (default 256). */
    width: z.int().positive().default(256),
    /** Residual blocks (default 3). */
    depth: z.int().min(1).max(16).default(3),
    /** Width of the sinusoidal diffusion-step embedding (default 64; even). */
    stepEmbedDim: z.int().min(4).default(64),
  })
  .strict();
export type MlpConfig = z.output<typeof mlpConfigSchema>;

/**
 *   condition   c = Mish(Linear(obs_1..To flattened) + Mlp(sin(step)))                   B,W
 *   input       h = Linear(x flattened)                                                   B,1,W
 *   blocks ×L:  h += Linear(Mish(FiLM_c(Linear(LN h))))
 *   head        Linear(LN h) → B,Tp,Dx
 * The step's timestep may have one row for the whole batch (it is added, so it broadcasts): an unrolled sampler
 * then holds each step's embedding as a constant, and the batch axis stays free.
 */
export class MlpDenoiser implements Denoiser {
  constructor(
    readonly config: MlpConfig,
    readonly dims: DenoiserDims,
  ) {
    if (config.stepEmbedDim % 2 !== 0) {
      throw new DuetError(`mlp denoiser: stepEmbedDim ${config.stepEmbedDim} must be even`);
    }
  }

  apply(g: GraphBuilder, sample: Tensor, timestep: Tensor, cond: Tensor): Tensor {
    return g.scope("denoiser", () => {
      const { width: w, depth, stepEmbedDim: dsed } = this.config;
      const { horizon: tp, sampleDim: dx, obsSteps: to, obsDim } = this.dims;
      const b = sample.shape[0] as number;
      const step = new Mlp("step_encoder", [dsed, 4 * dsed, w], "mish").apply(
        g,
        sinusoidalEmbedding(g, timestep, dsed),
      );
      const obs = new Linear("cond_obs", to * obsDim, w).apply(g, g.reshape(cond, [b, to * obsDim]));
      const c = mish(g, g.add(obs, step));
      let h = new Linear("input", tp * dx, w).apply(g, g.reshape(sample, [b, 1, tp * dx]));
      for (let i = 0; i < depth; i++) {
        g.scope(`block${i}`, () => {
          const y = new Linear("fc0", w, w).apply(g, new LayerNorm("norm", w).apply(g, h));
          const film = new Film("film", w, w).apply(g, y, c);
          h = g.add(h, new Linear("fc1", w, w).apply(g, mish(g, film)));
        });
      }
      const out = new Linear("head", w, tp * dx).apply(g, new LayerNorm("norm_out", w).apply(g, h));
      return g.reshape(out, [b, tp, dx]);
    });
  }
}
