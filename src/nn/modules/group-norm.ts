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
      const cg = c / this.groups;
      const b = x.shape[0] as number;
      const xg = g.reshape(x, [b, -1, this.groups, cg]); // B,N,G,Cg (N: the positions)
      const gamma = g.param("weight", [c], { kind: "const", value: 1 }, false);
      const beta = g.param("bias", [c], { kind: "const", value: 0 }, false);
      if (!g.inference) {
        const normed = g.reshape(this.normalize(g, xg, [1, 3]), x.shape);
        return g.add(g.mul(normed, gamma), beta);
      }
      // Each group's values made contiguous (B,G,N·Cg) and normalized over the last axis with a unit scale and zero
      // shift: the pattern onnxruntime's LayerNormFusion turns into one LayerNormalization node (the per-channel
      // affine cannot be its scale, which is shared by the groups). 9 nodes after fusion instead of 11, and one
      // kernel instead of two strided ReduceMeans and five elementwise passes.
      const n = xg.shape[1] as number;
      const rows = g.reshape(g.transpose(xg, [0, 2, 1, 3]), [b, this.groups, n * cg]);
      const unit = g.mul(this.normalize(g, rows, [2]), g.constant(new Float32Array(n * cg).fill(1), [n * cg]));
      const shifted = g.add(unit, g.constant(new Float32Array(n * cg), [n * cg]));
      const back = g.transpose(g.reshape(shifted, [b, this.groups, n, cg]), [0, 2, 1, 3]);
      return g.add(g.mul(g.reshape(back, x.shape), gamma), beta);
    });
  }

  /** (x − mean) / √(variance + eps) over `axes`, variance through Pow (what LayerNormFusion matches). */
  private normalize(g: GraphBuilder, x: Tensor, axes: readonly number[]): Tensor {
    const centered = g.sub(x, g.reduceMean(x, axes, true));
    const variance = g.reduceMean(g.pow(centered, 2), axes, true);
    return g.div(centered, g.sqrt(g.add(variance, this.eps)));
  }
}
