// GroupNorm over channels-last x [B, ..., C]: statistics per (batch, group) over all positions and the group's channels.
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import type { Module } from "./module.ts";

export class GroupNorm implements Module {
  constructor(
    readonly name: string,
    readonly groups: number,
    readonly channels: number,
    /** Added to the variance (default 1e-5, PyTorch's). */
    readonly eps = 1e-5,
  ) {
    if (channels % groups !== 0)
      throw new RangeError(`GroupNorm '${name}': ${channels} channels not divisible by ${groups}`);
  }

  /** x: B,...,C → B,...,C */
  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      const c = this.channels;
      const b = x.shape[0] as number;
      const xg = g.reshape(x, [b, -1, this.groups, c / this.groups]);
      const centered = g.sub(xg, g.reduceMean(xg, [1, 3], true));
      const variance = g.reduceMean(g.pow(centered, 2), [1, 3], true);
      const normed = g.reshape(g.div(centered, g.sqrt(g.add(variance, this.eps))), x.shape);
      const gamma = g.param("weight", [c], { kind: "const", value: 1 }, false);
      const beta = g.param("bias", [c], { kind: "const", value: 0 }, false);
      return g.add(g.mul(normed, gamma), beta);
    });
  }
}
