// Spatial softmax keypoints (Levine et al.; robomimic / Diffusion Policy's CNN head): per channel, a softmax over
// positions and the expected (x, y) image coordinate under it.
import type { GraphBuilder, Module, Tensor } from "../../nn/index.ts";
import { Linear } from "../../nn/index.ts";

/** Features `N,h,w,C` → a 1×1 projection to K keypoint maps → `N,2K` expected coordinates (x0,y0,x1,y1,…) in [−1,1]. */
export class SpatialSoftmax implements Module {
  readonly proj: Linear;

  constructor(
    readonly name: string,
    readonly channels: number,
    readonly keypoints: number,
    /** Softmax temperature (fixed; default 1, robomimic's). */
    readonly temperature = 1,
  ) {
    // No bias: a per-keypoint constant cancels in the softmax over positions (its gradient would be zero).
    this.proj = new Linear("proj", channels, keypoints, { bias: false });
  }

  /** x: N,h,w,C → N,2K */
  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      const [n, h, w] = x.shape as [number, number, number, number];
      const k = this.keypoints;
      const maps = g.reshape(this.proj.apply(g, x), [n, h * w, k]); // N,h·w,K
      const logits = g.transpose(this.temperature === 1 ? maps : g.mul(maps, 1 / this.temperature), [0, 2, 1]);
      const coords = new Float32Array(h * w * 2); // position p = y·w + x → (x, y) on linspace(−1, 1)
      for (let y = 0; y < h; y++) {
        for (let xi = 0; xi < w; xi++) {
          coords[2 * (y * w + xi)] = w === 1 ? 0 : -1 + (2 * xi) / (w - 1);
          coords[2 * (y * w + xi) + 1] = h === 1 ? 0 : -1 + (2 * y) / (h - 1);
        }
      }
      const expected = g.matmul(g.softmax(logits, -1), g.constant(coords, [h * w, 2])); // N,K,2
      return g.reshape(expected, [n, 2 * k]);
    });
  }
}
