// The saved record of a robustness run (`npm run bench -- robustness --save FILE`: the benchmark's JSON object, with
// every row's per-episode outcomes and the run settings it ran with). A model directory keeps its run on the test
// seeds as robustness-test.json (an evaluation of the shipped model, made once, after every choice) and one on the
// validation seeds, used for choices, as robustness-validation.json; `duet card` reads them back with every check.
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { ValidationError, loadJsonFile, type Issue } from "../core/index.ts";
import { inferenceSchema, type InferenceSettings } from "../policy/index.ts";
import { EVAL_SEED, TEST_SEED } from "./eval.ts";

/** What a row keeps of each episode. */
const outcomeSchema = z.object({ seed: z.int(), success: z.boolean(), holder: z.string(), steps: z.int().min(0) });
export type RobustnessOutcome = z.output<typeof outcomeSchema>;

const rowSchema = z.object({
  /** The perturbation ("none": the scenario as it is, always the first row). */
  perturb: z.string(),
  /** What it stands for (the perturbation's summary when the run was made). */
  what: z.string(),
  successes: z.int().min(0),
  episodes: z.int().min(1),
  success_rate: z.number().min(0).max(1),
  wilson95: z.tuple([z.number(), z.number()]),
  /** Seeds that succeeded unperturbed and failed here, and the other way round (the same seeds, paired). */
  lost: z.int().min(0),
  gained: z.int().min(0),
  wall_s: z.number(),
  per_episode: z.array(outcomeSchema),
});
export type RobustnessRow = z.output<typeof rowSchema>;

export const robustnessRunSchema = z.object({
  /** The command line that made the run. */
  command: z.string(),
  policy: z.string(),
  scenario: z.string(),
  /** The first and last seed; every row ran each seed between them once. */
  seeds: z.tuple([z.int(), z.int()]),
  episodes: z.int().min(1),
  workers: z.int().min(1),
  /** The policy's run settings as evaluated (model.json's policy.inference). */
  inference: inferenceSchema,
  /** The unperturbed row first, then one row per perturbation. */
  runs: z.array(rowSchema).min(2),
});
export type RobustnessRun = z.output<typeof robustnessRunSchema>;

/** The file a model directory keeps its robustness run on each kind of seed in. */
export const ROBUSTNESS_FILES = { test: "robustness-test.json", validation: "robustness-validation.json" } as const;
export type SeedSplit = keyof typeof ROBUSTNESS_FILES;

/** A model directory's saved robustness run. */
export interface SavedRobustness {
  file: string;
  split: SeedSplit;
  run: RobustnessRun;
}

/** Episodes that succeeded in `before` and failed in `after` (lost), and the other way round (gained), seed by seed. */
export function paired(
  before: readonly RobustnessOutcome[],
  after: readonly RobustnessOutcome[],
): { lost: number; gained: number } {
  return {
    lost: after.filter((o, i) => before[i]?.success === true && !o.success).length,
    gained: after.filter((o, i) => before[i]?.success === false && o.success).length,
  };
}

const SEED_RANGES: Record<SeedSplit, string> = {
  test: `from ${TEST_SEED} (test seeds)`,
  validation: `from ${EVAL_SEED} to ${TEST_SEED - 1} (validation seeds)`,
};
const inSplit = (split: SeedSplit, seed: number): boolean =>
  split === "test" ? seed >= TEST_SEED : seed >= EVAL_SEED && seed < TEST_SEED;
const lastName = (path: string): string => basename(path.replace(/\/+$/, ""));

/**
 * What is wrong with keeping a run of `policy` on `seeds` in `file`: a model directory's robustness-SPLIT.json holds
 * that directory's run on that split's seeds (no issues for any other file name).
 */
export function placementIssues(file: string, policy: string, seeds: readonly [number, number]): Issue[] {
  const split = (Object.keys(ROBUSTNESS_FILES) as SeedSplit[]).find((s) => ROBUSTNESS_FILES[s] === basename(file));
  if (split === undefined) return [];
  const issues: Issue[] = [];
  const dir = lastName(dirname(file));
  if (lastName(policy) !== dir)
    issues.push({
      path: "policy",
      expected: `the model directory ${dir} (the file's own)`,
      received: JSON.stringify(policy),
    });
  if (!inSplit(split, seeds[0]) || !inSplit(split, seeds[1]))
    issues.push({ path: "seeds", expected: `seeds ${SEED_RANGES[split]}`, received: `${seeds[0]}–${seeds[1]}` });
  return issues;
}

/** Every issue of a parsed run that its schema cannot see: the rows' seeds, counts and pairing. */
function rowIssues(run: RobustnessRun): Issue[] {
  const issues: Issue[] = [];
  const [first, last] = run.seeds;
  if (run.episodes !== last - first + 1)
    issues.push({
      path: "episodes",
      expected: `${last - first + 1} (seeds ${first}–${last})`,
      received: `${run.episodes}`,
    });
  const base = run.runs[0]!;
  if (base.perturb !== "none")
    issues.push({ path: "runs.0.perturb", expected: `"none" (the unperturbed row first)`, received: base.perturb });
  run.runs.forEach((r, i) => {
    const at = `runs.${i}`;
    const inOrder = r.per_episode.length === last - first + 1 && r.per_episode.every((o, k) => o.seed === first + k);
    if (!inOrder)
      issues.push({
        path: `${at}.per_episode`,
        expected: `one episode of each seed ${first}–${last}, in order`,
        received: `${r.per_episode.length} episodes, seeds ${r.per_episode[0]?.seed}–${r.per_episode.at(-1)?.seed}`,
      });
    const successes = r.per_episode.filter((o) => o.success).length;
    if (r.successes !== successes || r.episodes !== r.per_episode.length)
      issues.push({
        path: `${at}.successes`,
        expected: `the per-episode outcomes' count, ${successes} of ${r.per_episode.length}`,
        received: `${r.successes} of ${r.episodes}`,
      });
    const pair = paired(base.per_episode, r.per_episode);
    if (i > 0 && (pair.lost !== r.lost || pair.gained !== r.gained))
      issues.push({
        path: `${at}.lost`,
        expected: `lost / gained against runs.0, ${pair.lost} / ${pair.gained}`,
        received: `${r.lost} / ${r.gained}`,
      });
  });
  return issues;
}

/**
 * The robustness runs a model directory keeps (test before validation), each checked: its fields, that it is this
 * directory's policy on its file's seeds, its rows, and that it ran with the run settings the model has now
 * (`inference`, model.json's policy.inference). Throws one ValidationError per file naming every problem.
 */
export function readRobustness(dir: string, inference: InferenceSettings): SavedRobustness[] {
  const found: SavedRobustness[] = [];
  for (const split of Object.keys(ROBUSTNESS_FILES) as SeedSplit[]) {
    const file = ROBUSTNESS_FILES[split];
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const run = loadJsonFile(path, robustnessRunSchema);
    const issues = [...placementIssues(path, run.policy, run.seeds), ...rowIssues(run)];
    if (!isDeepStrictEqual(run.inference, inference))
      issues.push({
        path: "inference",
        expected:
          `the model's run settings, ${JSON.stringify(inference)} (model.json policy.inference: the model was ` +
          `re-exported after this run; run the benchmark again)`,
        received: JSON.stringify(run.inference),
      });
    if (issues.length > 0) throw new ValidationError(path, issues);
    found.push({ file, split, run });
  }
  return found;
}
