// The paraphrase benchmark (bench/paraphrases.json, `npm run bench -- language`): instructions written apart from
// every scenario's phrasings, each labelled with the task it asks and the hand it names, in groups by how they differ
// from the phrasings a policy was trained on (other words, other order, both hands' roles, negation, filler).
// Labels are what `duet sim|eval --task --hand` scores an instruction as; nothing here is ever a training phrasing.
import { z } from "zod";
import { ARMS, ValidationError, loadJsonFile, type Issue } from "../core/index.ts";
import { TASKS } from "./scenario.ts";
import { phrasingKey } from "./tasks.ts";

const paraphraseSchema = z.strictObject({
  /** The instruction, as a user would type it. */
  text: z.string().min(1),
  /** The task it asks. */
  task: z.enum(TASKS),
  /** The hand it names ("any": none): the hand that holds (unscrew), lifts (lift) or gives (handover). */
  hand: z.enum(["any", ...ARMS]),
});

const benchmarkSchema = z.strictObject({
  /** What the file is, and the rule that keeps it held out. */
  description: z.string(),
  groups: z
    .array(
      z.strictObject({
        /** What the group's phrasings have in common ("synonyms", "negation", …): a row of the benchmark's table. */
        name: z.string().min(1),
        /** How its phrasings differ from the training phrasings, in words. */
        about: z.string(),
        phrasings: z.array(paraphraseSchema).min(1),
      }),
    )
    .min(1),
});

export type Paraphrase = z.output<typeof paraphraseSchema>;
export type ParaphraseBenchmark = z.output<typeof benchmarkSchema>;

/** Read and validate a paraphrase benchmark; a phrasing listed twice (case and spaces ignored) is refused by path. */
export function loadParaphrases(file: string): ParaphraseBenchmark {
  const benchmark = loadJsonFile(file, benchmarkSchema);
  const seen = new Map<string, string>();
  const issues: Issue[] = [];
  benchmark.groups.forEach((group, g) =>
    group.phrasings.forEach((p, i) => {
      const path = `groups.${g}.phrasings.${i}.text`;
      const first = seen.get(phrasingKey(p.text));
      if (first !== undefined) {
        issues.push({
          path,
          expected: `a phrasing not listed before (${first} has it)`,
          received: JSON.stringify(p.text),
        });
      } else seen.set(phrasingKey(p.text), path);
    }),
  );
  const names = benchmark.groups.map((g) => g.name);
  names.forEach((name, g) => {
    if (names.indexOf(name) !== g)
      issues.push({ path: `groups.${g}.name`, expected: "a name no other group has", received: JSON.stringify(name) });
  });
  if (issues.length > 0) throw new ValidationError(file, issues);
  return benchmark;
}
