// The contract every observation image encoder meets (ViT, tubelet ViT, CNN baseline): an nn module from a batch of
// preprocessed images to one feature vector per image. The policy composes encoders with joint states.
import type { GraphBuilder, Tensor } from "../../nn/index.ts";

/** An image encoder defined once with `src/nn`: the same `apply` serves training and the exported inference graph. */
export interface ImageEncoder {
  /** F: features per image (per clip for video encoders). */
  readonly featureDim: number;
  /** Expected input image size (pixels) and, for video encoders, frames per clip (1 for image encoders). */
  readonly height: number;
  readonly width: number;
  readonly frames: number;
  /**
   * `images: N,H,W,3` float32 normalised (see preprocess) for image encoders, `N,frames,H,W,3` for video encoders
   * → `N,F`. Parameters are created under the builder's current scope.
   */
  apply(g: GraphBuilder, images: Tensor): Tensor;
}
