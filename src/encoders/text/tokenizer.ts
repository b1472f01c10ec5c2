// What the instruction tokenizers share: the normalisation and refusals, the length limit, BOS/EOS/PAD framing and
// batches. Two tokenizers meet it (`policy.language.tokens`; ./tokenizer-for.ts picks one from a config):
// - bytes (./byte-tokenizer.ts, the default): UTF-8 bytes, no vocabulary and no unknown token;
// - words (./word-tokenizer.ts): hashed words, a fixed number of buckets and no vocabulary file either.
// What is refused is what cannot be an instruction: control characters (a pasted tab or escape sequence), lone
// surrogates, empty text and text over the length limit. Documented conversions: Unicode NFC normalisation, runs of
// spaces collapsed to one, leading/trailing spaces dropped.
import { DuetError } from "../../core/index.ts";

/** An instruction that cannot be tokenized; the message says why and what is allowed. */
export class InstructionError extends DuetError {
  override name = "InstructionError";
}

/** An instruction longer than the text encoder takes (`limit` pieces, bytes or words: maxTokens − 2). */
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

/** NFC, whitespace runs → one space, trimmed; throws on empty text, control characters and lone surrogates. */
function normalizeText(text: string): string {
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
  return clean;
}

/**
 * An instruction tokenizer: ids 0…pieces−1 are its pieces (bytes, or word buckets), then PAD, BOS and EOS, so the
 * text encoder's embedding table has `vocab` = pieces + 3 rows.
 */
export abstract class Tokenizer {
  readonly pad: number;
  readonly bos: number;
  readonly eos: number;

  /**
   * `maxTokens` counts BOS and EOS, so an instruction may have maxTokens − 2 pieces; `pieces` ids come before PAD,
   * BOS, EOS; `unit` names a piece in messages ("UTF-8 bytes", "words").
   */
  constructor(
    readonly maxTokens: number,
    pieces: number,
    readonly unit: string,
  ) {
    if (!Number.isInteger(maxTokens) || maxTokens < 3) {
      throw new InstructionError(`tokenizer: maxTokens must be an integer ≥ 3 (BOS, one piece, EOS); got ${maxTokens}`);
    }
    [this.pad, this.bos, this.eos] = [pieces, pieces + 1, pieces + 2];
  }

  /** Rows of the text encoder's embedding table: the pieces, PAD, BOS and EOS. */
  get vocab(): number {
    return this.eos + 1;
  }

  /** The ids of the pieces of normalized text `clean`; throws an InstructionError naming `text` if it has none. */
  protected abstract pieces(clean: string, text: string): number[];

  /** The text as it is tokenized: NFC, whitespace runs → one space, trimmed. Throws on what cannot be tokenized. */
  normalize(text: string): string {
    return this.read(text).clean;
  }

  /** [BOS, pieces of normalize(text), EOS]. */
  encode(text: string): number[] {
    return [this.bos, ...this.read(text).ids, this.eos];
  }

  /**
   * `rows` null instructions, classifier-free guidance's unconditional input (the policy's
   * `train.augment.dropInstruction` and `inference.guidance`): every id PAD and no EOS marked, so the text encoder
   * reads no token (TextTransformer.applyNull). No text tokenizes to it: `normalize` refuses empty text.
   */
  blank(rows: number): TokenBatch {
    const t = this.maxTokens;
    return {
      ids: new BigInt64Array(rows * t).fill(BigInt(this.pad)),
      eos: new Float32Array(rows * t),
      dims: [rows, t],
    };
  }

  /** Rows of `maxTokens` ids, PAD after EOS, and the EOS positions one-hot. */
  batch(texts: readonly string[]): TokenBatch {
    const t = this.maxTokens;
    const { ids, eos } = this.blank(texts.length);
    texts.forEach((text, row) => {
      const tokens = this.encode(text);
      tokens.forEach((id, k) => (ids[row * t + k] = BigInt(id)));
      eos[row * t + tokens.length - 1] = 1;
    });
    return { ids, eos, dims: [texts.length, t] };
  }

  /** `text` normalized and its piece ids, refused over the limit of maxTokens − 2 pieces. */
  private read(text: string): { clean: string; ids: number[] } {
    const c = normalizeText(text);
    const ids = this.pieces(c, text);
    const limit = this.maxTokens - 2;
    if (ids.length > limit) {
      throw new InstructionTooLong(
        `instruction ${JSON.stringify(c.length > 40 ? `${c.slice(0, 37)}...` : c)} is ${ids.length} ${this.unit}; ` +
          `the text encoder takes at most ${limit} (maxTokens ${this.maxTokens}, BOS and EOS included)`,
        limit,
      );
    }
    return { clean: c, ids };
  }
}
