// A hand-made robustness run (the JSON `npm run bench -- robustness --save` writes), consistent in every field, for
// tests of the card's section and of the checks made on reading one back.
import { wilson95 } from "../../src/core/index.ts";
import { paired, type RobustnessRow, type RobustnessRun } from "../../src/cli/robustness-run.ts";
import type { InferenceSettings } from "../../src/policy/index.ts";

/** A run of `policy` from `seed`: per row a perturbation and its episodes' successes (every row as long). */
export function robustnessRun(
  policy: string,
  seed: number,
  inference: InferenceSettings,
  rows: readonly [perturb: string, successes: readonly boolean[]][],
): RobustnessRun {
  const episodes = rows[0]![1].length;
  const runs: RobustnessRow[] = [];
  for (const [perturb, ok] of rows) {
    const per_episode = ok.map((success, i) => ({
      seed: seed + i,
      success,
      holder: i % 2 ? "right" : "left",
      steps: 160,
    }));
    const successes = ok.filter((x) => x).length;
    runs.push({
      perturb,
      what: perturb === "none" ? "the scenario as it is" : `what ${perturb} stands for`,
      successes,
      episodes,
      success_rate: successes / episodes,
      wilson95: wilson95(successes, episodes),
      ...paired(runs[0]?.per_episode ?? per_episode, per_episode),
      wall_s: 1,
      per_episode,
    });
  }
  const save = `${policy}/robustness-${seed >= 2_000_000 ? "test" : "validation"}.json`;
  return {
    command: `npm run bench -- robustness --policy ${policy} --episodes ${episodes} --seed ${seed} --save ${save}`,
    policy,
    scenario: "scenarios/bottle-cap.json",
    seeds: [seed, seed + episodes - 1],
    episodes,
    workers: 1,
    inference,
    runs,
  };
}

/** `n` outcomes, the first `k` successes. */
export const firstOf = (k: number, n: number): boolean[] => Array.from({ length: n }, (_, i) => i < k);
