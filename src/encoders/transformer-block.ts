// Pre-norm transformer block: x + Attn(LN(x)), then x + MLP(LN(x)) (ViT, Dosovitskiy et al.; GPT-2 when causal).
import { GraphBuilder, LayerNorm, Mlp, MultiHeadAttention, type Module, type Tensor } from "../nn/index.ts";

export class TransformerBlock implements Module {
  readonly norm1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(
    readonly name: string,
    readonly dim: number,
    readonly heads: number,
    /** MLP hidden width = round(mlpRatio·dim). */
    readonly mlpRatio: number,
    /** Token t attends to tokens ≤ t only (a text encoder); default false. */
    readonly causal = false,
  ) {
    this.norm1 = new LayerNorm("norm1", dim, 1e-6);
    this.attn = new MultiHeadAttention("attn", dim, heads, { causal });
    this.norm2 = new LayerNorm("norm2", dim, 1e-6);
    this.mlp = new Mlp("mlp", [dim, Math.round(mlpRatio * dim), dim], "gelu");
  }

  /** x: N,T,D → N,T,D */
  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      const h = g.add(x, this.attn.apply(g, this.norm1.apply(g, x)));
      return g.add(h, this.mlp.apply(g, this.norm2.apply(g, h)));
    });
  }
}
