// Linear layer: x [..., In] → x·W + b, W [In, Out] (PyTorch's weight transposed), PyTorch's default init.
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import type { Module } from "./module.ts";

export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
}

export class Linear implements Module {
  constructor(
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly options: LinearOptions = {},
  ) {}

  /** x: ..., In → ..., Out */
  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      const bound = 1 / Math.sqrt(this.inFeatures);
      const w = g.param("weight", [this.inFeatures, this.outFeatures], { kind: "uniform", bound });
      const y = g.matmul(x.shape.length === 1 ? g.reshape(x, [1, -1]) : x, w);
      if (this.options.bias === false) return y;
      return g.add(y, g.param("bias", [this.outFeatures], { kind: "uniform", bound }));
    });
  }
}
