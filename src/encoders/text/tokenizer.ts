// Byte-level tokenizer for instructions: UTF-8 bytes (ids 0–255) between BOS and EOS, padded with PAD.
//
// Decision: bytes, not a trained BPE vocabulary. Instructions are short ("unscrew the cap holding the bottle with
// your left hand": 55 bytes), so the sequence-length saving of BPE is small, and a byte vocabulary has no unknown
// token: every Unicode character is some bytes. What is refused instead is what cannot be an instruction: control
// characters (a pasted tab or escape sequence), lone surrogates, empty text and text over the length limit.
// Documented conversions: Unicode NFC normalisation, runs of spaces collapsed to one, leading/trailing spaces dropped.
import { DuetError } from "../../core/index.ts";

/** Ids 0–255 are bytes. */
export const PAD_TOKEN = 256;
export const BOS_TOKEN = 257;
export const EOS_TOKEN = 258;
export const TEXT_VOCAB = 259;

/** An instruction that cannot be tokenized; the message says why and what is allowed. */
export class InstructionError extends DuetError {
  override name = "InstructionError";
}

/** An instruction longer than the text encoder takes (`limit` UTF-8 bytes: maxTokens − 2). */
export class InstructionTooLong extends InstructionError {
  override name = "InstructionTooLong";
  constructor(
    message: string,
    readonly limit: number,
  ) {
    super(message);
  }
}

/** A batch of instructions: ids `[N, T]` (int64, PAD after EOS) and a one-hot `[N, T]` marking each EOS. */
export interface TokenBatch {
  readonly ids: BigInt64Array;
  readonly eos: Float32Array;
  readonly dims: [number, number];
}

export class ByteTokenizer {
  /** `maxTokens` counts BOS and EOS, so an instruction may have maxTokens − 2 UTF-8 bytes. */
  constructor(readonly maxTokens: number) {
    if (!Number.isInteger(maxTokens) || maxTokens < 3) {
      throw new InstructionError(`tokenizer: maxTokens must be an integer ≥ 3 (BOS, one byte, EOS); got ${maxTokens}`);
    }
  }

  /** The text as it is tokenized: NFC, whitespace runs → one space, trimmed. Throws on what cannot be tokenized. */
  normalize(text: string): string {
    const clean = text.normalize("NFC").replace(/ +/g, " ").trim();
    if (clean.length === 0) {
      throw new InstructionError(
        `instruction ${JSON.stringify(text)} is empty: give a task such as "unscrew the cap", or leave the flag out`,
      );
    }
    for (let i = 0; i < clean.length; i++) {
      const code = clean.codePointAt(i) as number;
      const lone = code >= 0xd800 && code <= 0xdfff;
      if (code < 0x20 || (code >= 0x7f && code < 0xa0) || lone) {
        const name = lone ? "a lone surrogate" : "a control character";
        throw new InstructionError(
          `instruction ${JSON.stringify(text)}: character ${i} is ${name} (U+${code.toString(16).toUpperCase().padStart(4, "0")}); ` +
            `instructions are one line of printable text`,
        );
      }
      if (code > 0xffff) i++;
    }
    const bytes = new TextEncoder().encode(clean).length;
    if (bytes > this.maxTokens - 2) {
      throw new InstructionTooLong(
        `instruction ${JSON.stringify(clean.length > 40 ? `${clean.slice(0, 37)}...` : clean)} is ${bytes} UTF-8 bytes; ` +
          `the text encoder takes at most ${this.maxTokens - 2} (maxTokens ${this.maxTokens}, BOS and EOS included)`,
        this.maxTokens - 2,
      );
    }
    return clean;
  }

  /** [BOS, bytes of normalize(text), EOS]. */
  encode(text: string): number[] {
    return [BOS_TOKEN, ...new TextEncoder().encode(this.normalize(text)), EOS_TOKEN];
  }

  /** The text of `ids`, special tokens skipped. */
  decode(ids: readonly number[]): string {
    const bytes = Uint8Array.from(ids.filter((id) => id < 256));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  }

  /**
   * `rows` null instructions, classifier-free guidance's unconditional input (the policy's
   * `train.augment.dropInstruction` and `inference.guidance`): every id PAD and no EOS marked, so the text encoder
   * reads no token (TextTransformer.applyNull). No text tokenizes to it: `normalize` refuses empty text.
   */
  blank(rows: number): TokenBatch {
    const t = this.maxTokens;
    return {
      ids: new BigInt64Array(rows * t).fill(BigInt(PAD_TOKEN)),
      eos: new Float32Array(rows * t),
      dims: [rows, t],
    };
  }

  /** Rows of `maxTokens` ids, PAD after EOS, and the EOS positions one-hot. */
  batch(texts: readonly string[]): TokenBatch {
    const t = this.maxTokens;
    const ids = new BigInt64Array(texts.length * t).fill(BigInt(PAD_TOKEN));
    const eos = new Float32Array(texts.length * t);
    texts.forEach((text, row) => {
      const tokens = this.encode(text);
      tokens.forEach((id, k) => (ids[row * t + k] = BigInt(id)));
      eos[row * t + tokens.length - 1] = 1;
    });
    return { ids, eos, dims: [texts.length, t] };
  }
}
