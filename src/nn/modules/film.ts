// FiLM: per-channel scale and bias predicted from a conditioning vector (Diffusion Policy's cond_encoder).
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { mish } from "./activations.ts";
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

  /** x: B,T,C; cond: B,Dc → scale·x + bias with [scale, bias] = Linear(Mish(cond)) */
  apply(g: GraphBuilder, x: Tensor, cond: Tensor): Tensor {
    return g.scope(this.name, () => {
      const c = this.channels;
      const b = cond.shape[0] as number;
      const embed = this.proj.apply(g, mish(g, cond));
      const scale = g.reshape(g.slice(embed, [1], [0], [c]), [b, 1, c]);
      const bias = g.reshape(g.slice(embed, [1], [c], [2 * c]), [b, 1, c]);
      return g.add(g.mul(x, scale), bias);
    });
  }
}
