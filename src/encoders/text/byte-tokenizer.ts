// Byte-level tokenizer for instructions (policy.language.tokens "bytes", the default): UTF-8 bytes (ids 0–255)
// between BOS and EOS, padded with PAD.
//
// Decision: bytes, not a trained BPE vocabulary. Instructions are short ("unscrew the cap holding the bottle with
// your left hand": 55 bytes), so the sequence-length saving of BPE is small, and a byte vocabulary has no unknown
// token: every Unicode character is some bytes. Normalisation and refusals: ./tokenizer.ts.
import { Tokenizer } from "./tokenizer.ts";

/** Ids 0–255 are bytes, then PAD 256, BOS 257, EOS 258: a vocabulary of 259. */
export class ByteTokenizer extends Tokenizer {
  /** `maxTokens` counts BOS and EOS, so an instruction may have maxTokens − 2 UTF-8 bytes. */
  constructor(maxTokens: number) {
    super(maxTokens, 256, "UTF-8 bytes");
  }

  protected override pieces(clean: string): number[] {
    return [...new TextEncoder().encode(clean)];
  }

  /** The text of `ids`, special tokens skipped. */
  decode(ids: readonly number[]): string {
    const bytes = Uint8Array.from(ids.filter((id) => id < 256));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  }
}
