// The shipped models in models/: each loads for the bottle-cap scenario's robot and cameras, stays small enough for
// git, ships a 200-episode evaluation on the test seeds, and its card is what `duet card` writes from its files. Two
// episodes of every shipped test evaluation are played again here and must match the file; the README's results
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
import { loadPolicy } from "../../src/policy/index.ts";
import { prepareJob, type EpisodeOutcome } from "../../src/runner/rollout/index.ts";
import { createEnv } from "../../src/sim/index.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const at = (path: string): string => join(ROOT, path);
/** The test seeds (docs/training.md, "Evaluation protocol"). */
const TEST_SEEDS = { first: 2_000_000, episodes: 200 };
/** The latency bar a default model must meet (ms per chunk, `npm run bench -- policy` median). */
const DEFAULT_LATENCY_MS = 10;

const shipped = shippedModels(at("models")).map((dir) => `models/${dir.split("/").at(-1)}`);
const bench = readBench(at("models/bench-policy.json"));

/** The episodes to play again: the shortest success, and the shortest failure (else the next shortest success). */
function replayed(outcomes: readonly EpisodeOutcome[]): EpisodeOutcome[] {
  const byLength = [...outcomes].sort((a, b) => a.steps - b.steps || a.seed - b.seed);
  const success = byLength.find((o) => o.success);
  const failure = byLength.find((o) => !o.success);
  const picked = [success, failure].filter((o): o is EpisodeOutcome => o !== undefined);
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
      for (const f of readdirSync(dir)) {
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
