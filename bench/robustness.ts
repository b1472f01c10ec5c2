// Robustness of a policy to what it meets outside the simulator it was trained in: `duet eval` on the same seeds in
// the unperturbed scenario and under each named perturbation (sim/perturbations.ts), one table.
// Usage: npm run bench -- robustness [--policy DIR] [--scenario FILE] [--episodes N] [--seed S] [--workers K]
//          [--perturb NAME,NAME] [--out FILE.md]
// Defaults: the model `npm start` runs, scenarios/bottle-cap.json, 50 episodes from the first test seed (2 000 000),
// 1 worker, every perturbation. The markdown table goes to stderr (and to --out); the JSON line to stdout.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { choiceListArg, intArg } from "../src/cli/args.ts";
import { startModel } from "../src/cli/card.ts";
import { TEST_SEED, evaluate } from "../src/cli/eval.ts";
import type { SimSummary } from "../src/cli/sim.ts";
import { PERTURBATIONS, PERTURBATION_NAMES } from "../src/sim/index.ts";
import { option } from "./option.ts";

/** One row: a perturbation (or none) and how the policy did under it. */
interface Row {
  perturb: string;
  successes: number;
  episodes: number;
  success_rate: number;
  wilson95: [number, number];
  /** Seeds that succeeded unperturbed and failed here, and the other way round (the same seeds, paired). */
  lost: number;
  gained: number;
  wall_s: number;
}

const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;

function table(rows: readonly Row[]): string {
  const lines = [
    "| perturbation | what | successes | Wilson 95% | lost / gained |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((r) => {
      const what = r.perturb === "none" ? "the scenario as it is" : PERTURBATIONS[r.perturb]!.summary;
      const paired = r.perturb === "none" ? "—" : `${r.lost} / ${r.gained}`;
      const interval = `${pct(r.wilson95[0])}–${pct(r.wilson95[1])}`;
      return `| ${r.perturb} | ${what} | ${r.successes}/${r.episodes} (${pct(r.success_rate)}) | ${interval} | ${paired} |`;
    }),
  ];
  return lines.join("\n") + "\n";
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
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
    },
    strict: true,
  });
  const policy = values.policy ?? startModel();
  const scenario = values.scenario ?? "scenarios/bottle-cap.json";
  const episodes = option("episodes", values.episodes, intArg(1), 50);
  const seed = option("seed", values.seed, intArg(0), TEST_SEED);
  const workers = option("workers", values.workers, intArg(1), 1);
  const perturbations = option("perturb", values.perturb, choiceListArg(PERTURBATION_NAMES), [...PERTURBATION_NAMES]);

  const rows: Row[] = [];
  let baseline: SimSummary | null = null;
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
    baseline ??= summary;
    const before = baseline.per_episode;
    const after = summary.per_episode;
    rows.push({
      perturb,
      successes: summary.successes,
      episodes: summary.episodes,
      success_rate: summary.success_rate,
      wilson95: summary.wilson95,
      lost: after.filter((o, i) => before[i]!.success && !o.success).length,
      gained: after.filter((o, i) => !before[i]!.success && o.success).length,
      wall_s: (performance.now() - start) / 1000,
    });
  }
  const markdown =
    `Robustness of ${policy} on ${scenario}, seeds ${seed}–${seed + episodes - 1} ` +
    `(lost / gained: seeds that succeeded unperturbed and failed perturbed, and the other way round)\n\n` +
    table(rows);
  process.stderr.write(`\n${markdown}`);
  if (values.out !== undefined) writeFileSync(values.out, markdown);
  return { policy, scenario, seeds: [seed, seed + episodes - 1], episodes, workers, runs: rows };
}
