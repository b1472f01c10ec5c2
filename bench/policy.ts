// `npm run bench -- policy [--quick] [--reps N] [--models DIR,DIR]`: latency from observation to a 160-number chunk
// (encoder + all DDIM steps; the default path, the unrolled sampler graph where a model has one), per policy and per
// DDIM step count (1, 5, 10, 16; always the per-step graph loop, whose slope is the cost of one denoising step);
// MatMul FLOPs of one inference and the implied GFLOP/s; training samples/s. Policies: the shipped models in models/
// when present, otherwise the configs/ presets with seeded random weights (latency does not depend on the weight
// values); with --models, those model directories instead (a run not shipped, say). `--ab A,B` instead times two
// model directories alternately, chunk by chunk, in one process (say a model before and after `duet export policy`):
// medians and the median of the per-pair ratios B/A, which the machine's drift cancels out of.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readEvaluations, shippedModels } from "../src/cli/card.ts";
import { Rng, SLOT_NAMES, type Observation } from "../src/core/index.ts";
import { ParamLayout, TrainingGraph, buildTrainingGraph } from "../src/nn/index.ts";
import {
  IO,
  PolicyNetwork,
  exportPolicy,
  loadPolicy,
  readPolicyModel,
  type PolicyConfig,
} from "../src/policy/index.ts";
import { matmulFlops } from "../src/encoders/index.ts";
import { Session, type TensorData } from "../src/runtime/index.ts";
import { loadTrainConfig } from "../src/train/index.ts";

const CAMERAS = ["front", "left_wrist", "right_wrist"].map((name) => ({ name, height: 96, width: 96 }));
const POLICIES = {
  "bottle-cap-unet": "configs/bottle-cap-unet-small-frozen.json",
  "bottle-cap-unet-wide": "configs/bottle-cap-unet.json",
  "bottle-cap-transformer": "configs/bottle-cap-transformer.json",
  "bottle-cap-regression": "configs/bottle-cap-regression.json",
  "bottle-cap-unet-cnn": "configs/bottle-cap-unet-cnn.json",
} as const;

/** "successes/episodes" of a model directory's main test evaluation, or null when it has none. */
function testSuccess(dir: string): string | null {
  const test = existsSync(dir) ? readEvaluations(dir).find((e) => e.split === "test" && e.variant === "") : undefined;
  return test ? `${test.summary.successes}/${test.summary.episodes}` : null;
}

/** What a language-conditioned policy is told in the benchmark (any phrasing its encoder takes costs the same). */
const INSTRUCTION = "unscrew the cap";

function observation(rng: Rng, t: number, cameras: readonly string[]): Observation {
  const images = Object.fromEntries(
    cameras.map((c) => [
      c,
      { width: 96, height: 96, data: Uint8Array.from({ length: 96 * 96 * 3 }, () => rng.int(256)) },
    ]),
  );
  const state = Float32Array.from({ length: 16 }, () => rng.uniform(-0.5, 0.5));
  return { time: t / 10, state, images, instruction: INSTRUCTION };
}

function stats(ms: number[]): { median: number; p95: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return { median: Number(at(0.5).toFixed(3)), p95: Number(at(0.95).toFixed(3)) };
}

/** A model directory: the shipped one, or the preset with random weights exported to a temp dir. */
function modelDir(name: string, configFile: string, tmp: string): { dir: string; shipped: boolean } {
  const shipped = join("models", name);
  if (existsSync(join(shipped, "model.json"))) return { dir: shipped, shipped: true };
  const c = loadTrainConfig(configFile);
  const cameras = CAMERAS.filter((cam) => (c.policy.cameras ?? [cam.name]).includes(cam.name));
  const net = new PolicyNetwork(c.policy, { stateDim: 16, actionDim: 16, cameras });
  const layout = ParamLayout.of(net.trainingLoss(1).g);
  const dir = join(tmp, name);
  const range = (n: number) => ({ min: Array(n).fill(-1) as number[], max: Array(n).fill(1) as number[] });
  const actionRange = range(c.policy.actionRange === "per-step" ? 16 * c.policy.predSteps : 16);
  exportPolicy(dir, net, layout, layout.init(0), {
    robotType: "panda_pair",
    fps: 10,
    stateNames: [...SLOT_NAMES],
    actionNames: [...SLOT_NAMES],
    cameras,
    normalizer: { state: range(16), action: actionRange },
    provenance: { bench: "random weights" },
  });
  return { dir, shipped: false };
}

async function latency(dir: string, reps: number, opts: { steps?: number; mode?: "loop" | "unrolled" }) {
  const policy = await loadPolicy(dir, {
    ...(opts.steps !== undefined ? { inferenceSteps: opts.steps } : {}),
    ...(opts.mode ? { mode: opts.mode } : {}),
  });
  const rng = new Rng(1);
  const cams = policy.model.cameras.map((c) => c.name);
  const history = [observation(rng, 0, cams), observation(rng, 1, cams)];
  policy.reset(0);
  for (let i = 0; i < 3; i++) await policy.predictChunk(history);
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await policy.predictChunk(history);
    ms.push(performance.now() - t0);
  }
  return { ...stats(ms), mode: policy.mode };
}

/**
 * `--ab A,B`: chunks from A and B alternately on the same observations; medians and the median B/A ratio. Each pair
 * runs in the other order from the last (A B, B A, …), so that going second in a pair is not counted as B's.
 */
async function alternate(a: string, b: string, reps: number): Promise<Record<string, unknown>> {
  const first = await loadPolicy(a);
  const policies = [first, await loadPolicy(b)];
  const rng = new Rng(1);
  const cams = first.model.cameras.map((c) => c.name);
  const history = [observation(rng, 0, cams), observation(rng, 1, cams)];
  const ms: [number[], number[]] = [[], []];
  for (let i = -3; i < reps; i++) {
    for (const p of policies) p.reset(i);
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      const t0 = performance.now();
      await policies[k]?.predictChunk(history);
      if (i >= 0) ms[k]?.push(performance.now() - t0);
    }
  }
  const ratios = ms[1].map((t, i) => t / (ms[0][i] as number));
  return {
    a: { dir: a, ...stats(ms[0]) },
    b: { dir: b, ...stats(ms[1]) },
    ratio_b_over_a_median: stats(ratios).median,
  };
}

function network(config: PolicyConfig): PolicyNetwork {
  return new PolicyNetwork(config, { stateDim: 16, actionDim: 16, cameras: config.encoder ? CAMERAS : [] });
}

function inferenceFlops(config: PolicyConfig, steps: number): number {
  const net = network(config);
  const denoise = config.objective === "regression" ? 1 : steps;
  return matmulFlops(net.encoderGraph()) + denoise * matmulFlops(net.denoiserGraph());
}

async function trainingSamplesPerSecond(config: PolicyConfig, batch: number, steps: number): Promise<number> {
  const net = network(config);
  const { g, loss } = net.trainingLoss(batch);
  const program = buildTrainingGraph(g, loss, { weightDecay: 1e-6 });
  const trainer = new TrainingGraph(program, await Session.create(program.model.bytes, { intraOpThreads: 2 }), {
    params: program.layout.init(0),
  });
  const rng = new Rng(2);
  const feeds: Record<string, TensorData> = {};
  for (const input of g.inputs) {
    if (input.name === "noise_seed") continue;
    const n = input.shape.reduce((p, q) => p * q, 1);
    // token ids (a language-conditioned policy's instruction) are int64: small ids, as the tokenizer gives
    const data =
      input.dtype === "int64"
        ? BigInt64Array.from({ length: n }, () => BigInt(rng.int(64)))
        : Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
    feeds[input.name] = { data, dims: input.shape };
  }
  if (feeds[IO.timestep])
    feeds[IO.timestep] = { data: Float32Array.from({ length: batch }, () => rng.int(100)), dims: [batch] };
  await trainer.step(feeds, 1e-4);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await trainer.step(feeds, 1e-4);
  return (steps * batch) / ((performance.now() - t0) / 1000);
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const quick = args.includes("--quick");
  const repsArg = args.indexOf("--reps");
  const reps = repsArg >= 0 ? Number(args[repsArg + 1]) : quick ? 10 : 50;
  const abArg = args.indexOf("--ab");
  if (abArg >= 0) {
    const [a, b] = (args[abArg + 1] ?? "").split(",");
    if (!a || !b) throw new Error("--ab takes two model directories: --ab A,B");
    return { reps, threads_per_graph: 1, ...(await alternate(a, b, reps)) };
  }
  const tmp = mkdtempSync(join(tmpdir(), "duet-bench-policy-"));
  const result: Record<string, unknown> = { reps, threads_per_graph: 1 };
  // --models DIR,DIR: measure these model directories (e.g. a run not shipped) instead of the shipped ones
  const modelsArg = args.indexOf("--models");
  const extra = modelsArg >= 0 ? (args[modelsArg + 1] ?? "").split(",").filter((d) => d.length > 0) : [];
  // default: every shipped model (models/NAME with a model.json), else the presets with random weights
  const shippedDirs = shippedModels();
  const names =
    extra.length > 0
      ? extra
      : quick
        ? ["bottle-cap-unet"]
        : shippedDirs.length > 0
          ? shippedDirs.map((d) => d.split("/")[1] as string)
          : Object.keys(POLICIES);
  for (const name of names) {
    process.stderr.write(`${name}: exporting/loading\n`);
    const { dir, shipped } =
      name in POLICIES
        ? modelDir(name, POLICIES[name as keyof typeof POLICIES], tmp)
        : existsSync(join("models", name, "model.json"))
          ? { dir: join("models", name), shipped: true }
          : { dir: name, shipped: name.replace(/^\.\//, "").startsWith("models/") };
    const config = readPolicyModel(dir).config;
    const steps = config.inference.inferenceSteps;
    const lat = await latency(dir, reps, {}); // the default path: what loadPolicy chooses
    const flops = inferenceFlops(config, steps);
    const entry: Record<string, unknown> = {
      shipped,
      ddim_steps: config.objective === "regression" ? 0 : steps,
      sampling: config.objective === "regression" ? "one pass" : lat.mode,
      latency_ms_median: lat.median,
      latency_ms_p95: lat.p95,
      // the trade in one table: the success its main test evaluation measured (docs/training.md)
      test_success: testSuccess(dir),
      gflop_per_inference: Number((flops / 1e9).toFixed(4)),
      gflops_per_s: Number((flops / 1e9 / (lat.median / 1000)).toFixed(2)),
      encoder_parameters: ParamLayout.of(network(config).encoderGraph()).total,
      denoiser_parameters: ParamLayout.of(network(config).denoiserGraph()).total,
    };
    if (config.objective === "diffusion") {
      const bySteps: Record<string, unknown> = {};
      const medians: number[] = [];
      const counts = quick ? [1, 10] : [1, 5, 10, 16];
      for (const k of counts) {
        process.stderr.write(`${name}: ${k} DDIM steps\n`);
        const l = await latency(dir, reps, { steps: k, mode: "loop" });
        medians.push(l.median);
        bySteps[String(k)] = {
          latency_ms_median: l.median,
          latency_ms_p95: l.p95,
          gflop_per_inference: Number((inferenceFlops(config, k) / 1e9).toFixed(4)),
        };
      }
      entry.by_ddim_steps = bySteps;
      // the cost of one more denoising step: the slope between the fewest and the most steps measured
      entry.denoiser_step_ms = Number(
        (((medians.at(-1) as number) - (medians[0] as number)) / ((counts.at(-1) as number) - 1)).toFixed(2),
      );
    }
    process.stderr.write(`${name}: training step\n`);
    entry.train_samples_per_s_batch64 = Number((await trainingSamplesPerSecond(config, 64, quick ? 2 : 5)).toFixed(1));
    result[name] = entry;
  }
  return result;
}
