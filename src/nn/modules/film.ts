// FiLM: per-channel scale and bias predicted from a conditioning vector (Diffusion Policy's cond_encoder is
// Linear(Mish(cond)); the Mish is the caller's, so a net with many FiLM layers on one vector computes it once).
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { Linear } from "./linear.ts";

export class Film {
  readonly proj: Linear;

  constructor(
    readonly name: string,
    readonly condDim: number,
    readonly channels: number,
  ) {
    this.proj = new Linear("proj", condDim, 2 * channels);
  }

  /** x: B,T,C; cond: B,Dc (already activated) → scale·x + bias with [scale, bias] = Linear(cond) */
  apply(g: GraphBuilder, x: Tensor, cond: Tensor): Tensor {
    return g.scope(this.name, () => {
      const c = this.channels;
      const b = cond.shape[0] as number;
      const embed = g.reshape(this.proj.apply(g, cond), [b, 1, 2 * c]);
      const scale = g.slice(embed, [2], [0], [c]);
      const bias = g.slice(embed, [2], [c], [2 * c]);
      return g.add(g.mul(x, scale), bias);
    });
  }
}
