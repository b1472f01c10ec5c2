// Patch embedding for channels-last images: [B,H,W,C] → [B, (H/p)·(W/p), D] tokens (row-major patches).
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { Linear } from "./linear.ts";
import type { Module } from "./module.ts";

export class PatchEmbed implements Module {
  readonly proj: Linear;

  constructor(
    readonly name: string,
    readonly patch: number,
    readonly channels: number,
    readonly dim: number,
  ) {
    this.proj = new Linear("proj", patch * patch * channels, dim);
  }

  /** x: B,H,W,C → B,N,D with patch features ordered (py, px, c) */
  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      const [b, h, w, c] = x.shape as [number, number, number, number];
      const p = this.patch;
      if (h % p !== 0 || w % p !== 0)
        throw new RangeError(`PatchEmbed '${this.name}': ${h}×${w} not divisible by ${p}`);
      const grid = g.reshape(x, [b, h / p, p, w / p, p, c]);
      const patches = g.reshape(g.transpose(grid, [0, 1, 3, 2, 4, 5]), [b, (h / p) * (w / p), p * p * c]);
      return this.proj.apply(g, patches);
    });
  }
}
