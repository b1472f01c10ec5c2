// Seed by seed comparison of two `duet eval --json` outputs on the same seeds: successes of each, the episodes only
// one of them won, and the exact two-sided McNemar p-value (a binomial test on those discordant episodes).
//
//   node --import tsx scripts/compare-evals.ts A/eval.json B/eval.json
//
// Prints one JSON object: {a, b, episodes, a_successes, b_successes, only_a, only_b, mcnemar_p}.
import { readSimSummary } from "../src/cli/sim.ts";

function episodes(file: string): Map<number, boolean> {
  return new Map(readSimSummary(file).per_episode.map((e) => [e.seed, e.success]));
}

/** Exact two-sided binomial p-value of k successes in n trials at p = 1/2 (terms summed in log space: any n). */
function mcnemar(k: number, n: number): number {
  if (n === 0) return 1;
  const lo = Math.min(k, n - k);
  let tail = 0;
  let logC = 0; // ln C(n, 0)
  for (let i = 0; i <= lo; i++) {
    tail += Math.exp(logC - n * Math.LN2);
    logC += Math.log(n - i) - Math.log(i + 1);
  }
  return Math.min(1, 2 * tail);
}

const [fa, fb] = process.argv.slice(2);
if (!fa || !fb) {
  process.stderr.write("usage: node --import tsx scripts/compare-evals.ts A/eval.json B/eval.json\n");
  process.exit(2);
}
const a = episodes(fa);
const b = episodes(fb);
const seeds = [...a.keys()].filter((s) => b.has(s));
if (seeds.length !== a.size || seeds.length !== b.size)
  throw new Error(
    `${fa} and ${fb} do not cover the same seeds (${a.size} and ${b.size} episodes, ${seeds.length} shared)`,
  );
const onlyA = seeds.filter((s) => a.get(s) && !b.get(s)).length;
const onlyB = seeds.filter((s) => !a.get(s) && b.get(s)).length;
const result = {
  a: fa,
  b: fb,
  episodes: seeds.length,
  a_successes: seeds.filter((s) => a.get(s)).length,
  b_successes: seeds.filter((s) => b.get(s)).length,
  only_a: onlyA,
  only_b: onlyB,
  mcnemar_p: Number(mcnemar(onlyA, onlyA + onlyB).toPrecision(3)),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
