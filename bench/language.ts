// Instruction following beyond a scenario's own phrasings (issue 38): `duet eval --instruction TEXT --task --hand`
// on the same seeds for every phrasing of the held-out paraphrase benchmark (bench/paraphrases.json), and for the
// scenario's own phrasings as the baseline row; per group, how often the hand a phrasing names held the bottle and how
// often the task succeeded.
// Usage: npm run bench -- language [--policy DIR] [--scenario FILE] [--paraphrases FILE] [--seeds N] [--seed S]
//          [--workers K] [--guidance W] [--out FILE.md]
// Defaults: models/multi-task-unet on scenarios/multi-task.json, bench/paraphrases.json, 4 seeds per phrasing from the
// first validation seed (1 000 000: the benchmark informs choices, so the test seeds are refused), 1 worker. A
// phrasing longer than the model's text encoder takes is counted as refused, not played. --guidance W: every episode
// sampled with classifier-free guidance w on the instruction (duet eval --guidance; default the model's own). The
// markdown tables go to stderr (and to --out); the JSON line to stdout.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { intArg, numberArg } from "../src/cli/args.ts";
import { EVAL_SEED, TEST_SEED, evaluate } from "../src/cli/eval.ts";
import { DuetError, wilson95 } from "../src/core/index.ts";
import { InstructionTooLong, tokenizerFor } from "../src/encoders/index.ts";
import { readPolicyModel } from "../src/policy/index.ts";
import { loadParaphrases, loadScenario, phrasingKey, scenarioPhrasings, type Paraphrase } from "../src/sim/index.ts";
import { option } from "./option.ts";

/** The baseline row: the scenario's own phrasings, each labelled with what it asks there. */
const BASELINE = "scenario phrasings";

/** A phrasing to play and its group; `byFlags`: scored by --task and --hand (the benchmark's), not by the scenario. */
interface Case extends Paraphrase {
  group: string;
  byFlags: boolean;
}

/** One phrasing's episodes (none if the model's text encoder refused it). */
interface PhrasingResult extends Paraphrase {
  group: string;
  /** UTF-8 bytes of the text as the text encoder reads it; `refused`: more than the model takes. */
  bytes: number;
  refused: boolean;
  episodes: number;
  successes: number;
  /** Episodes whose label names a hand, and in how many of them that hand held the bottle (handover: gave it). */
  named_hand: { episodes: number; held: number };
}

/** A group's phrasings' episodes pooled. */
interface GroupRow {
  group: string;
  phrasings: number;
  refused: number;
  episodes: number;
  successes: number;
  success_rate: number | null;
  wilson95: [number, number];
  named_hand: { episodes: number; held: number; rate: number | null; wilson95: [number, number] };
}

function pool(group: string, results: readonly PhrasingResult[]): GroupRow {
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

const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
const ratio = (k: number, n: number): string => (n ? `${k}/${n} (${pct(k / n)})` : "—");
const interval = (n: number, w: [number, number]): string => (n ? `${pct(w[0])}–${pct(w[1])}` : "—");

function tables(rows: readonly GroupRow[], results: readonly PhrasingResult[]): string {
  const groups = [
    "| group | phrasings (refused) | episodes | successes | Wilson 95% | named hand held | Wilson 95% |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${r.group} | ${r.phrasings} (${r.refused}) | ${r.episodes} | ${ratio(r.successes, r.episodes)} | ` +
        `${interval(r.episodes, r.wilson95)} | ${ratio(r.named_hand.held, r.named_hand.episodes)} | ` +
        `${interval(r.named_hand.episodes, r.named_hand.wilson95)} |`,
    ),
  ];
  const phrasings = [
    "| group | phrasing | task | hand | successes | named hand held |",
    "| --- | --- | --- | --- | --- | --- |",
    ...results.map(
      (r) =>
        `| ${r.group} | ${r.text} | ${r.task} | ${r.hand} | ` +
        (r.refused
          ? `refused (${r.bytes} bytes) | — |`
          : `${r.successes}/${r.episodes} | ${ratio(r.named_hand.held, r.named_hand.episodes)} |`),
    ),
  ];
  return `${groups.join("\n")}\n\n${phrasings.join("\n")}\n`;
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
      group: BASELINE,
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
  const names = [...new Set(cases.map((c) => c.group))];
  const groups = names.map((name) =>
    pool(
      name,
      results.filter((r) => r.group === name),
    ),
  );
  const markdown =
    `Instruction following of ${policy}${guidance === undefined ? "" : ` (guidance ${guidance})`} on ${scenarioFile}: ` +
    `each phrasing on seeds ${seed}–${seed + seeds - 1}; ` +
    `"${BASELINE}" are the scenario's own, the other groups ${file}'s (held out). Named hand held: of the episodes ` +
    `whose phrasing names a hand, those in which that hand held the bottle (handover: gave it). Refused: longer than ` +
    `the model's text encoder takes (${language.maxTokens - 2} ${tokenizer.unit}).\n\n` +
    tables(groups, results);
  process.stderr.write(`\n${markdown}`);
  if (values.out !== undefined) writeFileSync(values.out, markdown);
  return {
    policy,
    scenario: scenarioFile,
    paraphrases: file,
    seeds: [seed, seed + seeds - 1],
    seeds_per_phrasing: seeds,
    workers,
    guidance: guidance ?? inference.guidance ?? 1,
    [language.tokens === "words" ? "limit_words" : "limit_bytes"]: language.maxTokens - 2,
    groups,
    phrasings: results,
    wall_s: (performance.now() - start) / 1000,
  };
}
