// Multi-head attention: self (optionally causal) or cross attention to a context sequence.
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { Linear } from "./linear.ts";

export interface AttentionOptions {
  /** Width of the context tokens for cross attention (default: `dim`). */
  contextDim?: number;
  /** Mask future positions (query t sees keys ≤ t; default false). */
  causal?: boolean;
}

/** Separate q/k/v/out projections named `q`, `k`, `v`, `out`. */
export class MultiHeadAttention {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;

  constructor(
    readonly name: string,
    readonly dim: number,
    readonly heads: number,
    readonly options: AttentionOptions = {},
  ) {
    if (dim % heads !== 0) throw new RangeError(`attention '${name}': dim ${dim} not divisible by ${heads} heads`);
    const kv = options.contextDim ?? dim;
    this.q = new Linear("q", dim, dim);
    this.k = new Linear("k", kv, dim);
    this.v = new Linear("v", kv, dim);
    this.out = new Linear("out", dim, dim);
  }

  /** x: B,T,D; context: B,S,Dc (default x) → B,T,D */
  apply(g: GraphBuilder, x: Tensor, context?: Tensor): Tensor {
    return g.scope(this.name, () => {
      const ctx = context ?? x;
      const [b, t] = x.shape as [number, number, number];
      const s = ctx.shape[1] as number;
      const h = this.heads;
      const dh = this.dim / h;
      const split = (y: Tensor, len: number, perm: number[]): Tensor =>
        g.transpose(g.reshape(y, [b, len, h, dh]), perm);
      const q = split(this.q.apply(g, x), t, [0, 2, 1, 3]); // B,H,T,dh
      const k = split(this.k.apply(g, ctx), s, [0, 2, 3, 1]); // B,H,dh,S
      const v = split(this.v.apply(g, ctx), s, [0, 2, 1, 3]); // B,H,S,dh
      let scores = g.mul(g.matmul(q, k), 1 / Math.sqrt(dh)); // B,H,T,S
      if (this.options.causal) {
        const mask = new Float32Array(t * s);
        for (let i = 0; i < t; i++) for (let j = i + 1; j < s; j++) mask[i * s + j] = -1e9;
        scores = g.add(scores, g.constant(mask, [t, s]));
      }
      const attended = g.matmul(g.softmax(scores, -1), v); // B,H,T,dh
      return this.out.apply(g, g.reshape(g.transpose(attended, [0, 2, 1, 3]), [b, t, this.dim]));
    });
  }
}
