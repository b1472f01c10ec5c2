// The shipped models in models/: each loads for the bottle-cap scenario's robot and cameras, stays small enough for
// git, ships a 200-episode evaluation on the test seeds, and its card is what `duet card` writes from its files. Two
// episodes of every shipped test evaluation are played again here and must match the file, and one perturbed episode
// of each robustness run on the test seeds (robustness-test.json); the README's results
// table is the one `duet card --table` prints; `npm start` runs the best model that meets the latency bar.
// Paths are resolved from this file, so the tests run from any working directory.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  cardText,
  readBench,
  readEvaluations,
  recordCommandOf,
  resultsTable,
  shippedModels,
  startModel,
} from "../../src/cli/card.ts";
import { readRobustness } from "../../src/cli/robustness-run.ts";
import { loadPolicy, readPolicyModel } from "../../src/policy/index.ts";
import { prepareJob, type EpisodeOutcome } from "../../src/runner/rollout/index.ts";
import { PERTURBATION_NAMES, createEnv } from "../../src/sim/index.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const at = (path: string): string => join(ROOT, path);
/** The test seeds (docs/training.md, "Evaluation protocol"). */
const TEST_SEEDS = { first: 2_000_000, episodes: 200 };
/** The robustness runs on the test seeds (issue 42): every row 50 episodes from the first test seed. */
const ROBUSTNESS_SEEDS = { first: 2_000_000, episodes: 50 };
/** The latency bar a default model must meet (ms per chunk, `npm run bench -- policy` median). */
const DEFAULT_LATENCY_MS = 10;

const shipped = shippedModels(at("models")).map((dir) => `models/${dir.split("/").at(-1)}`);
const bench = readBench(at("models/bench-policy.json"));

/** The episodes to play again: the shortest success, and the shortest failure (else the next shortest success). */
function replayed<T extends Pick<EpisodeOutcome, "seed" | "success" | "steps">>(outcomes: readonly T[]): T[] {
  const byLength = [...outcomes].sort((a, b) => a.steps - b.steps || a.seed - b.seed);
  const success = byLength.find((o) => o.success);
  const failure = byLength.find((o) => !o.success);
  const picked = [success, failure].filter((o): o is T => o !== undefined);
  for (const o of byLength) if (picked.length < 2 && !picked.includes(o)) picked.push(o);
  return picked;
}

describe("shipped models", () => {
  it("there are shipped models, and bench-policy.json measured each one's chunk latency", () => {
    expect(shipped.length).toBeGreaterThan(0);
    expect(shipped.filter((m) => bench?.[m.split("/")[1]!] === undefined)).toEqual([]);
  });

  it(`npm start runs the bottle-cap model with the best test success among those at ≤ ${DEFAULT_LATENCY_MS} ms a chunk`, () => {
    const start = (JSON.parse(readFileSync(at("package.json"), "utf8")) as { scripts: { start: string } }).scripts
      .start;
    expect(start).toContain("--scenario scenarios/bottle-cap.json");
    const eligible = shipped
      .map((dir) => ({ dir, test: readEvaluations(at(dir)).find((e) => e.split === "test" && e.variant === "") }))
      .filter(({ dir, test }) => {
        const latency = bench?.[dir.split("/")[1]!]?.latency_ms_median ?? Infinity;
        return test?.summary.scenario === "scenarios/bottle-cap.json" && latency <= DEFAULT_LATENCY_MS;
      })
      .sort((a, b) => (b.test?.summary.successes ?? 0) - (a.test?.summary.successes ?? 0));
    expect(startModel(at("package.json"))).toBe(eligible[0]?.dir);
  });

  it("the README's results table is what `duet card --table` prints", () => {
    const readme = readFileSync(at("README.md"), "utf8");
    const table = resultsTable(
      shipped.map((m) => at(m)),
      at(startModel(at("package.json"))),
      bench,
    ).replaceAll(ROOT, "");
    expect(readme).toContain(table);
  });

  for (const name of shipped) {
    const dir = at(name);

    it(`${name}: loads for the scenario, files under 20 MB, the card is what duet card writes`, async () => {
      const env = createEnv(at("scenarios/bottle-cap.json"), { cameras: true });
      const policy = await loadPolicy(dir, {
        expect: {
          stateDim: 16,
          actionDim: 16,
          cameras: env.cameras.map((c) => ({ name: c })),
          controlHz: env.controlHz,
          environmentNames: null, // a shipped policy must not need the simulator's privileged scene state
        },
      });
      expect(policy.actionHorizon).toBeGreaterThan(0);
      // every file, train/ included (a run's feature cache or checkpoint must not be shipped)
      for (const f of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
        if (statSync(join(dir, f)).isFile()) expect([f, statSync(join(dir, f)).size < 20e6]).toEqual([f, true]);
      }
      const record = recordCommandOf(dir);
      expect(record).toBeDefined();
      const card = readFileSync(join(dir, "README.md"), "utf8");
      // cards name their directory as models/NAME: write this one's text as duet card does from the repository root
      expect(card).toBe(cardText(dir, record!, bench).replaceAll(dir, name));
    });

    const tests = readEvaluations(dir).filter((e) => e.split === "test");
    it(`${name}: ships a ${TEST_SEEDS.episodes}-episode test evaluation on seeds from ${TEST_SEEDS.first}`, () => {
      expect(tests.map((e) => e.variant)).toContain("");
      for (const { file, summary } of tests) {
        const seeds = summary.per_episode.map((o) => o.seed);
        const expected = Array.from({ length: TEST_SEEDS.episodes }, (_, i) => TEST_SEEDS.first + i);
        expect([file, summary.episodes, seeds]).toEqual([file, TEST_SEEDS.episodes, expected]);
        expect([file, summary.successes]).toEqual([file, summary.per_episode.filter((o) => o.success).length]);
      }
    });

    // a robustness run on the test seeds (robustness-test.json, issue 42), where the model has one: its settings, every
    // perturbation, and one perturbed episode (a different row for each model) played again
    const robustness = readRobustness(dir, readPolicyModel(dir).config.inference).find((r) => r.split === "test");
    if (robustness) {
      const { run } = robustness;
      it(`${name}/${robustness.file}: every perturbation on the test seeds; one perturbed episode played again`, async () => {
        const last = ROBUSTNESS_SEEDS.first + ROBUSTNESS_SEEDS.episodes - 1;
        expect([run.scenario, run.seeds]).toEqual(["scenarios/bottle-cap.json", [ROBUSTNESS_SEEDS.first, last]]);
        expect(run.runs.map((r) => r.perturb)).toEqual(["none", ...PERTURBATION_NAMES]);
        const row = run.runs[1 + (shipped.indexOf(name) % PERTURBATION_NAMES.length)]!;
        const recorded = replayed(row.per_episode)[0]!;
        const play = prepareJob({ scenario: at(run.scenario), policy: dir, cameras: true, perturb: [row.perturb] });
        const { seed, success, holder, steps } = await play(recorded.seed);
        expect([row.perturb, { seed, success, holder, steps }]).toEqual([row.perturb, recorded]);
      }, 600_000);
    }

    for (const { file, summary } of tests) {
      it(`${name}/${file}: two of its episodes, played again, end as the file says`, async () => {
        const play = prepareJob({
          scenario: at(summary.scenario),
          policy: dir,
          cameras: true,
          ...(summary.instruction !== null && { instruction: summary.instruction }),
        });
        for (const recorded of replayed(summary.per_episode)) {
          const { wall_s: _wall, turns, ...outcome } = await play(recorded.seed);
          const { wall_s: _recordedWall, turns: recordedTurns, ...expected } = recorded;
          expect(outcome).toEqual(expected);
          expect(turns).toBeCloseTo(recordedTurns, 6);
        }
      }, 600_000);
    }
  }
});
