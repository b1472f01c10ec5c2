// Instructions: the byte tokenizer round-trips text and refuses what is not an instruction (a text encoder of the
// default size takes 128 bytes); the causal text encoder reads each instruction up to its EOS and nothing after it,
// through a token table sized by its tokens (bytes, or hashed words: ./word-tokenizer.test.ts).
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../src/core/index.ts";
import { GraphBuilder, ParamLayout } from "../../../src/nn/index.ts";
import {
  ByteTokenizer,
  InstructionTooLong,
  TextTransformer,
  textEncoderConfigSchema,
} from "../../../src/encoders/index.ts";
import { InstructionError } from "../../../src/encoders/text/tokenizer.ts";
import { compile, f32 } from "../../nn/helpers.ts";

describe("byte tokenizer", () => {
  const tok = new ByteTokenizer(64);
  // ids 0–255 are bytes, then PAD, BOS, EOS: the embedding table of every byte-level model
  const [PAD_TOKEN, BOS_TOKEN, EOS_TOKEN] = [256, 257, 258];

  it("numbers PAD, BOS and EOS after the 256 bytes", () => {
    expect([tok.pad, tok.bos, tok.eos, tok.vocab]).toEqual([PAD_TOKEN, BOS_TOKEN, EOS_TOKEN, 259]);
  });

  it("round-trips instructions, non-ASCII included", () => {
    for (const text of [
      "unscrew the cap holding the bottle with your left hand",
      "hand the bottle over",
      "dévisse le bouchon — main gauche",
      "キャップを外して 🍾",
    ]) {
      const ids = tok.encode(text);
      expect(ids[0]).toBe(BOS_TOKEN);
      expect(ids[ids.length - 1]).toBe(EOS_TOKEN);
      expect(ids.slice(1, -1).every((id) => id >= 0 && id < 256)).toBe(true);
      expect(tok.decode(ids)).toBe(text);
    }
  });

  it("documented conversions: NFC, runs of spaces → one, trimmed", () => {
    expect(tok.decode(tok.encode("  lift   the bottle "))).toBe("lift the bottle");
    expect(tok.encode("e\u0301")).toEqual(tok.encode("\u00e9"));
  });

  it("pads a batch after EOS and marks each EOS", () => {
    const batch = new ByteTokenizer(8).batch(["ab", "abcd"]);
    expect(batch.dims).toEqual([2, 8]);
    expect(Array.from(batch.ids, Number)).toEqual([
      BOS_TOKEN,
      97,
      98,
      EOS_TOKEN,
      PAD_TOKEN,
      PAD_TOKEN,
      PAD_TOKEN,
      PAD_TOKEN,
      BOS_TOKEN,
      97,
      98,
      99,
      100,
      EOS_TOKEN,
      PAD_TOKEN,
      PAD_TOKEN,
    ]);
    expect(Array.from(batch.eos)).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
  });

  it("refuses empty, over-long and control-character instructions, saying why", () => {
    expect(() => tok.encode("")).toThrow(/is empty/);
    expect(() => tok.encode("   ")).toThrow(InstructionError);
    expect(() => tok.encode("x".repeat(63))).toThrow(/63 UTF-8 bytes; the text encoder takes at most 62/);
    expect(() => tok.encode("é".repeat(32))).toThrow(/64 UTF-8 bytes/);
    expect(tok.encode("x".repeat(62))).toHaveLength(64);
    expect(() => tok.encode("lift\tthe bottle")).toThrow(/character 4 is a control character \(U\+0009\)/);
    expect(() => tok.encode("lift\u001b[31m")).toThrow(/U\+001B/);
    expect(() => tok.encode("cap \ud800")).toThrow(/lone surrogate \(U\+D800\)/);
    expect(() => new ByteTokenizer(2)).toThrow(/maxTokens must be an integer ≥ 3/);
  });

  it("a text encoder of the default size takes 128 bytes; a longer instruction is refused with the limit", () => {
    const { maxTokens } = textEncoderConfigSchema.parse({});
    expect(maxTokens).toBe(130);
    const defaults = new ByteTokenizer(maxTokens);
    expect(defaults.encode("x".repeat(128))).toHaveLength(130);
    let refusal: unknown = null;
    try {
      defaults.encode("é".repeat(65));
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(InstructionTooLong);
    expect([(refusal as InstructionTooLong).limit, (refusal as Error).message]).toEqual([
      128,
      'instruction "ééééééééééééééééééééééééééééééééééééé..." is 130 UTF-8 bytes; the text encoder takes at most 128 (maxTokens 130, BOS and EOS included)',
    ]);
  });
});

describe("text encoder", () => {
  const T = 16;
  const encoder = () => new TextTransformer({ maxTokens: T, dim: 16, depth: 2, heads: 2, featureDim: 8 });

  async function features(ids: BigInt64Array, eos: Float32Array, n: number): Promise<Float32Array> {
    const g = new GraphBuilder();
    const out = encoder().apply(g, g.input("ids", [n, T], { dtype: "int64" }), g.input("eos", [n, T]));
    g.output("features", out);
    const session = await compile(g);
    const result = await session.run({ ids: { data: ids, dims: [n, T] }, eos: { data: eos, dims: [n, T] } });
    await session.release();
    return f32(result.features);
  }

  it("an instruction's features ignore what follows its EOS, and depend on its words", async () => {
    const tok = new ByteTokenizer(T);
    const batch = tok.batch(["lift the cap", "lift it", "left hand"]);
    const ids = batch.ids.slice();
    for (let k = 9; k < T; k++) ids[T + k] = BigInt(120); // row 1 ("lift it" = 9 tokens): bytes instead of padding
    const eos = batch.eos;
    const clean = tok.batch(["lift it"]);
    const all = await features(ids, eos, 3);
    const alone = await features(clean.ids, clean.eos, 1);
    expect(Array.from(all.subarray(8, 16))).toEqual(Array.from(alone).map((v) => expect.closeTo(v, 5)));
    const gap = all.subarray(0, 8).reduce((s, v, i) => s + Math.abs(v - (all[16 + i] as number)), 0);
    expect(gap).toBeGreaterThan(1e-3);
  });

  it("parameters: token table over the byte vocabulary, positions per token", () => {
    const g = new GraphBuilder();
    encoder().apply(g, g.input("ids", [1, T], { dtype: "int64" }), g.input("eos", [1, T]));
    const layout = ParamLayout.of(g);
    expect(layout.entry("token.weight").shape).toEqual([259, 16]);
    expect(layout.entry("pos").shape).toEqual([1, T, 16]);
  });

  it("words: a token table of buckets + 3 rows; the options resolve without tokens for bytes", () => {
    const g = new GraphBuilder();
    const words = new TextTransformer({ maxTokens: T, dim: 16, heads: 2, featureDim: 8, tokens: "words", buckets: 64 });
    words.apply(g, g.input("ids", [1, T], { dtype: "int64" }), g.input("eos", [1, T]));
    expect(ParamLayout.of(g).entry("token.weight").shape).toEqual([67, 16]);
    // absent tokens stay absent, so the JSON of configs and models made before the field is unchanged
    expect(Object.keys(textEncoderConfigSchema.parse({}))).not.toContain("tokens");
    expect(textEncoderConfigSchema.parse({ tokens: "words" })).toMatchObject({ tokens: "words", buckets: 4096 });
  });

  it("bad options and inputs name the field", () => {
    expect(() => new TextTransformer({ buckets: 64 })).toThrow(/buckets: expected absent unless tokens is "words"/);
    expect(() => new TextTransformer({ tokens: "bytes", buckets: 64 })).toThrow(/buckets: expected absent unless/);
    expect(() => new TextTransformer({ tokens: "letters" as "words" })).toThrow(
      /tokens: expected one of "bytes", "words", received "letters"/,
    );
    expect(() => new TextTransformer({ dim: 10, heads: 4 })).toThrow(ValidationError);
    expect(() => new TextTransformer({ dim: 10, heads: 4 })).toThrow(/heads/);
    const g = new GraphBuilder();
    expect(() => encoder().apply(g, g.input("ids", [1, 8], { dtype: "int64" }), g.input("eos", [1, 8]))).toThrow(
      /ids must be int64 \[N,16\]; received int64 \[1,8\]/,
    );
  });
});
