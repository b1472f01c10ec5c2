// An optional extension of ImageEncoder: a learned embedding per image group (a camera) added inside the encoder, so
// one shared encoder can tell its cameras apart. Also the shape check every encoder runs on its input.
import { ShapeError, type GraphBuilder, type Tensor } from "../../nn/index.ts";
import type { ImageEncoder } from "./encoder.ts";

/** An ImageEncoder that can add a per-group embedding to its tokens (ViT) or stem features (CNN). */
export interface ConditionedImageEncoder extends ImageEncoder {
  /** E: width of the embedding `applyWith` adds. */
  readonly embedDim: number;
  /**
   * `images`: (N·G) images laid out n-major (row i belongs to group i mod G), shaped as for `apply`;
   * `embedding: G,E` — row g is added to every token / position of the images of group g → `N·G,F`.
   */
  applyWith(g: GraphBuilder, images: Tensor, embedding: Tensor): Tensor;
}

export function isConditioned(e: ImageEncoder): e is ConditionedImageEncoder {
  return typeof (e as Partial<ConditionedImageEncoder>).applyWith === "function";
}

/** x: (N·G),...,E + embedding G,E broadcast over the middle axes → same shape as x. */
export function addGroupEmbedding(g: GraphBuilder, x: Tensor, embedding: Tensor): Tensor {
  const [groups, e] = embedding.shape as [number, number];
  const rows = x.shape[0] as number;
  if (embedding.shape.length !== 2 || x.shape[x.shape.length - 1] !== e || rows % groups !== 0) {
    throw new ShapeError(
      `group embedding [${embedding.shape.join(",")}] does not fit features [${x.shape.join(",")}] (need (N·G),…,E)`,
    );
  }
  const mid = x.shape.slice(1, -1).reduce((p, q) => p * q, 1);
  const grouped = g.reshape(x, [rows / groups, groups, mid, e]);
  return g.reshape(g.add(grouped, g.reshape(embedding, [groups, 1, e])), x.shape);
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
