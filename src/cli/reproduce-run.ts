// A timed `npm run reproduce` (issue 39, item 3): the record scripts/reproduce.sh writes beside the model it made
// (reproduce.json: when, on which commit and how many CPUs, whether it started from nothing, and each stage's wall
// time), and a model card's "From nothing" section. A shipped model keeps a reproduction's record and, where that
// reproduction was evaluated on the test seeds, its `duet eval --json` output (reproduce-test.json): the card then says
// how long the recipe takes from nothing and whether what it makes reaches the shipped model's test success.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ValidationError, loadJsonFile, type Issue } from "../core/index.ts";
import { readSimSummary, type SimSummary } from "./sim.ts";

/** Where a model directory keeps a reproduction's record, and that reproduction's test evaluation. */
export const REPRODUCE_FILE = "reproduce.json";
export const REPRODUCE_TEST_FILE = "reproduce-test.json";

/** The stages scripts/reproduce.sh runs, in order; one it skipped (no observer stage) is absent. */
const STAGES = ["record", "observer", "policy", "evaluate"] as const;

const seconds = z.int().min(0);

export const reproduceRunSchema = z.strictObject({
  /** The command line that ran the script. */
  command: z.string().min(1),
  started: z.iso.datetime(),
  finished: z.iso.datetime(),
  commit: z.string().min(1),
  cpus: z.int().min(1),
  /** No dataset, observer checkpoint or model checkpoint was there at the start: nothing was resumed. */
  from_nothing: z.boolean(),
  seconds,
  stages: z.strictObject({
    record: seconds,
    observer: seconds.optional(),
    policy: seconds,
    evaluate: seconds,
  }),
});
export type ReproduceRun = z.output<typeof reproduceRunSchema>;

/** A model directory's reproduction (record and test evaluation, where kept); undefined when it has none. */
export interface Reproduction {
  run: ReproduceRun;
  test?: SimSummary;
}

export function readReproduction(dir: string): Reproduction | undefined {
  const path = join(dir, REPRODUCE_FILE);
  if (!existsSync(path)) return undefined;
  const run = loadJsonFile(path, reproduceRunSchema);
  const issues: Issue[] = [];
  const staged = STAGES.reduce((s, k) => s + (run.stages[k] ?? 0), 0);
  if (staged > run.seconds)
    issues.push({ path: "seconds", expected: `at least the stages' sum, ${staged}`, received: `${run.seconds}` });
  const wall = (Date.parse(run.finished) - Date.parse(run.started)) / 1000;
  if (Math.abs(wall - run.seconds) > 1)
    issues.push({ path: "seconds", expected: `finished − started, ${wall.toFixed(0)}`, received: `${run.seconds}` });
  if (issues.length > 0) throw new ValidationError(path, issues);
  const testPath = join(dir, REPRODUCE_TEST_FILE);
  return existsSync(testPath) ? { run, test: readSimSummary(testPath) } : { run };
}

const minutes = (s: number): string => `${s} s (${(s / 60).toFixed(1)} min)`;

/** A model card's section from its reproduction; "" when it has none. `test` is the model's own test evaluation. */
export function reproduceSection(r: Reproduction | undefined, test: SimSummary | undefined): string {
  if (r === undefined) return "";
  const { run } = r;
  const stages = STAGES.filter((k) => run.stages[k] !== undefined)
    .map((k) => `${k === "evaluate" ? "validation evaluation" : k} ${run.stages[k]} s`)
    .join(", ");
  const how = run.from_nothing
    ? "from nothing (no dataset, no checkpoint)"
    : "resuming what an earlier run had left (not from nothing: the time is not the recipe's)";
  const reached = r.test
    ? ` That reproduction — another model from the same commands — unscrewed the cap in ${r.test.successes}/${r.test.episodes} \
test episodes (${REPRODUCE_TEST_FILE}, seeds ${r.test.per_episode[0]?.seed}–${r.test.per_episode.at(-1)?.seed})\
${test ? `, this model in ${test.successes}/${test.episodes}` : ""}.`
    : ` That reproduction was not evaluated on the test seeds (no ${REPRODUCE_TEST_FILE}).`;
  return `
## From nothing

    ${run.command}

\`scripts/reproduce.sh\` recorded the demonstrations, trained this recipe and evaluated it ${how} on \
${run.started.slice(0, 10)} (commit ${run.commit.slice(0, 7)}, ${run.cpus} CPUs) in **${minutes(run.seconds)}**: ${stages} \
(${REPRODUCE_FILE}).${reached} Timings: docs/experiments/reproduce.md.
`;
}
