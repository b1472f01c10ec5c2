// Training graphs end to end on real onnxruntime sessions: tiny problems train to a stated loss, exported inference
// graphs equal the training graph's forward pass, checkpoints resume exactly and bad ones are refused.
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.ts";
import {
  GraphBuilder,
  Linear,
  Mlp,
  NonFiniteLossError,
  ParamLayout,
  ShapeError,
  TRAIN_IO,
  TrainingGraph,
  buildTrainingGraph,
  crossEntropy,
  dropout,
  inferenceModel,
  loadCheckpoint,
  mseLoss,
  saveCheckpoint,
  silu,
  cosineWithWarmup,
  type CosineSchedule,
  type Tensor,
  type TensorData,
  type TrainState,
} from "../../src/nn/index.ts";
import { Session } from "../../src/runtime/index.ts";
import { closeness, f32, randn } from "./helpers.ts";

const B = 32;

/** y = sin(2·x0) + 0.5·x1, x ~ U(−1, 1)². Model: Linear(2,32) → SiLU → dropout(p) → Linear(32,1). */
function regression(p: number): { g: GraphBuilder; pred: Tensor; loss: Tensor } {
  const g = new GraphBuilder();
  g.training = true;
  const x = g.input("x", [B, 2]);
  const y = g.input("y", [B, 1]);
  const h = dropout(g, silu(g, new Linear("fc0", 2, 32).apply(g, x)), p);
  const pred = g.output("pred", new Linear("fc1", 32, 1).apply(g, h));
  return { g, pred, loss: mseLoss(g, pred, y) };
}

function regressionBatch(rng: Rng): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(B * 2);
  const y = new Float32Array(B);
  for (let i = 0; i < B; i++) {
    const a = rng.uniform(-1, 1);
    const b = rng.uniform(-1, 1);
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[i] = Math.sin(2 * a) + 0.5 * b;
  }
  return { x, y };
}

async function trainer(p = 0, seed = 1): Promise<TrainingGraph> {
  const { g, loss } = regression(p);
  const program = buildTrainingGraph(g, loss, { weightDecay: 1e-4, clipNorm: 1 });
  return new TrainingGraph(program, await Session.create(program.model.bytes, { intraOpThreads: 1 }), {
    params: program.layout.init(seed),
  });
}

function regressionFeeds(x: Float32Array, y: Float32Array): Record<string, TensorData> {
  return { x: { data: x, dims: [B, 2] }, y: { data: y, dims: [B, 1] } };
}

/** A training graph's state and hyper-parameter inputs, to run it without a TrainingGraph. */
function stateFeeds(
  s: Pick<TrainState, "params" | "m" | "v">,
  h: { lr: number; bc1: number; bc2: number },
): Record<string, TensorData> {
  const flat = (a: Float32Array): TensorData => ({ data: a, dims: [a.length] });
  const scalar = (x: number): TensorData => ({ data: new Float32Array([x]), dims: [] });
  return {
    [TRAIN_IO.params]: flat(s.params),
    [TRAIN_IO.m]: flat(s.m),
    [TRAIN_IO.v]: flat(s.v),
    [TRAIN_IO.lr]: scalar(h.lr),
    [TRAIN_IO.bc1]: scalar(h.bc1),
    [TRAIN_IO.bc2]: scalar(h.bc2),
  };
}

/** The float32 bit patterns of `a` (so that -0, NaN payloads and the last bit all count). */
function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

async function trainSteps(t: TrainingGraph, rng: Rng, steps: number, lr?: CosineSchedule): Promise<number> {
  let loss = Infinity;
  for (let i = 0; i < steps; i++) {
    const { x, y } = regressionBatch(rng);
    const rate = lr ? cosineWithWarmup(t.state.step, lr) : 1e-2;
    loss = (await t.step({ x: { data: x, dims: [B, 2] }, y: { data: y, dims: [B, 1] } }, rate)).loss;
  }
  return loss;
}

describe("training", () => {
  it("fits a tiny regression to MSE < 0.04 (from > 0.5) in 600 steps (cosine schedule, warm-up 20, peak 2e-2)", async () => {
    const t = await trainer();
    const rng = new Rng(7);
    const schedule = { peak: 2e-2, warmupSteps: 20, totalSteps: 600 };
    const first = await trainSteps(t, rng, 1, schedule);
    const last = await trainSteps(t, rng, 599, schedule);
    expect(first).toBeGreaterThan(0.5);
    expect(last).toBeLessThan(0.04); // PyTorch AdamW on the same problem plateaus at 0.02–0.03
    expect(t.state.step).toBe(600);
  });

  it("fits a tiny 3-class classification to cross-entropy < 0.05", async () => {
    const n = 48;
    const g = new GraphBuilder();
    const x = g.input("x", [n, 2]);
    const labels = g.input("labels", [n], { dtype: "int64" });
    const logits = new Mlp("net", [2, 16, 3], "gelu").apply(g, x);
    const program = buildTrainingGraph(g, crossEntropy(g, logits, labels), { weightDecay: 0 });
    const t = new TrainingGraph(program, await Session.create(program.model.bytes, { intraOpThreads: 1 }), {
      params: program.layout.init(3),
    });
    const rng = new Rng(11);
    const centers = [
      [1, 0],
      [-0.5, 0.8],
      [-0.5, -0.8],
    ];
    const xs = new Float32Array(n * 2);
    const ys = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % 3;
      xs[2 * i] = (centers[c]?.[0] ?? 0) + 0.15 * rng.normal();
      xs[2 * i + 1] = (centers[c]?.[1] ?? 0) + 0.15 * rng.normal();
      ys[i] = BigInt(c);
    }
    let loss = Infinity;
    for (let i = 0; i < 300; i++) {
      loss = (await t.step({ x: { data: xs, dims: [n, 2] }, labels: { data: ys, dims: [n] } }, 2e-2)).loss;
    }
    expect(loss).toBeLessThan(0.05);
  });

  it("exports an inference graph (.onnx) whose outputs equal the training graph's forward pass", async () => {
    const t = await trainer();
    await trainSteps(t, new Rng(1), 20);
    const { x, y } = regressionBatch(new Rng(2));
    const train = await Session.create(t.program.model.bytes, { intraOpThreads: 1 });
    const state = t.state;
    const out = await train.run({ ...regressionFeeds(x, y), ...stateFeeds(state, { lr: 0, bc1: 1, bc2: 1 }) });
    const { g } = regression(0);
    g.training = false;
    const model = inferenceModel(g, state.params, { outputs: ["pred"] });
    expect(model.inputs).toEqual([{ name: "x", dtype: "float32", shape: ["batch", 2] }]);
    const dir = mkdtempSync(join(tmpdir(), "duet-nn-"));
    expect(model.outputs).toEqual([{ name: "pred", dtype: "float32", shape: ["batch", 1] }]);
    const file = join(dir, "reg.onnx");
    writeFileSync(file, model.bytes);
    const inf = await Session.create(file, { intraOpThreads: 1 });
    const pred = f32((await inf.run({ x: { data: x, dims: [B, 2] } })).pred);
    expect(closeness(pred, f32(out.pred), 1e-6, 1e-6)).toBeLessThanOrEqual(1);
    // Symbolic batch: 3 rows give the first 3 predictions.
    const three = f32((await inf.run({ x: { data: x.subarray(0, 6), dims: [3, 2] } })).pred);
    expect(closeness(three, f32(out.pred).subarray(0, 3), 1e-6, 1e-6)).toBeLessThanOrEqual(1);
  });

  it("resumes exactly from a checkpoint (params, AdamW state, step, RNG, dropout noise)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "duet-ckpt-"));
    const path = join(dir, "a.safetensors");
    const straight = await trainer(0.2);
    await trainSteps(straight, new Rng(5), 12);

    const first = await trainer(0.2);
    const rng = new Rng(5);
    await trainSteps(first, rng, 7);
    const layout = first.program.layout;
    saveCheckpoint(path, layout, { ...first.state, ema: null, rng: rng.getState(), extra: { note: "test" } });

    const ck = loadCheckpoint(path, layout);
    expect(ck.step).toBe(7);
    expect(ck.extra).toEqual({ note: "test" });
    const resumed = await trainer(0.2, 999);
    resumed.state.params.set(ck.params);
    resumed.state.m.set(ck.m ?? new Float32Array());
    resumed.state.v.set(ck.v ?? new Float32Array());
    resumed.state.step = ck.step;
    const rng2 = new Rng(0);
    rng2.setState(ck.rng ?? []);
    await trainSteps(resumed, rng2, 5);
    expect(resumed.state.step).toBe(12);
    expect(Array.from(resumed.state.params)).toEqual(Array.from(straight.state.params));
    expect(Array.from(resumed.state.v)).toEqual(Array.from(straight.state.v));
  });

  it("refuses truncated, other-architecture and NaN checkpoints; a failed save overwrites nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "duet-bad-"));
    const t = await trainer();
    const layout = t.program.layout;
    const good = join(dir, "good.safetensors");
    saveCheckpoint(good, layout, { ...t.state, ema: Float32Array.from(t.state.params), rng: null, extra: {} });
    const bytes = readFileSync(good);

    const cut = join(dir, "cut.safetensors");
    writeFileSync(cut, bytes);
    truncateSync(cut, bytes.length - 10);
    expect(() => loadCheckpoint(cut, layout)).toThrow(/cut\.safetensors: truncated checkpoint/);

    const other = new GraphBuilder();
    new Linear("fc0", 3, 32).apply(other, other.input("x", [1, 3]));
    expect(() => loadCheckpoint(good, ParamLayout.of(other))).toThrow(
      /another architecture[\s\S]*fc0\.weight: expected F32 \[3,32\], received F32 \[2,32\][\s\S]*fc1\.weight: expected no such parameter/,
    );

    const nan = join(dir, "nan.safetensors");
    const corrupted = Buffer.from(bytes);
    const headerLen = Number(corrupted.readBigUInt64LE(0));
    corrupted.writeFloatLE(Number.NaN, 8 + headerLen + 4);
    writeFileSync(nan, corrupted);
    expect(() => loadCheckpoint(nan, layout)).toThrow(/NaN or infinite values in fc0\.weight/);

    const poisoned = Float32Array.from(t.state.params);
    poisoned[3] = Number.NaN;
    expect(() =>
      saveCheckpoint(good, layout, { ...t.state, params: poisoned, ema: null, rng: null, extra: {} }),
    ).toThrow(/refusing to save non-finite values in fc0\.weight/);
    expect(readFileSync(good).equals(bytes)).toBe(true);
  });

  it("stops on a NaN loss with the step number and keeps the last good parameters", async () => {
    const t = await trainer();
    await trainSteps(t, new Rng(3), 3);
    const before = Float32Array.from(t.state.params);
    const { x, y } = regressionBatch(new Rng(4));
    x[0] = Number.NaN;
    const err = await t
      .step({ x: { data: x, dims: [B, 2] }, y: { data: y, dims: [B, 1] } }, 1e-2)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as NonFiniteLossError).step).toBe(4);
    expect((err as Error).message).toMatch(/training step 4: loss is NaN/);
    expect(Array.from(t.state.params)).toEqual(Array.from(before));
    expect(t.state.step).toBe(3);
  });

  it("writes each step's state into its spare arrays bit for bit as fetching every output anew does", async () => {
    // The reference: the same training graph run with every output fetched into new arrays, adopted as the state.
    const t = await trainer(0.2);
    const session = await Session.create(t.program.model.bytes, { intraOpThreads: 1 });
    const rng = new Rng(8);
    let ref: Pick<TrainState, "params" | "m" | "v"> = {
      params: Float32Array.from(t.state.params),
      m: new Float32Array(t.state.m),
      v: new Float32Array(t.state.v),
    };
    const seen = new Set<Float32Array>();
    for (let step = 1; step <= 5; step++) {
      const { x, y } = regressionBatch(rng);
      const lr = 1e-2 * step;
      const out = await session.run({
        ...regressionFeeds(x, y),
        ...stateFeeds(ref, { lr, bc1: 1 - 0.9 ** step, bc2: 1 - 0.999 ** step }),
        [TRAIN_IO.noiseSeed]: { data: new Float32Array([(step * 78.233) % (2 * Math.PI)]), dims: [] },
      });
      ref = { params: f32(out[TRAIN_IO.newParams]), m: f32(out[TRAIN_IO.newM]), v: f32(out[TRAIN_IO.newV]) };
      const r = await t.step(regressionFeeds(x, y), lr);
      expect(r.loss).toBe(f32(out[TRAIN_IO.loss])[0]);
      expect(r.gradNorm).toBe(f32(out[TRAIN_IO.gradNorm])[0]);
      expect(bits(t.state.params)).toEqual(bits(ref.params));
      expect(bits(t.state.m)).toEqual(bits(ref.m));
      expect(bits(t.state.v)).toEqual(bits(ref.v));
      seen.add(t.state.params);
    }
    expect(seen.size).toBe(2); // two sets of arrays, swapped each step
  });

  it("takes PyTorch's AdamW steps (clip_grad_norm_, decay where marked, bias correction) within float32 rounding", async () => {
    // loss = Σ w·cw + Σ b·cb: the gradients are cw and cb, so the reference needs no autodiff.
    const g = new GraphBuilder();
    const w = g.param("w", [3, 4], { kind: "normal", std: 1 }); // decays (rank 2)
    const b = g.param("b", [4], { kind: "normal", std: 1 }); // does not
    const cw = g.input("cw", [3, 4], { batchAxis: null });
    const cb = g.input("cb", [4], { batchAxis: null });
    const loss = g.add(g.reduceSum(g.mul(w, cw), [0, 1]), g.reduceSum(g.mul(b, cb), [0]));
    const opts = { beta1: 0.8, beta2: 0.95, eps: 1e-3, weightDecay: 0.5, clipNorm: 2 };
    const program = buildTrainingGraph(g, loss, opts);
    const init = program.layout.init(4);
    const t = new TrainingGraph(program, await Session.create(program.model.bytes, { intraOpThreads: 1 }), {
      params: Float32Array.from(init),
    });
    const p = Array.from(init);
    const m = p.map(() => 0);
    const v = p.map(() => 0);
    const decays = program.layout.decayMask();
    const rng = new Rng(9);
    for (let step = 1; step <= 4; step++) {
      const scale = step === 2 ? 0.01 : 3; // step 2 is not clipped, the others are
      const grad = [...randn(rng, 12, scale), ...randn(rng, 4, scale)];
      const lr = 0.1 * step;
      const norm = Math.hypot(...grad);
      const clip = Math.min(1, opts.clipNorm / (norm + 1e-6));
      const bc1 = 1 - opts.beta1 ** step;
      const bc2 = 1 - opts.beta2 ** step;
      for (let i = 0; i < p.length; i++) {
        const gi = (grad[i] as number) * clip;
        m[i] = opts.beta1 * (m[i] as number) + (1 - opts.beta1) * gi;
        v[i] = opts.beta2 * (v[i] as number) + (1 - opts.beta2) * gi * gi;
        const decayed = (p[i] as number) * (decays[i] ? 1 - lr * opts.weightDecay : 1);
        p[i] = decayed - ((lr / bc1) * (m[i] as number)) / (Math.sqrt(v[i] as number) / Math.sqrt(bc2) + opts.eps);
      }
      const r = await t.step(
        {
          cw: { data: Float32Array.from(grad.slice(0, 12)), dims: [3, 4] },
          cb: { data: Float32Array.from(grad.slice(12)), dims: [4] },
        },
        lr,
      );
      expect(r.gradNorm).toBeCloseTo(norm, 4);
      expect(closeness(t.state.m, m, 1e-5, 1e-7)).toBeLessThanOrEqual(1);
      expect(closeness(t.state.v, v, 1e-5, 1e-7)).toBeLessThanOrEqual(1);
      expect(closeness(t.state.params, p, 1e-5, 1e-6)).toBeLessThanOrEqual(1);
    }
    expect(decays.slice(0, 13)).toEqual(Float32Array.from([...Array(12).fill(1), 0]));
  });

  it("fails at build time on mismatched shapes, naming the node and both shapes", () => {
    const g = new GraphBuilder();
    const a = g.input("a", [2, 3]);
    const b = g.input("b", [4, 5]);
    expect(() => g.scope("block1", () => g.matmul(a, b))).toThrow(ShapeError);
    expect(() => g.scope("block1", () => g.matmul(a, b))).toThrow(
      /MatMul node 'block1\.MatMul_\d+': shapes \[2,3\] and \[4,5\]: inner dimensions 3 and 4 differ/,
    );
    expect(() => g.add(a, b)).toThrow(/Add node 'Add_\d+': shapes \[2,3\] and \[4,5\] do not broadcast/);
  });
});
