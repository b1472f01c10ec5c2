// Text encoder (CLIP's, small): tokens (bytes, or hashed words: `tokens`) → embedding + learned positions → causal
// pre-norm transformer blocks → LayerNorm → the EOS token's features → Linear head. Causal attention makes the EOS
// token the only one that has read the whole instruction, and keeps it blind to the padding after it.
import { z } from "zod";
import { parseWith } from "../../core/index.ts";
import { Embedding, LayerNorm, Linear, ShapeError, type GraphBuilder, type Tensor } from "../../nn/index.ts";
import { tokenizerFor } from "./tokenizer-for.ts";
import { TransformerBlock } from "../transformer-block.ts";

const size = (d: string, def: number) => z.number().int().positive().default(def).describe(d);

/** Hash buckets of a word-level text encoder when `buckets` is not given. */
const DEFAULT_BUCKETS = 4096;

export const textEncoderConfigSchema = z
  .object({
    /**
     * Sequence length T, BOS and EOS included (the tokenizer's maxTokens). Default 130: instructions of up to 128
     * bytes, room for a sentence that names both hands' roles ("the right arm should hold the bottle while the left
     * one removes the cap" is 71 bytes; issue 38). Fixed by training: positions beyond it have no learned embedding.
     */
    maxTokens: z.number().int().min(3).max(512).default(130).describe("tokens per instruction, BOS and EOS included"),
    /** Token width D. Default 64. */
    dim: size("token width", 64),
    /** Causal transformer blocks. Default 2. */
    depth: z.number().int().min(1).max(24).default(2).describe("causal pre-norm transformer blocks"),
    /** Attention heads (must divide dim). Default 4. */
    heads: size("attention heads", 4),
    /** MLP hidden width = mlpRatio·dim. Default 4. */
    mlpRatio: z.number().positive().default(4).describe("MLP hidden width as a multiple of dim"),
    /** Output features F. Default 128. */
    featureDim: size("output features per instruction", 128),
    /**
     * What a token is: "bytes" (UTF-8 bytes, ./byte-tokenizer.ts) or "words" (hashed words, ./word-tokenizer.ts).
     * Absent: bytes, and absent it stays in the resolved config, so the configs, models and checkpoints made before
     * the field existed keep their exact JSON. `maxTokens` counts these tokens.
     */
    tokens: z.enum(["bytes", "words"]).optional().describe('"bytes" (absent) or "words" (hashed)'),
    /** "words" only: hash buckets, the word ids (the embedding table has buckets + 3 rows). Default 4096. */
    buckets: z.number().int().min(1).max(1_048_576).optional().describe('hash buckets of "words" tokens'),
  })
  .strict()
  .refine((c) => c.dim % c.heads === 0, { path: ["heads"], message: "a divisor of dim" })
  .refine((c) => c.buckets === undefined || c.tokens === "words", {
    path: ["buckets"],
    message: 'absent unless tokens is "words" (bytes have their fixed 256 ids)',
  })
  .transform((c) => (c.tokens === "words" ? { ...c, buckets: c.buckets ?? DEFAULT_BUCKETS } : c));
export type TextEncoderConfig = z.output<typeof textEncoderConfigSchema>;
export type TextEncoderConfigInput = z.input<typeof textEncoderConfigSchema>;

/**
 * `ids: N,T` int64 and `eos: N,T` float32 (one-hot at each row's EOS; `tokenizerFor(config).batch`) → `N,F`.
 * Parameter names (under the caller's scope): `token.weight`, `pos`, `block{i}.*`, `norm.*`, `head.*`.
 */
export class TextTransformer {
  readonly config: TextEncoderConfig;
  private readonly token: Embedding;
  private readonly blocks: TransformerBlock[];
  private readonly norm: LayerNorm;
  private readonly head: Linear;

  /** Options are validated here; a bad one throws a ValidationError naming `source` and each bad field. */
  constructor(config: TextEncoderConfigInput = {}, source = "text encoder config") {
    const c = parseWith(textEncoderConfigSchema, config, source);
    this.config = c;
    this.token = new Embedding("token", tokenizerFor(c).vocab, c.dim);
    this.blocks = Array.from(
      { length: c.depth },
      (_, i) => new TransformerBlock(`block${i}`, c.dim, c.heads, c.mlpRatio, true),
    );
    this.norm = new LayerNorm("norm", c.dim, 1e-6);
    this.head = new Linear("head", c.dim, c.featureDim);
  }

  get featureDim(): number {
    return this.config.featureDim;
  }

  apply(g: GraphBuilder, ids: Tensor, eos: Tensor): Tensor {
    const { maxTokens: t, dim: d } = this.config;
    const n = ids.shape[0] as number;
    const want = `[N,${t}]`;
    if (ids.dtype !== "int64" || ids.shape.length !== 2 || ids.shape[1] !== t) {
      throw new ShapeError(`text encoder: ids must be int64 ${want}; received ${ids.dtype} [${ids.shape.join(",")}]`);
    }
    if (eos.dtype !== "float32" || eos.shape.length !== 2 || eos.shape[1] !== t) {
      throw new ShapeError(`text encoder: eos must be float32 ${want}; received ${eos.dtype} [${eos.shape.join(",")}]`);
    }
    let x = g.add(this.token.apply(g, ids), g.param("pos", [1, t, d], { kind: "normal", std: 0.01 }, false));
    for (const block of this.blocks) x = block.apply(g, x);
    x = this.norm.apply(g, x);
    const picked = g.reduceSum(g.mul(x, g.reshape(eos, [n, t, 1])), [1]); // N,D
    return this.head.apply(g, picked);
  }

  /**
   * The features of `n` null instructions (Tokenizer.blank: no EOS marked) → `N,F`, without their tokens: the EOS
   * pick of a row with no EOS is zero, so `apply` gives the head's output on zeros (its bias). A constant of the graph
   * that onnxruntime folds when it loads it; the same numbers as `apply` on blank rows (tests/policy/diffusion).
   */
  applyNull(g: GraphBuilder, n: number): Tensor {
    return this.head.apply(g, g.constant(new Float32Array(n * this.config.dim), [n, this.config.dim]));
  }
}
