// What every module is: a named object that adds its nodes and parameters to a graph when applied.
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";

/** A layer or block. `apply` may be called on several graphs (inference, training); parameters are named by scope. */
export interface Module {
  readonly name: string;
  apply(g: GraphBuilder, x: Tensor): Tensor;
}
