// `node --import tsx scripts/diffusion-toy.ts [diffusion|sample|regression]`: how fast the U-Net learns one 16-frame
// episode (tests/policy/fixtures) with each objective ("sample": diffusion with x0 prediction) — state only, U-Net 64/128, batch 32, AdamW lr 1e-3, 600 steps.
// Prints one JSON line: the training loss every 100 steps, the trained denoiser's noise MSE at t = 0, 50, 99
// (diffusion) and the mean error of the sampled chunks. scripts/diffusion_toy_torch.py runs the same problem with
// Diffusion Policy's ConditionalUnet1D in PyTorch, for comparison.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../src/core/index.ts";
import { MinMaxNormalizer, NoiseSchedule, loadPolicy, readPolicyModel } from "../src/policy/index.ts";
import { Session } from "../src/runtime/index.ts";
import { train, trainConfigSchema } from "../src/train/index.ts";
import {
  actionAt,
  chunkErrors,
  observation,
  oneEpisodeConfig,
  tempDir,
  writeTinyDataset,
} from "../tests/policy/fixtures.ts";

const arg = process.argv[2] ?? "diffusion";
const objective = arg === "regression" ? "regression" : "diffusion";
const prediction = arg === "sample" ? "sample" : "epsilon";
const dataset = await writeTinyDataset(1, 16, tempDir("duet-toy-"));
const out = tempDir("duet-toy-model-");
const config = trainConfigSchema.parse(
  oneEpisodeConfig({ objective, scheduler: { prediction } }, { steps: 600, logEvery: 100 }),
);
const losses: number[] = [];
await train({ dataset, config, out, onEvent: (e) => void (e.kind === "step" && losses.push(e.loss)) });

const result: Record<string, unknown> = {
  objective: arg,
  loss_every_100_steps: losses.map((l) => Number(l.toFixed(4))),
};
const model = readPolicyModel(out);
if (arg === "diffusion") {
  const schedule = new NoiseSchedule(model.config.scheduler);
  const encoder = await Session.create(readFileSync(join(out, "encoder.onnx")), { intraOpThreads: 1 });
  const denoiser = await Session.create(readFileSync(join(out, "denoiser.onnx")), { intraOpThreads: 1 });
  const stateNorm = new MinMaxNormalizer(model.normalizer.state);
  const actionNorm = new MinMaxNormalizer(model.normalizer.action);
  const rng = new Rng(1);
  const mse: Record<string, number> = {};
  for (const t of [0, 50, 99]) {
    let sum = 0;
    for (let anchor = 1; anchor < 7; anchor++) {
      const state = new Float32Array(32);
      stateNorm.normalize(
        Float32Array.from([...observation(0, anchor - 1).state, ...observation(0, anchor).state]),
        state,
      );
      const cond = (await encoder.run({ state: { data: state, dims: [1, 2, 16] } })).cond!;
      const x0 = new Float32Array(160);
      actionNorm.normalize(
        Float32Array.from({ length: 160 }, (_, i) => actionAt(0, anchor + Math.floor(i / 16), i % 16)),
        x0,
      );
      const ab = schedule.alphaBar(t);
      const eps = Float32Array.from({ length: 160 }, () => rng.normal());
      const x = Float32Array.from(eps, (e, i) => Math.sqrt(ab) * (x0[i] as number) + Math.sqrt(1 - ab) * e);
      const feeds = { sample: { data: x, dims: [1, 10, 16] }, timestep: { data: Float32Array.of(t), dims: [1] }, cond };
      const pred = (await denoiser.run(feeds)).pred!.data as Float32Array;
      for (let i = 0; i < 160; i++) sum += ((pred[i] as number) - (eps[i] as number)) ** 2 / 160;
    }
    mse[String(t)] = Number((sum / 6).toFixed(4));
  }
  result.noise_mse_at_t = mse;
}
const errors = await chunkErrors(await loadPolicy(out));
result.sampled_chunk_mean_abs_error = Number((errors.reduce((a, e) => a + e, 0) / errors.length).toFixed(4));
process.stdout.write(`${JSON.stringify(result)}\n`);
