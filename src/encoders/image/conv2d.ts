// Channels-last 2-D convolution as im2col (Pad + k² strided Slices + Concat + one MatMul): nn has no Conv2d, and
// im2col over channels-last tensors is what beat onnxruntime's native Conv here (docs/design.md, "Facts that
// matter for speed").
import { PatchEmbed, ShapeError, type GraphBuilder, type Module, type Tensor } from "../../nn/index.ts";

export interface Conv2dOptions {
  /** 1 or 2 (default 1). */
  stride?: 1 | 2;
  /** Zero padding on each side of H and W (default ⌊k/2⌋). */
  padding?: number;
  /** Add a bias (default true). */
  bias?: boolean;
}

/** Output length of a convolution along one axis: ⌊(size + 2·pad − k) / stride⌋ + 1. */
export function convOutputSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/**
 * im2col of x `N,H,W,C` → `N,Ho,Wo,k·k·C` (columns ordered tap row dy, tap column dx, channel c). Stride 2 picks the
 * even rows/columns of each tap with a Reshape + Slice (ONNX Slice steps are not in the builder), so no MatMul work
 * is wasted on skipped positions.
 */
export function im2col2d(g: GraphBuilder, x: Tensor, k: number, stride: 1 | 2, pad: number): Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const ho = convOutputSize(h, k, stride, pad);
  const wo = convOutputSize(w, k, stride, pad);
  if (ho < 1 || wo < 1) throw new ShapeError(`im2col2d: ${h}×${w} is smaller than the ${k}×${k} kernel`);
  // Extra zeros at the end so that every tap's strided window [d, d + stride·out) fits.
  const extraH = Math.max(0, k - 1 + stride * ho - (h + 2 * pad));
  const extraW = Math.max(0, k - 1 + stride * wo - (w + 2 * pad));
  const xp = pad + extraH + extraW > 0 ? g.pad(x, [0, pad, pad, 0, 0, pad + extraH, pad + extraW, 0]) : x;
  const taps: Tensor[] = [];
  for (let dy = 0; dy < k; dy++) {
    for (let dx = 0; dx < k; dx++) {
      let tap = g.slice(xp, [1, 2], [dy, dx], [dy + stride * ho, dx + stride * wo]); // N, s·Ho, s·Wo, C
      if (stride === 2) {
        tap = g.slice(g.reshape(tap, [n, ho, 2, wo, 2 * c]), [2, 4], [0, 0], [1, c]); // N,Ho,1,Wo,C
        tap = g.reshape(tap, [n, ho, wo, c]);
      }
      taps.push(tap);
    }
  }
  return taps.length === 1 ? (taps[0] as Tensor) : g.concat(taps, 3);
}

/**
 * Conv2d over channels-last images `N,H,W,Cin` → `N,Ho,Wo,Cout`. Weight `[k·k·Cin, Cout]`: row (dy·k + dx)·Cin + c
 * holds PyTorch's weight[o, c, dy, dx]. PyTorch's default init (uniform ±1/√(k²·Cin)).
 */
export class Conv2d implements Module {
  constructor(
    readonly name: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    readonly options: Conv2dOptions = {},
  ) {}

  /** Spatial output size for an `h × w` input. */
  outputSize(h: number, w: number): [number, number] {
    const s = this.options.stride ?? 1;
    const p = this.options.padding ?? Math.floor(this.kernel / 2);
    return [convOutputSize(h, this.kernel, s, p), convOutputSize(w, this.kernel, s, p)];
  }

  /** x: N,H,W,Cin → N,Ho,Wo,Cout */
  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      const k = this.kernel;
      const cin = this.inChannels;
      if (x.shape.length !== 4 || x.shape[3] !== cin) {
        throw new ShapeError(`Conv2d '${this.name}': expected N,H,W,${cin}, received [${x.shape.join(",")}]`);
      }
      const bound = 1 / Math.sqrt(cin * k * k);
      const w = g.param("weight", [k * k * cin, this.outChannels], { kind: "uniform", bound });
      const cols = im2col2d(g, x, k, this.options.stride ?? 1, this.options.padding ?? Math.floor(k / 2));
      const y = g.matmul(cols, w);
      if (this.options.bias === false) return y;
      return g.add(y, g.param("bias", [this.outChannels], { kind: "uniform", bound }));
    });
  }
}

/**
 * A P×P stride-P convolution ("patchify"): non-overlapping patches through one MatMul (nn's PatchEmbed), reshaped
 * back to a map, `N,H,W,Cin` → `N,H/P,W/P,Cout`. Weight `[P·P·Cin, Cout]` in Conv2d's row order.
 */
export class PatchifyConv implements Module {
  readonly embed: PatchEmbed;

  constructor(
    readonly name: string,
    readonly patch: number,
    inChannels: number,
    readonly outChannels: number,
  ) {
    this.embed = new PatchEmbed(name, patch, inChannels, outChannels);
  }

  apply(g: GraphBuilder, x: Tensor): Tensor {
    const [n, h, w] = x.shape as [number, number, number, number];
    const p = this.patch;
    return g.reshape(this.embed.apply(g, x), [n, h / p, w / p, this.outChannels]);
  }
}
