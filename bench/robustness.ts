// Robustness of a policy to what it meets outside the simulator it was trained in: `duet eval` on the same seeds in
// the unperturbed scenario and under each named perturbation (sim/perturbations.ts), one table.
// Usage: npm run bench -- robustness [--policy DIR] [--scenario FILE] [--episodes N] [--seed S] [--workers K]
//          [--perturb NAME,NAME] [--out FILE.md] [--save FILE.json]
// Defaults: the model `npm start` runs, scenarios/bottle-cap.json, 50 episodes from the first test seed (2 000 000),
// 1 worker, every perturbation. The markdown table goes to stderr (and to --out); the JSON object to stdout (and to
// --save, where it is kept: every row's per-episode outcomes, the run settings, the command line).
// A run on the test seeds is an evaluation of a shipped model, made once, after every choice, and saved as
// models/NAME/robustness-test.json (its card shows it: duet card); choices are made on validation seeds
// (--seed 1000000), saved as models/NAME/robustness-validation.json (docs/training.md, "Evaluation protocol").
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { choiceListArg, intArg } from "../src/cli/args.ts";
import { startModel } from "../src/cli/card.ts";
import { TEST_SEED, evaluate } from "../src/cli/eval.ts";
import { paired, placementIssues, type RobustnessRow, type RobustnessRun } from "../src/cli/robustness-run.ts";
import { robustnessReading, robustnessTable } from "../src/cli/robustness-table.ts";
import { DuetError, ValidationError, writeAtomic } from "../src/core/index.ts";
import { readPolicyModel } from "../src/policy/index.ts";
import { PERTURBATIONS, PERTURBATION_NAMES } from "../src/sim/index.ts";
import { option } from "./option.ts";

/** Refuse an output file whose directory does not exist before the run, not after it. */
function outputFile(name: string, file: string | undefined): string | undefined {
  if (file !== undefined && !existsSync(dirname(file)))
    throw new DuetError(`--${name} ${file}: the directory ${dirname(file)} does not exist (create it first)`);
  return file;
}

export async function run(args: string[]): Promise<RobustnessRun> {
  const { values } = parseArgs({
    args,
    options: {
      policy: { type: "string" },
      scenario: { type: "string" },
      episodes: { type: "string" },
      seed: { type: "string" },
      workers: { type: "string" },
      perturb: { type: "string" },
      out: { type: "string" },
      save: { type: "string" },
    },
    strict: true,
  });
  const policy = values.policy ?? startModel();
  const scenario = values.scenario ?? "scenarios/bottle-cap.json";
  const episodes = option("episodes", values.episodes, intArg(1), 50);
  const seed = option("seed", values.seed, intArg(0), TEST_SEED);
  const workers = option("workers", values.workers, intArg(1), 1);
  const perturbations = option("perturb", values.perturb, choiceListArg(PERTURBATION_NAMES), [...PERTURBATION_NAMES]);
  const out = outputFile("out", values.out);
  const save = outputFile("save", values.save);
  const seeds: [number, number] = [seed, seed + episodes - 1];
  if (save !== undefined) {
    const issues = placementIssues(save, policy, seeds);
    if (issues.length > 0) throw new ValidationError(`--save ${save}`, issues);
  }
  const inference = readPolicyModel(policy).config.inference;

  const rows: RobustnessRow[] = [];
  for (const perturb of ["none", ...perturbations]) {
    process.stderr.write(`robustness: ${perturb}, ${episodes} episodes from seed ${seed}\n`);
    const start = performance.now();
    const summary = await evaluate({
      policy,
      scenario,
      ...(perturb !== "none" && { perturb: [perturb] }),
      episodes,
      seed,
      workers,
      json: true, // no per-episode lines: the table says it all
    });
    const per_episode = summary.per_episode.map(({ seed, success, holder, steps }) => ({
      seed,
      success,
      holder,
      steps,
    }));
    rows.push({
      perturb,
      what: perturb === "none" ? "the scenario as it is" : PERTURBATIONS[perturb]!.summary,
      successes: summary.successes,
      episodes: summary.episodes,
      success_rate: summary.success_rate,
      wilson95: summary.wilson95,
      ...paired(rows[0]?.per_episode ?? per_episode, per_episode),
      wall_s: (performance.now() - start) / 1000,
      per_episode,
    });
  }
  const markdown =
    `Robustness of ${policy} on ${scenario}, seeds ${seeds[0]}–${seeds[1]} ` +
    `(lost / gained: seeds that succeeded unperturbed and failed perturbed, and the other way round)\n\n` +
    `${robustnessTable(rows)}\n\n${robustnessReading(rows)}\n`;
  process.stderr.write(`\n${markdown}`);
  if (out !== undefined) writeAtomic(out, markdown);
  const result: RobustnessRun = {
    command: ["npm run bench -- robustness", ...args].join(" "),
    policy,
    scenario,
    seeds,
    episodes,
    workers,
    inference,
    runs: rows,
  };
  if (save !== undefined) {
    writeAtomic(save, JSON.stringify(result) + "\n");
    process.stderr.write(`wrote ${save}\n`);
  }
  return result;
}
