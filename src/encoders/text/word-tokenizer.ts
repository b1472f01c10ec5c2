// Word-level tokenizer for instructions (policy.language.tokens "words"): hashed words between BOS and EOS, padded
// with PAD.
//
// Decision: hashed words (the "hashing trick"), not a vocabulary. The normalized instruction is lowercased and split
// into words — runs of letters, marks and digits; an apostrophe inside a word is kept ("don't"; ’ reads as '), other
// punctuation dropped — and each word is mapped to one of `buckets` ids by its FNV-1a 32-bit hash (of its UTF-8
// bytes) mod buckets; PAD, BOS and EOS come after the buckets. There is no vocabulary file to ship with a model and
// no unknown-token failure: a word never seen in training lands in a bucket whose embedding stayed near its
// initialisation, which reads about as an unknown token would. Two words can share a bucket (a collision), and then
// the text encoder cannot tell them apart: of the words of the paraphrase grammar and its benchmark, "lift" and
// "hoist" (synonyms there) share one at 4096 buckets. With a power-of-two count the id is the hash's low bits, which
// depend only on the low bits of the running state, so a colliding pair keeps colliding with a shared suffix
// ("lifts", "hoists"); a count that is not a power of two uses every bit. An instruction with no word ("!!!") is
// refused.
import { InstructionError, Tokenizer } from "./tokenizer.ts";

/** Words: letters, marks and digits, with apostrophes inside (after ’ → '). */
const WORD = /[\p{L}\p{M}\p{N}]+(?:'[\p{L}\p{M}\p{N}]+)*/gu;

/** FNV-1a, 32 bits, of `bytes`. */
function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export class WordTokenizer extends Tokenizer {
  /** `maxTokens` counts BOS and EOS, so an instruction may have maxTokens − 2 words; word ids are 0…buckets−1. */
  constructor(
    maxTokens: number,
    readonly buckets: number,
  ) {
    if (!Number.isInteger(buckets) || buckets < 1) {
      throw new InstructionError(`tokenizer: buckets must be a positive integer; got ${buckets}`);
    }
    super(maxTokens, buckets, "words");
  }

  /** The words of normalized text, lowercased, in order. */
  private words(clean: string): string[] {
    return clean.toLowerCase().replace(/’/g, "'").match(WORD) ?? [];
  }

  protected override pieces(clean: string, text: string): number[] {
    const words = this.words(clean);
    if (words.length === 0) {
      throw new InstructionError(
        `instruction ${JSON.stringify(text)} has no word (a run of letters or digits): give a task such as "unscrew the cap"`,
      );
    }
    const utf8 = new TextEncoder();
    return words.map((w) => fnv1a32(utf8.encode(w)) % this.buckets);
  }
}
