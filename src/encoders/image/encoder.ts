// The contract every observation image encoder meets (ViT, tubelet ViT, CNN baseline): an nn module from a batch of
// preprocessed images to one feature vector per image, and from a camera's observation steps to one feature vector per
// step, which is how the policy's observer uses it. Also the shape check every encoder runs on its input.
import { ShapeError, type GraphBuilder, type Tensor } from "../../nn/index.ts";

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
  /**
   * One camera's features at each observation step: `images: B,To,H,W,3` → `B,To,F`. Image encoders encode each
   * frame on its own (`encodeEachFrame`); a video encoder encodes the To frames as one clip (To = frames).
   */
  applySteps(g: GraphBuilder, images: Tensor): Tensor;
}

/** `applySteps` of an image encoder: the B·To frames as one batch of images, `B,To,H,W,3` → `B,To,F`. */
export function encodeEachFrame(g: GraphBuilder, encoder: ImageEncoder, images: Tensor): Tensor {
  const [b, to, ...frame] = images.shape as [number, number, ...number[]];
  const features = encoder.apply(g, g.reshape(images, [b * to, ...frame]));
  return g.reshape(features, [b, to, encoder.featureDim]);
}

/** Throw a ShapeError naming the encoder and the expected shape unless `t` is float32 `[N, ...dims]`. */
export function expectImages(who: string, t: Tensor, dims: readonly number[]): void {
  const ok = t.dtype === "float32" && t.shape.length === dims.length + 1 && dims.every((d, i) => t.shape[i + 1] === d);
  if (!ok) {
    throw new ShapeError(
      `${who}: images must be float32 [N,${dims.join(",")}] (normalised, channels last); received ${t.dtype} [${t.shape.join(",")}]`,
    );
  }
}
