// Channels-last 1-D convolution as im2col: Pad + k Slices + Concat + one MatMul (faster than ORT Conv for short T).
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

/** im2col of x [B,T,C] padded by `pad`: [B, T+2·pad−k+1, k·C] (tap-major, then channel). */
export function im2col(g: GraphBuilder, x: Tensor, k: number, pad: number): Tensor {
  const [, t0] = x.shape as [number, number, number];
  const xp = pad > 0 ? g.pad(x, [0, pad, 0, 0, pad, 0]) : x;
  const t1 = t0 + 2 * pad - k + 1;
  if (k === 1) return xp;
  const taps: Tensor[] = [];
  for (let j = 0; j < k; j++) taps.push(g.slice(xp, [1], [j], [j + t1]));
  return g.concat(taps, 2);
}

/**
 * Conv1d over x [B,T,Cin] → [B,T',Cout]. Weight [k·Cin, Cout]: row j·Cin + c holds PyTorch's weight[o, c, j].
 * Stride 2 keeps every other im2col row (a Reshape + Slice, no wasted MatMul work).
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
      let cols = im2col(g, x, k, this.options.padding ?? Math.floor(k / 2));
      if ((this.options.stride ?? 1) === 2) {
        const [b, t1] = cols.shape as [number, number, number];
        if (t1 % 2 === 1) cols = g.pad(cols, [0, 0, 0, 0, 1, 0]);
        const half = Math.ceil(t1 / 2);
        cols = g.slice(g.reshape(cols, [b, half, 2 * k * cin]), [2], [0], [k * cin]);
      }
      const y = g.matmul(cols, w);
      if (this.options.bias === false) return y;
      return g.add(y, g.param("bias", [this.outChannels], { kind: "uniform", bound }));
    });
  }
}
