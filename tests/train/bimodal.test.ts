// The reason for diffusion: demonstrations with two ways of acting from the same observation (either arm holds).
// A diffusion policy trained on them samples both modes and commits to one per chunk; the regression baseline
// trained on the same data predicts their average, which is neither.
import { describe, expect, it } from "vitest";
import { loadPolicy } from "../../src/policy/index.ts";
import { train, trainConfigSchema } from "../../src/train/index.ts";
import { SAME, bimodal, tempDir, tinyConfig, writeTinyDataset } from "../policy/fixtures.ts";

/** Per sampled chunk: its mean action and the share of its entries with the sign of that mean. */
async function sample(dir: string, seeds: number): Promise<{ mean: number; agree: number }[]> {
  const policy = await loadPolicy(dir);
  const out: { mean: number; agree: number }[] = [];
  for (let s = 0; s < seeds; s++) {
    policy.reset(s);
    const a = (await policy.predictChunk([SAME])).actions;
    const mean = a.reduce((x, v) => x + v, 0) / a.length;
    out.push({ mean, agree: a.filter((v) => Math.sign(v) === Math.sign(mean)).length / a.length });
  }
  return out;
}

describe("a bimodal toy problem (two clusters of chunks for one observation)", () => {
  it("diffusion samples both modes, committing to one per chunk; regression averages them", async () => {
    const dataset = await writeTinyDataset(8, 16, tempDir("duet-bimodal-"), bimodal);
    const run = async (objective: "diffusion" | "regression", steps: number): Promise<string> => {
      const out = tempDir(`duet-${objective}-`);
      const config = trainConfigSchema.parse(
        tinyConfig({
          policy: {
            objective,
            encoder: null,
            obsSteps: 1,
            predSteps: 2,
            inference: { actionSteps: 2 },
            denoiser: { name: "unet", downDims: [64, 128], groups: 8, stepEmbedDim: 32 },
            // DDPM's stochastic steps: with this short training, deterministic DDIM leaves about a third of its
            // samples between the modes (measured); DDPM's noise pushes each sample into one basin.
            scheduler: { sampler: "ddpm" },
          },
          train: { steps, batchSize: 64, lr: 1e-3, warmupSteps: 20, valFraction: 0, valEvery: 0 },
        }),
      );
      await train({ dataset, config, out });
      return out;
    };
    const diffusion = await sample(await run("diffusion", 1000), 40);
    // Committed: every entry of a chunk on one side (a blend of the modes would mix signs or sit at 0).
    const committed = diffusion.filter((s) => s.agree >= 0.95 && Math.abs(s.mean) >= 0.1);
    expect(committed.length).toBeGreaterThanOrEqual(34);
    const plus = committed.filter((s) => s.mean > 0).length;
    expect(Math.min(plus, committed.length - plus)).toBeGreaterThanOrEqual(10);

    // Regression: the MSE optimum is the average of the two modes, 0 for every entry.
    const regression = await sample(await run("regression", 300), 2);
    for (const s of regression) expect(Math.abs(s.mean)).toBeLessThan(0.1);
  }, 600_000);
});
