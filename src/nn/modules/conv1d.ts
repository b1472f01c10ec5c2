// Channels-last 1-D convolution as im2col + one MatMul (faster than ORT Conv for short T); im2col of short sequences
// is itself one MatMul by a constant selection matrix.
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import type { Module } from "./module.ts";

export interface Conv1dOptions {
  /** 1 or 2 (default 1). */
  stride?: 1 | 2;
  /** Zero padding on each side of T (default ⌊k/2⌋). */
  padding?: number;
  /** Add a bias (default true). */
  bias?: boolean;
}

/** Sequences up to this length take im2col as one MatMul by a constant 0/1 selection matrix (see `im2col`). */
export const SELECT_IM2COL_MAX_T = 64;

/**
 * im2col of x [B,T,C] padded by `pad`, keeping every `stride`-th output row: [B, T', k·C] with
 * T' = ⌈(T+2·pad−k+1)/stride⌉ (tap-major, then channel). For short sequences (T ≤ SELECT_IM2COL_MAX_T) this is one
 * MatMul by a constant selection matrix S [T'·k, T] (row t·k + j picks x[stride·t + j − pad], zero in the padding)
 * and a Reshape: 2 graph nodes instead of Pad + k Slices + Concat (+ Reshape + Slice for stride 2). onnxruntime's
 * per-node cost dominates the small denoiser graphs, and the extra FLOPs (2·T'·k·T·C) are tiny next to the conv's.
 */
export function im2col(g: GraphBuilder, x: Tensor, k: number, pad: number, stride: 1 | 2 = 1): Tensor {
  const [b, t0, c] = x.shape as [number, number, number];
  const t1 = t0 + 2 * pad - k + 1;
  const tOut = Math.ceil(t1 / stride);
  if (t0 <= SELECT_IM2COL_MAX_T && !(k === 1 && pad === 0 && stride === 1)) {
    const sel = new Float32Array(tOut * k * t0);
    for (let t = 0; t < tOut; t++) {
      for (let j = 0; j < k; j++) {
        const src = stride * t + j - pad;
        if (src >= 0 && src < t0) sel[(t * k + j) * t0 + src] = 1;
      }
    }
    const cols = g.matmul(g.constant(sel, [tOut * k, t0]), x); // B, T'·k, C
    return g.reshape(cols, [b, tOut, k * c]);
  }
  const xp = pad > 0 ? g.pad(x, [0, pad, 0, 0, pad, 0]) : x;
  let cols = xp;
  if (k > 1) {
    const taps: Tensor[] = [];
    for (let j = 0; j < k; j++) taps.push(g.slice(xp, [1], [j], [j + t1]));
    cols = g.concat(taps, 2);
  }
  if (stride === 2) {
    if (t1 % 2 === 1) cols = g.pad(cols, [0, 0, 0, 0, 1, 0]);
    cols = g.slice(g.reshape(cols, [b, tOut, 2 * k * c]), [2], [0], [k * c]);
  }
  return cols;
}

/**
 * Conv1d over x [B,T,Cin] → [B,T',Cout]. Weight [k·Cin, Cout]: row j·Cin + c holds PyTorch's weight[o, c, j].
 * Stride 2 keeps every other im2col row (no wasted MatMul work).
 */
export class Conv1d implements Module {
  constructor(
    readonly name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly options: Conv1dOptions = {},
  ) {}

  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      const k = this.kernel;
      const cin = this.inChannels;
      const bound = 1 / Math.sqrt(cin * k);
      const w = g.param("weight", [k * cin, this.outChannels], { kind: "uniform", bound });
      const cols = im2col(g, x, k, this.options.padding ?? Math.floor(k / 2), this.options.stride ?? 1);
      const y = g.matmul(cols, w);
      if (this.options.bias === false) return y;
      return g.add(y, g.param("bias", [this.outChannels], { kind: "uniform", bound }));
    });
  }
}
