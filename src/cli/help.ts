// Help text every command shares one shape: one line that says what it does (shown in `duet --help` too), optional
// details, the flags with their defaults (commander lists them), and one example to copy at the end.
import type { Command } from "commander";

export interface CommandDoc {
  /** What the command does, in one line (no newline): `duet --help` lists it, `duet CMD --help` starts with it. */
  summary: string;
  /** Longer explanation printed under the summary in `duet CMD --help`. */
  details?: string;
  /** One command line that runs as written from the repository root, starting with `duet `. */
  example: string;
}

/** Give `cmd` its summary, description and example. */
export function documented(cmd: Command, doc: CommandDoc): Command {
  if (doc.summary.includes("\n")) throw new Error(`duet ${cmd.name()}: the help summary must be one line`);
  if (!doc.example.startsWith("duet ")) throw new Error(`duet ${cmd.name()}: the help example must start with "duet "`);
  // Single line breaks in the details are for the source's width: commander wraps to the terminal's.
  const details = doc.details?.replace(/(?<!\n)\n(?!\n)/g, " ");
  return cmd
    .summary(doc.summary)
    .description(details ? `${doc.summary}\n\n${details}` : doc.summary)
    .addHelpText("after", `\nExample:\n  ${doc.example}\n`);
}
