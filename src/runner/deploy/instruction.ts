// An instruction checked against a language-conditioned policy's text encoder, wherever it comes from: `duet sim|eval
// --instruction` and a scenario's phrasings (rollout/sim-job.ts), `duet deploy --instruction` and the robot
// interface's instruction topic (./controller.ts). One check, so every path refuses the same texts with the same words.
import { DuetError } from "../../core/index.ts";
import { InstructionTooLong, tokenizerFor } from "../../encoders/index.ts";
import type { PolicyConfig } from "../../policy/index.ts";

/**
 * `text` as the text encoder of the model directory `policy` reads it (normalized: NFC, runs of spaces collapsed,
 * trimmed), or a DuetError that starts with `where` (the flag, file field or topic the text came from) and says what
 * is wrong: empty (for a words model: without a word), a control character, or longer than the encoder takes — its
 * limit, which its training fixed.
 */
export function checkInstruction(
  policy: string,
  language: NonNullable<PolicyConfig["language"]>,
  text: string,
  where: string,
): string {
  try {
    return tokenizerFor(language).normalize(text);
  } catch (e) {
    // a length limit is the trained model's: its text encoder has position embeddings for maxTokens tokens only
    const fix =
      e instanceof InstructionTooLong
        ? `: the limit of ${policy}'s text encoder, fixed by its training (config.language.maxTokens); ` +
          `shorten the instruction, or retrain with a larger policy.language.maxTokens (the default, 130, takes 128 ${language.tokens ?? "bytes"})`
        : "";
    throw new DuetError(`${where}: ${(e as Error).message}${fix}`);
  }
}
