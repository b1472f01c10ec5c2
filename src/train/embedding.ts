// Shared by the contrastive trainers (text–image, audio–image): parameter subsets for exported encoders, and ranking
// over unit-norm embeddings.
import { ParamLayout, type GraphBuilder } from "../nn/index.ts";

/** The values of `sub`'s parameters (a graph holding part of the trained network) taken by name from `values`. */
export function subsetParams(layout: ParamLayout, values: Float32Array, sub: GraphBuilder): Float32Array {
  const subLayout = ParamLayout.of(sub);
  const out = new Float32Array(subLayout.total);
  for (const e of subLayout.entries) out.set(layout.view(values, e.name), e.offset);
  return out;
}

/** Row-major `[N, D]` embeddings. */
export interface Embeddings {
  data: Float32Array;
  dim: number;
}

/** Dot product of row i of `a` and row j of `b` (cosine for unit-norm rows). */
export function similarity(a: Embeddings, i: number, b: Embeddings, j: number): number {
  let s = 0;
  for (let k = 0; k < a.dim; k++) s += (a.data[i * a.dim + k] as number) * (b.data[j * b.dim + k] as number);
  return s;
}

/** Rows of `gallery` by similarity to row `q` of `queries`, best first. */
export function ranking(queries: Embeddings, q: number, gallery: Embeddings): number[] {
  const n = gallery.data.length / gallery.dim;
  const scores = Array.from({ length: n }, (_, j) => similarity(queries, q, gallery, j));
  return scores.map((_, j) => j).sort((x, y) => (scores[y] as number) - (scores[x] as number));
}
