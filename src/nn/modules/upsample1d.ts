// ConvTranspose1d(k=4, stride=2, padding=1) — Diffusion Policy's Upsample1d — as one polyphase MatMul, channels-last.
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { im2col } from "./conv1d.ts";
import type { Module } from "./module.ts";

/**
 * x [B,T,Cin] → [B,2T,Cout]. Weight [4, Cin, Cout] = PyTorch's ConvTranspose1d weight [Cin, Cout, 4] with the tap
 * axis first. Even outputs 2m take x[m−1]·W3 + x[m]·W1, odd outputs 2m+1 take x[m]·W2 + x[m+1]·W0.
 */
export class Upsample1d implements Module {
  constructor(
    readonly name: string,
    readonly inChannels: number,
    readonly outChannels: number,
  ) {}

  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      const cin = this.inChannels;
      const cout = this.outChannels;
      const bound = 1 / Math.sqrt(cout * 4);
      const w = g.param("weight", [4, cin, cout], { kind: "uniform", bound });
      const tap = (j: number): Tensor => g.reshape(g.slice(w, [0], [j], [j + 1]), [cin, cout]);
      const zero = g.constant(new Float32Array(cin * cout), [cin, cout]);
      const even = g.concat([tap(3), tap(1), zero], 0);
      const odd = g.concat([zero, tap(2), tap(0)], 0);
      const wc = g.concat([even, odd], 1);
      const [b, t] = x.shape as [number, number, number];
      const y = g.reshape(g.matmul(im2col(g, x, 3, 1), wc), [b, 2 * t, cout]);
      return g.add(y, g.param("bias", [cout], { kind: "uniform", bound }));
    });
  }
}
