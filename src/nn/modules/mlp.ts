// MLP: Linear layers with an activation between them (none after the last).
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { activate, type Activation } from "./activations.ts";
import { Linear } from "./linear.ts";
import type { Module } from "./module.ts";

export class Mlp implements Module {
  readonly layers: Linear[];

  /** `dims` = [in, hidden..., out]; layers are named `fc0`, `fc1`, … */
  constructor(
    readonly name: string,
    readonly dims: readonly number[],
    readonly activation: Activation = "gelu",
  ) {
    this.layers = dims.slice(1).map((d, i) => new Linear(`fc${i}`, dims[i] as number, d));
  }

  /** x: ...,In → ...,Out */
  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      let y = x;
      this.layers.forEach((layer, i) => {
        y = layer.apply(g, y);
        if (i < this.layers.length - 1) y = activate(g, y, this.activation);
      });
      return y;
    });
  }
}
