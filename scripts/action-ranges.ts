// How wide the relative actions a[t+k] − s[t] are at each chunk step k: the reason for policy.actionRange "per-step".
//
//   node --import tsx scripts/action-ranges.ts DATASET [--obs-steps 2] [--pred-steps 10]
//
// Prints one JSON object: per chunk step, the half-range (max − min)/2 (the per-step range training computes) and the
// standard deviation (rad) of each action entry over every window of the dataset's successful episodes.
import { parseArgs } from "node:util";
import { Dataset, WindowSampler } from "../src/data/index.ts";
import { relativeActionRange, toRelative } from "../src/train/relative.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { "obs-steps": { type: "string", default: "2" }, "pred-steps": { type: "string", default: "10" } },
});
const root = positionals[0];
if (!root) throw new Error("usage: scripts/action-ranges.ts DATASET [--obs-steps 2] [--pred-steps 10]");
const to = Number(values["obs-steps"]);
const tp = Number(values["pred-steps"]);
const ds = await Dataset.open(root);
const episodes = ds.episodes.filter((e) => e.success).map((e) => e.episodeIndex);
const range = await relativeActionRange(ds, episodes, to, tp, true);
const sampler = await WindowSampler.create(ds, { obsSteps: to, actionSteps: tp, cameras: [], episodes });
const d = ds.spec.actionNames.length;
const n = tp * d;
const sum = new Float64Array(n);
const sq = new Float64Array(n);
const w = sampler.createBuffers();
for (let i = 0; i < sampler.length; i++) {
  toRelative(sampler.fill(i, w), to);
  for (let k = 0; k < n; k++) {
    const v = w.action[k] as number;
    sum[k]! += v;
    sq[k]! += v * v;
  }
}
const round = (x: number) => Math.round(x * 1e4) / 1e4;
const rows = Array.from({ length: tp }, (_, k) => ({
  step: k,
  half_range: Array.from({ length: d }, (_, j) =>
    round(((range.max[k * d + j] as number) - (range.min[k * d + j] as number)) / 2),
  ),
  std: Array.from({ length: d }, (_, j) => {
    const m = (sum[k * d + j] as number) / sampler.length;
    return round(Math.sqrt(Math.max(0, (sq[k * d + j] as number) / sampler.length - m * m)));
  }),
}));
process.stdout.write(
  `${JSON.stringify({ dataset: root, windows: sampler.length, names: ds.spec.actionNames, steps: rows })}\n`,
);
