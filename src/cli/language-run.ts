// A language benchmark run (`npm run bench -- language`, issue 38): its JSON object, the markdown tables the bench
// prints, and a model card's "Instructions in other words" section from the run a model directory keeps as
// language-validation.json (`--save`). The benchmark informs choices, so it runs on validation seeds only; the card
// reads the targets against it (named-hand compliance on the held-out paraphrases, and on the scenario's own
// phrasings), and says by how much a target is missed.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { ValidationError, loadJsonFile, wilson95, type Issue } from "../core/index.ts";

/** The baseline group: the scenario's own phrasings, each labelled with what it asks there. */
export const BASELINE_GROUP = "scenario phrasings";

/** Where a model directory keeps its benchmark run (validation seeds: the benchmark informs choices). */
export const LANGUAGE_FILE = "language-validation.json";

/** Issue 38's targets for the shipped multi-task model: named-hand compliance on the benchmark and on the baseline. */
export const LANGUAGE_TARGETS = { benchmark: 0.9, aim: 0.98, baseline: 0.95 } as const;

const interval = z.tuple([z.number(), z.number()]);
const namedSchema = z.object({ episodes: z.int().min(0), held: z.int().min(0) });

const phrasingSchema = z.object({
  group: z.string(),
  text: z.string(),
  task: z.string(),
  hand: z.string(),
  /** UTF-8 bytes of the text as the text encoder reads it; `refused`: more than the model takes. */
  bytes: z.int().min(0),
  refused: z.boolean(),
  episodes: z.int().min(0),
  successes: z.int().min(0),
  /** Episodes whose label names a hand, and in how many of them that hand held the bottle (handover: gave it). */
  named_hand: namedSchema,
});
export type PhrasingResult = z.output<typeof phrasingSchema>;

const groupSchema = z.object({
  group: z.string(),
  phrasings: z.int().min(0),
  refused: z.int().min(0),
  episodes: z.int().min(0),
  successes: z.int().min(0),
  success_rate: z.number().nullable(),
  wilson95: interval,
  named_hand: namedSchema.extend({ rate: z.number().nullable(), wilson95: interval }),
});
export type GroupRow = z.output<typeof groupSchema>;

export const languageRunSchema = z.object({
  /** The command line that made the run. */
  command: z.string(),
  policy: z.string(),
  scenario: z.string(),
  paraphrases: z.string(),
  seeds: z.tuple([z.int(), z.int()]),
  seeds_per_phrasing: z.int().min(1),
  workers: z.int().min(1),
  guidance: z.number(),
  /** The longest instruction the model's text encoder takes, in `limit_unit` ("UTF-8 bytes", "words"). */
  limit: z.int().min(1),
  limit_unit: z.string(),
  /** The baseline group first, then the benchmark's groups, then "all held-out phrasings" pooled. */
  groups: z.array(groupSchema).min(2),
  phrasings: z.array(phrasingSchema).min(1),
  wall_s: z.number(),
});
export type LanguageRun = z.output<typeof languageRunSchema>;

/** The benchmark's groups pooled into one row. */
export const ALL_HELD_OUT = "all held-out phrasings";

/** A group's phrasings' episodes pooled. */
export function pool(group: string, results: readonly PhrasingResult[]): GroupRow {
  const sum = (f: (r: PhrasingResult) => number): number => results.reduce((s, r) => s + f(r), 0);
  const episodes = sum((r) => r.episodes);
  const successes = sum((r) => r.successes);
  const named = sum((r) => r.named_hand.episodes);
  const held = sum((r) => r.named_hand.held);
  return {
    group,
    phrasings: results.length,
    refused: results.filter((r) => r.refused).length,
    episodes,
    successes,
    success_rate: episodes ? successes / episodes : null,
    wilson95: wilson95(successes, episodes),
    named_hand: { episodes: named, held, rate: named ? held / named : null, wilson95: wilson95(held, named) },
  };
}

/** The baseline row, one row per benchmark group (in the order the phrasings came), and all held-out ones pooled. */
export function groupRows(results: readonly PhrasingResult[]): GroupRow[] {
  const names = [...new Set(results.map((r) => r.group))];
  const rows = names.map((name) =>
    pool(
      name,
      results.filter((r) => r.group === name),
    ),
  );
  return [
    ...rows,
    pool(
      ALL_HELD_OUT,
      results.filter((r) => r.group !== BASELINE_GROUP),
    ),
  ];
}

const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
const ratio = (k: number, n: number): string => (n ? `${k}/${n} (${pct(k / n)})` : "—");
const range = (n: number, w: readonly [number, number]): string => (n ? `${pct(w[0])}–${pct(w[1])}` : "—");

/** The per-group table. */
export function groupTable(rows: readonly GroupRow[]): string {
  return [
    "| group | phrasings (refused) | episodes | successes | Wilson 95% | named hand held | Wilson 95% |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${r.group} | ${r.phrasings} (${r.refused}) | ${r.episodes} | ${ratio(r.successes, r.episodes)} | ` +
        `${range(r.episodes, r.wilson95)} | ${ratio(r.named_hand.held, r.named_hand.episodes)} | ` +
        `${range(r.named_hand.episodes, r.named_hand.wilson95)} |`,
    ),
  ].join("\n");
}

/** The per-phrasing table. */
export function phrasingTable(results: readonly PhrasingResult[]): string {
  return [
    "| group | phrasing | task | hand | successes | named hand held |",
    "| --- | --- | --- | --- | --- | --- |",
    ...results.map(
      (r) =>
        `| ${r.group} | ${r.text} | ${r.task} | ${r.hand} | ` +
        (r.refused
          ? `refused (${r.bytes} bytes) | — |`
          : `${r.successes}/${r.episodes} | ${ratio(r.named_hand.held, r.named_hand.episodes)} |`),
    ),
  ].join("\n");
}

/** What the tables count, in one paragraph. */
export function runHeading(run: Omit<LanguageRun, "groups" | "phrasings" | "wall_s" | "command">): string {
  return (
    `Instruction following of ${run.policy} (guidance ${run.guidance}) on ${run.scenario}: each phrasing on seeds ` +
    `${run.seeds[0]}–${run.seeds[1]}; "${BASELINE_GROUP}" are the scenario's own, the other groups ` +
    `${run.paraphrases}'s (held out). Named hand held: of the episodes whose phrasing names a hand, those in which ` +
    `that hand held the bottle (handover: gave it). Refused: longer than the model's text encoder takes ` +
    `(${run.limit} ${run.limit_unit}).`
  );
}

/** One target as a sentence: the measured rate against it, met or missed by how many points. */
function against(what: string, row: GroupRow | undefined, target: number, aim?: number): string {
  const rate = row?.named_hand.rate;
  if (rate === null || rate === undefined) return `${what}: not measured (no episode names a hand).`;
  const points = (100 * (target - rate)).toFixed(1);
  return (
    `${what}: ${pct(rate)} (${row!.named_hand.held}/${row!.named_hand.episodes}) against ≥ ${pct(target)}` +
    `${aim === undefined ? "" : ` (aim ${pct(aim)})`}: ${rate >= target ? "met." : `missed by ${points} points.`}`
  );
}

/** Issue 38's targets read against a run. */
export function targetsReading(groups: readonly GroupRow[]): string {
  const find = (name: string): GroupRow | undefined => groups.find((g) => g.group === name);
  const { benchmark, aim, baseline } = LANGUAGE_TARGETS;
  return [
    `- ${against("Named-hand compliance on the held-out phrasings", find(ALL_HELD_OUT), benchmark, aim)}`,
    `- ${against("On the scenario's own phrasings", find(BASELINE_GROUP), baseline)}`,
  ].join("\n");
}

/** The saved run of a model directory, checked; undefined when it has none. */
export function readLanguageRun(dir: string): LanguageRun | undefined {
  const path = join(dir, LANGUAGE_FILE);
  if (!existsSync(path)) return undefined;
  const run = loadJsonFile(path, languageRunSchema);
  const issues: Issue[] = [];
  const own = basename(dir.replace(/\/+$/, ""));
  if (basename(run.policy.replace(/\/+$/, "")) !== own)
    issues.push({ path: "policy", expected: `the model directory ${own} (the file's own)`, received: run.policy });
  const played = run.phrasings.reduce((s, p) => s + p.episodes, 0);
  const counted = run.groups.filter((g) => g.group !== ALL_HELD_OUT).reduce((s, g) => s + g.episodes, 0);
  if (played !== counted)
    issues.push({ path: "groups", expected: `${played} episodes (the phrasings')`, received: `${counted}` });
  if (issues.length > 0) throw new ValidationError(path, issues);
  return run;
}

/** A model card's section from its saved run; "" when it has none. */
export function languageSection(run: LanguageRun | undefined): string {
  if (run === undefined) return "";
  return `
## Instructions in other words

    ${run.command}

${runHeading(run)} Per-phrasing outcomes in ${LANGUAGE_FILE}; what was tried to raise them: \
docs/experiments/multi-task-language.md.

${groupTable(run.groups)}

Issue 38's targets:

${targetsReading(run.groups)}
`;
}
