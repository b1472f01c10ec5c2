// What a distillation teacher's sample costs per window–noise pair: the model's own batch-one `sampler.onnx` (what the
// policy runs) against the same DDIM loop on the same weights for 64 pairs at once on its observer's features (what
// `duet train --teacher` runs, PolicyNetwork.frozenSamplerGraph). Alternating, `reps` rounds of 64 pairs each, random
// inputs (the cost does not depend on them).
//
//   node --import tsx scripts/teacher-batch-speed.ts [MODEL_DIR] [reps]
//
// Prints one JSON object: {model, pairs_per_round, batch1_ms_per_pair, batch64_ms_per_pair (per round), ratio_median}.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ParamLayout, paramsByName, readOnnxParams } from "../src/nn/index.ts";
import { IO, PolicyNetwork, networkOf, readPolicyModel } from "../src/policy/index.ts";
import { Session, type TensorData } from "../src/runtime/index.ts";
import { TEACHER_BATCH } from "../src/train/teacher.ts";

const dir = process.argv[2] ?? "models/bottle-cap-unet-wide";
const reps = Number(process.argv[3] ?? 4);
const model = readPolicyModel(dir);
const net = networkOf(model, dir);
const c = model.config;
const exported = await Session.create(join(dir, model.files.sampler ?? "sampler.onnx"), { intraOpThreads: 1 });
const g = net.frozenSamplerGraph(c.inference.inferenceSteps, TEACHER_BATCH);
const layout = ParamLayout.of(g);
const file = join(dir, model.files.denoiser);
const { values } = paramsByName(layout, readOnnxParams(readFileSync(file), file));
const batched = await Session.create(PolicyNetwork.compile(g, layout, values, "float16").bytes, { intraOpThreads: 1 });

const random = (dims: number[]): TensorData => ({
  data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.random() - 0.5),
  dims,
});
const one = { [IO.noise]: random([1, c.predSteps, net.sampleDim]), [IO.cond]: random([1, c.obsSteps, net.obsDim]) };
const many = Object.fromEntries(batched.inputs.map((d) => [d.name, random(d.shape.map(Number))]));
const batch1: number[] = [];
const batch64: number[] = [];
for (let r = 0; r < reps; r++) {
  let t = performance.now();
  for (let i = 0; i < TEACHER_BATCH; i++) await exported.run(one);
  batch1.push((performance.now() - t) / TEACHER_BATCH);
  t = performance.now();
  await batched.run(many);
  batch64.push((performance.now() - t) / TEACHER_BATCH);
}
const ratios = batch1.map((x, i) => x / (batch64[i] as number)).sort((a, b) => a - b);
const round = (xs: number[]): number[] => xs.map((x) => Number(x.toFixed(2)));
const result = {
  model: dir,
  pairs_per_round: TEACHER_BATCH,
  batch1_ms_per_pair: round(batch1),
  batch64_ms_per_pair: round(batch64),
  ratio_median: Number((ratios[Math.floor(ratios.length / 2)] as number).toFixed(2)),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
