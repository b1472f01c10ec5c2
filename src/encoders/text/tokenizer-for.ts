// The tokenizer a text encoder reads (policy.language.tokens): one place that turns its config into bytes or words,
// for training, the exported model's run time, and every check of an instruction against a model.
import { ByteTokenizer } from "./byte-tokenizer.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { WordTokenizer } from "./word-tokenizer.ts";

/** What picks a tokenizer: a text encoder config (`tokens` absent: bytes; `buckets` with "words" only). */
export interface TokenizerConfig {
  readonly maxTokens: number;
  readonly tokens?: "bytes" | "words" | undefined;
  readonly buckets?: number | undefined;
}

/** The tokenizer of a text encoder configured by `c`. */
export function tokenizerFor(c: TokenizerConfig): Tokenizer {
  return c.tokens === "words" ? new WordTokenizer(c.maxTokens, c.buckets as number) : new ByteTokenizer(c.maxTokens);
}
