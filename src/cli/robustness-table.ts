// A robustness run as markdown (`npm run bench -- robustness` prints it, `duet card` gives it a section): the table
// of rows, a one-line reading of it, and a model card's "Robustness" section from its saved runs.
import type { RobustnessRow, SavedRobustness } from "./robustness-run.ts";

/** A perturbation that costs at most this many points of success is read as tolerated ("a few points"). */
export const TOLERATED_DROP_POINTS = 5;

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** The rows as a markdown table; the first is the unperturbed one, which the others are paired with. */
export function robustnessTable(rows: readonly RobustnessRow[]): string {
  return [
    "| perturbation | what | successes | Wilson 95% | lost / gained |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((r, i) => {
      const interval = `${pct(r.wilson95[0])}–${pct(r.wilson95[1])}`;
      const paired = i === 0 ? "—" : `${r.lost} / ${r.gained}`;
      return `| ${r.perturb} | ${r.what} | ${r.successes}/${r.episodes} (${pct(r.success_rate)}) | ${interval} | ${paired} |`;
    }),
  ].join("\n");
}

/** Points of success lost from `base` to `r` (negative: gained), exact where the counts allow. */
const dropPoints = (base: RobustnessRow, r: RobustnessRow): number =>
  ((base.successes * r.episodes - r.successes * base.episodes) * 100) / (base.episodes * r.episodes);

/** One sentence: under how many perturbations success stayed within TOLERATED_DROP_POINTS, and the largest drop. */
export function robustnessReading(rows: readonly RobustnessRow[]): string {
  const [base, ...perturbed] = rows;
  if (base === undefined || perturbed.length === 0) return "No perturbation was run.";
  const drops = perturbed.map((r) => ({ name: r.perturb, points: dropPoints(base, r) }));
  const tolerated = drops.filter((d) => d.points <= TOLERATED_DROP_POINTS).length;
  const largest = drops.reduce((a, b) => (b.points > a.points ? b : a));
  return (
    `At most ${TOLERATED_DROP_POINTS} points below the unperturbed success (${pct(base.success_rate)}) under ` +
    `${tolerated} of ${perturbed.length} perturbations; ` +
    (largest.points > 0
      ? `the largest drop: ${largest.name}, −${largest.points.toFixed(1)} points.`
      : "no perturbation lowered the success rate.")
  );
}

const SPLIT_TITLE: Record<SavedRobustness["split"], string> = { test: "Test", validation: "Validation" };

/** A model card's "Robustness" section from its saved runs (test first); "" when it has none. */
export function robustnessSection(saved: readonly SavedRobustness[]): string {
  if (saved.length === 0) return "";
  const runs = saved.map(({ file, split, run }) => {
    const settings = Object.entries(run.inference)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(", ");
    return `### ${SPLIT_TITLE[split]} seeds ${run.seeds[0]}–${run.seeds[1]}${split === "validation" ? " (used for choices)" : ""}

    ${run.command}

${run.episodes} episodes a row on ${run.scenario}, with the run settings model.json has (${settings}); \
per-episode outcomes in ${file}. ${robustnessReading(run.runs)}

${robustnessTable(run.runs)}
`;
  });
  return `
## Robustness

Each row ran the same seeds, the first in the scenario as it is and each other under one named perturbation \
(docs/simulator.md, "Perturbations"); lost / gained: seeds that succeeded unperturbed and failed perturbed, and the \
other way round. What a drop asks of a real cell: docs/deploy.md, "Robustness before the first run".

${runs.join("\n")}`;
}
