// Instruction following beyond a scenario's own phrasings (issue 38): `duet eval --instruction TEXT --task --hand`
// on the same seeds for every phrasing of the held-out paraphrase benchmark (bench/paraphrases.json), and for the
// scenario's own phrasings as the baseline row; per group, how often the hand a phrasing names held the bottle and how
// often the task succeeded.
// Usage: npm run bench -- language [--policy DIR] [--scenario FILE] [--paraphrases FILE] [--seeds N] [--seed S]
//          [--workers K] [--guidance W] [--out FILE.md] [--save FILE.json]
// Defaults: models/multi-task-unet on scenarios/multi-task.json, bench/paraphrases.json, 4 seeds per phrasing from the
// first validation seed (1 000 000: the benchmark informs choices, so the test seeds are refused), 1 worker. A
// phrasing longer than the model's text encoder takes is counted as refused, not played. --guidance W: every episode
// sampled with classifier-free guidance w on the instruction (duet eval --guidance; default the model's own). The
// markdown tables go to stderr (and to --out); the JSON line to stdout (and to --save: a model directory keeps it as
// language-validation.json, which its card reads; src/cli/language-run.ts).
import { parseArgs } from "node:util";
import { intArg, numberArg } from "../src/cli/args.ts";
import { EVAL_SEED, TEST_SEED, evaluate } from "../src/cli/eval.ts";
import { DuetError, writeAtomic } from "../src/core/index.ts";
import { InstructionTooLong, tokenizerFor } from "../src/encoders/index.ts";
import { readPolicyModel } from "../src/policy/index.ts";
import { loadParaphrases, loadScenario, phrasingKey, scenarioPhrasings, type Paraphrase } from "../src/sim/index.ts";
import {
  BASELINE_GROUP,
  groupRows,
  groupTable,
  phrasingTable,
  runHeading,
  type LanguageRun,
  type PhrasingResult,
} from "../src/cli/language-run.ts";
import { option } from "./option.ts";

/** A phrasing to play and its group; `byFlags`: scored by --task and --hand (the benchmark's), not by the scenario. */
interface Case extends Paraphrase {
  group: string;
  byFlags: boolean;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const { values } = parseArgs({
    args,
    options: {
      policy: { type: "string" },
      scenario: { type: "string" },
      paraphrases: { type: "string" },
      seeds: { type: "string" },
      seed: { type: "string" },
      workers: { type: "string" },
      guidance: { type: "string" },
      out: { type: "string" },
      save: { type: "string" },
    },
    strict: true,
  });
  const policy = values.policy ?? "models/multi-task-unet";
  const scenarioFile = values.scenario ?? "scenarios/multi-task.json";
  const file = values.paraphrases ?? "bench/paraphrases.json";
  const seeds = option("seeds", values.seeds, intArg(1), 4);
  const seed = option("seed", values.seed, intArg(0), EVAL_SEED);
  const workers = option("workers", values.workers, intArg(1), 1);
  const guidance = values.guidance === undefined ? undefined : option("guidance", values.guidance, numberArg(0, 20), 1);
  if (seed + seeds > TEST_SEED) {
    throw new DuetError(
      `--seed ${seed} with --seeds ${seeds} reaches the test seeds (${TEST_SEED} on), which are kept for the final ` +
        `evaluation of a model (docs/training.md); the benchmark informs choices: use seeds below ${TEST_SEED}`,
    );
  }
  const { language, inference } = readPolicyModel(policy).config;
  if (language === null) {
    throw new DuetError(`--policy ${policy} reads no instructions (its policy.language is null): nothing to benchmark`);
  }
  const tokenizer = tokenizerFor(language);
  const benchmark = loadParaphrases(file);
  const scenario = loadScenario(scenarioFile);
  const own = scenarioPhrasings(scenario);
  if (own.length === 0)
    throw new DuetError(`--scenario ${scenarioFile} has no task list: no phrasings to compare with`);
  const ownKeys = new Set(own.map((t) => phrasingKey(t.instruction)));
  const leaked = benchmark.groups.flatMap((g) => g.phrasings).filter((p) => ownKeys.has(phrasingKey(p.text)));
  if (leaked.length > 0) {
    throw new DuetError(
      `${file}: ${leaked.map((p) => JSON.stringify(p.text)).join(", ")} ${leaked.length === 1 ? "is" : "are"} ` +
        `${scenarioFile}'s own phrasing${leaked.length === 1 ? "" : "s"}, so not held out; take them out of ${file}`,
    );
  }

  const cases: Case[] = [
    ...own.map((t): Case => ({
      group: BASELINE_GROUP,
      text: t.instruction,
      task: t.task,
      hand: t.hand ?? "any",
      byFlags: false,
    })),
    ...benchmark.groups.flatMap((g) => g.phrasings.map((p) => ({ ...p, group: g.name, byFlags: true }))),
  ];
  const start = performance.now();
  const results: PhrasingResult[] = [];
  for (const [i, c] of cases.entries()) {
    const { byFlags, ...label } = c;
    let refused = false;
    try {
      tokenizer.normalize(c.text);
    } catch (e) {
      if (!(e instanceof InstructionTooLong)) throw e;
      refused = true; // over the model's limit: duet eval would refuse it before starting a worker
    }
    const bytes = new TextEncoder().encode(c.text).length;
    process.stderr.write(`language: [${i + 1}/${cases.length}] ${c.group}: "${c.text}"${refused ? " refused" : ""}\n`);
    if (refused) {
      results.push({ ...label, bytes, refused, episodes: 0, successes: 0, named_hand: { episodes: 0, held: 0 } });
      continue;
    }
    const summary = await evaluate({
      policy,
      scenario: scenarioFile,
      episodes: seeds,
      seed,
      workers,
      instruction: c.text,
      ...(guidance !== undefined && { guidance }),
      ...(byFlags && { task: c.task, ...(c.hand !== "any" && { hand: c.hand }) }),
      json: true, // no per-episode lines: the tables say it all
    });
    const named = Object.values(summary.per_task).map((t) => t.named_hand);
    results.push({
      ...label,
      bytes,
      refused,
      episodes: summary.episodes,
      successes: summary.successes,
      named_hand: {
        episodes: named.reduce((s, n) => s + n.episodes, 0),
        held: named.reduce((s, n) => s + n.used, 0),
      },
    });
  }
  const groups = groupRows(results);
  const head = {
    policy,
    scenario: scenarioFile,
    paraphrases: file,
    seeds: [seed, seed + seeds - 1] as [number, number],
    seeds_per_phrasing: seeds,
    workers,
    guidance: guidance ?? inference.guidance ?? 1,
    limit: language.maxTokens - 2,
    limit_unit: tokenizer.unit,
  };
  const markdown = `${runHeading(head)}\n\n${groupTable(groups)}\n\n${phrasingTable(results)}\n`;
  process.stderr.write(`\n${markdown}`);
  if (values.out !== undefined) writeAtomic(values.out, markdown);
  const result: LanguageRun = {
    // where the tables and the JSON were written is not a setting of the run
    command: ["npm run bench -- language", ...withoutOutputs(args)].join(" "),
    ...head,
    groups,
    phrasings: results,
    wall_s: (performance.now() - start) / 1000,
  };
  if (values.save !== undefined) {
    writeAtomic(values.save, JSON.stringify(result) + "\n");
    process.stderr.write(`wrote ${values.save}\n`);
  }
  return result;
}

/** The arguments without --out FILE and --save FILE (also in their --flag=FILE form). */
function withoutOutputs(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--out" || a === "--save") i++;
    else if (!a.startsWith("--out=") && !a.startsWith("--save=")) kept.push(a);
  }
  return kept;
}
