// LayerNorm over the last axis.
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import type { Module } from "./module.ts";

export class LayerNorm implements Module {
  constructor(
    readonly name: string,
    readonly features: number,
    /** Added to the variance (default 1e-5, PyTorch's). */
    readonly eps = 1e-5,
  ) {}

  /** x: ...,D → ...,D */
  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      const centered = g.sub(x, g.reduceMean(x, [-1], true));
      const variance = g.reduceMean(g.pow(centered, 2), [-1], true);
      const normed = g.div(centered, g.sqrt(g.add(variance, this.eps)));
      const gamma = g.param("weight", [this.features], { kind: "const", value: 1 }, false);
      const beta = g.param("bias", [this.features], { kind: "const", value: 0 }, false);
      return g.add(g.mul(normed, gamma), beta);
    });
  }
}
