// FiLM: per-channel scale and bias predicted from a conditioning vector (Diffusion Policy's cond_encoder is
// Linear(Mish(cond)); the Mish is the caller's, so a net with many FiLM layers on one vector computes it once).
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { Linear } from "./linear.ts";

/**
 * The conditioning vector, whole (`B,Dc`) or in two parts along its features: `varying` (`B,Dv`: weight rows
 * 0..Dv) and `fixed` (`B,Dc−Dv`: the rest). The fixed part's projection, bias included, is built once per graph and
 * reused by every later call with the same `fixed` tensor. In an unrolled sampler the fixed part is the observation
 * and the varying part the diffusion-step embedding of a constant timestep, which onnxruntime folds into a constant:
 * each step then reads none of the FiLM weights.
 */
export type FilmCondition = Tensor | { varying: Tensor; fixed: Tensor };

interface Projection {
  fixed: Tensor;
  scale: Tensor;
  bias: Tensor;
}

/** The fixed part's projection per FiLM weight (one parameter tensor per layer and graph). */
const fixedProjections = new WeakMap<Tensor, Projection>();

export class Film {
  readonly proj: Linear;

  constructor(
    readonly name: string,
    readonly condDim: number,
    readonly channels: number,
  ) {
    this.proj = new Linear("proj", condDim, 2 * channels);
  }

  /** [B,2C] → scale and bias `B,1,C` each. */
  private halves(g: GraphBuilder, embed: Tensor): { scale: Tensor; bias: Tensor } {
    const c = this.channels;
    const e = g.reshape(embed, [embed.shape[0] as number, 1, 2 * c]);
    return { scale: g.slice(e, [2], [0], [c]), bias: g.slice(e, [2], [c], [2 * c]) };
  }

  /** x: B,T,C; cond (already activated) → scale·x + bias with [scale, bias] = Linear(cond) */
  apply(g: GraphBuilder, x: Tensor, cond: FilmCondition): Tensor {
    return g.scope(this.name, () => {
      if (!("varying" in cond)) {
        const { scale, bias } = this.halves(g, this.proj.apply(g, cond));
        return g.add(g.mul(x, scale), bias);
      }
      const dv = cond.varying.shape[1] as number;
      const bound = 1 / Math.sqrt(this.condDim);
      const [w, b] = g.scope("proj", () => [
        g.param("weight", [this.condDim, 2 * this.channels], { kind: "uniform", bound }),
        g.param("bias", [2 * this.channels], { kind: "uniform", bound }),
      ]) as [Tensor, Tensor];
      let fixed = fixedProjections.get(w);
      if (fixed?.fixed !== cond.fixed) {
        const rows = g.slice(w, [0], [dv], [this.condDim]);
        fixed = { fixed: cond.fixed, ...this.halves(g, g.add(g.matmul(cond.fixed, rows), b)) };
        fixedProjections.set(w, fixed);
      }
      const varying = this.halves(g, g.matmul(cond.varying, g.slice(w, [0], [0], [dv])));
      return g.add(g.mul(x, g.add(fixed.scale, varying.scale)), g.add(fixed.bias, varying.bias));
    });
  }
}
