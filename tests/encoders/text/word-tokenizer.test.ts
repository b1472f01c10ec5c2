// Hashed words: an instruction is lowercased and split into words (letters and digits, apostrophes inside kept,
// punctuation dropped), each word's FNV-1a hash picks its bucket; what is not an instruction is refused, naming it.
import { describe, expect, it } from "vitest";
import { ByteTokenizer, InstructionTooLong, tokenizerFor } from "../../../src/encoders/index.ts";
import { WordTokenizer } from "../../../src/encoders/text/word-tokenizer.ts";

describe("word tokenizer", () => {
  const tok = new WordTokenizer(8, 4096);

  it("numbers PAD, BOS and EOS after the buckets", () => {
    expect([tok.pad, tok.bos, tok.eos, tok.vocab]).toEqual([4096, 4097, 4098, 4099]);
  });

  it("hashes each word to a pinned bucket (FNV-1a 32-bit mod buckets)", () => {
    // FNV-1a("left") = 0x124aec70, ("hand") = 0xc4ba2f20, ("a") = 0xe40c292c, computed apart from this code
    expect(tok.encode("left hand")).toEqual([4097, 3184, 3872, 4098]);
    const wide = new WordTokenizer(3, 1 << 20);
    expect(wide.encode("a")).toEqual([wide.bos, 796972, wide.eos]);
    // a documented collision (synonyms in the paraphrase grammar), kept by a shared suffix at a power-of-two count
    expect([tok.encode("lift"), tok.encode("lifts")]).toEqual([tok.encode("hoist"), tok.encode("hoists")]);
    expect(new WordTokenizer(3, 4093).encode("lift")).not.toEqual(new WordTokenizer(3, 4093).encode("hoist"));
  });

  it("lowercases, drops punctuation and keeps apostrophes inside words", () => {
    expect(tok.encode("  Left,   HAND! ")).toEqual(tok.encode("left hand"));
    expect(tok.encode("don't")).toHaveLength(3); // one word
    expect(tok.encode("don't")).not.toEqual(tok.encode("don t"));
    expect(tok.encode("don’t")).toEqual(tok.encode("don't"));
    expect(tok.encode("'cap'")).toEqual(tok.encode("cap"));
    expect(tok.encode("Dévisse le bouchon")).toEqual(tok.encode("dévisse le bouchon"));
    expect(tok.normalize("  Left,   HAND! ")).toBe("Left, HAND!");
  });

  it("pads a batch after EOS and marks each EOS", () => {
    const batch = new WordTokenizer(5, 16).batch(["a", "b c"]);
    const [pad, bos, eos] = [16, 17, 18];
    const ids = Array.from(batch.ids, Number);
    expect([ids[0], ids[2], ids[3], ids[4], ids[5], ids[8], ids[9]]).toEqual([bos, eos, pad, pad, bos, eos, pad]);
    expect(Array.from(batch.eos)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 1, 0]);
    expect(new WordTokenizer(5, 16).blank(1).ids).toEqual(new BigInt64Array(5).fill(16n));
  });

  it("refuses too many words, no word at all, empty text and control characters, naming the instruction", () => {
    let refusal: unknown = null;
    try {
      tok.encode("hold the bottle in your left hand now");
    } catch (e) {
      refusal = e;
    }
    expect(refusal).toBeInstanceOf(InstructionTooLong);
    expect([(refusal as InstructionTooLong).limit, (refusal as Error).message]).toEqual([
      6,
      'instruction "hold the bottle in your left hand now" is 8 words; the text encoder takes at most 6 (maxTokens 8, BOS and EOS included)',
    ]);
    expect(tok.encode("a b c d e f")).toHaveLength(8);
    expect(() => tok.encode("!!!")).toThrow('instruction "!!!" has no word (a run of letters or digits)');
    expect(() => tok.encode(" ")).toThrow(/is empty/);
    expect(() => tok.encode("lift\tthe bottle")).toThrow(/character 4 is a control character \(U\+0009\)/);
    expect(() => new WordTokenizer(8, 0)).toThrow(/buckets must be a positive integer; got 0/);
  });
});

describe("tokenizerFor", () => {
  it("picks bytes without tokens, hashed words with them", () => {
    expect(tokenizerFor({ maxTokens: 8 })).toBeInstanceOf(ByteTokenizer);
    expect(tokenizerFor({ maxTokens: 8, tokens: "bytes" })).toBeInstanceOf(ByteTokenizer);
    const words = tokenizerFor({ maxTokens: 8, tokens: "words", buckets: 16 });
    expect(words).toBeInstanceOf(WordTokenizer);
    expect([words.vocab, words.unit]).toEqual([19, "words"]);
  });
});
