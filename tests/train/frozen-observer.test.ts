// Training on a frozen observer (`duet train --observer-from RUN`): a tiny camera policy trains its observer, a
// second run trains only the rest on cached features, and the exported policy carries the first run's encoder.
import { copyFileSync, cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Dataset } from "../../src/data/index.ts";
import { checkpointLayout, float16Bits, float16Value, loadCheckpoint } from "../../src/nn/index.ts";
import { IO, PolicyNetwork, imageInput, loadPolicy } from "../../src/policy/index.ts";
import { Session } from "../../src/runtime/index.ts";
import { FeatureCache, loadFrozenObserver } from "../../src/train/frozen-observer.ts";
import { CHECKPOINT_FILE, train, trainConfigSchema, type TrainConfig, type TrainEvent } from "../../src/train/index.ts";
import { CAM, observation, tempDir, tinyConfig, tinyEncoder, writeTinyDataset } from "../policy/fixtures.ts";

let dataset = "";
let observerRun = "";
const config = (train: object = {}, policy: object = {}): TrainConfig =>
  trainConfigSchema.parse(
    tinyConfig({ train: { steps: 20, valEvery: 10, ...train }, policy: { obsSteps: 1, ...policy } }),
  );
const shape = { stateDim: 16, actionDim: 16, cameras: [{ name: "front", height: CAM, width: CAM }] };

beforeAll(async () => {
  dataset = await writeTinyDataset();
  observerRun = tempDir("duet-observer-");
  await train({ dataset, config: config(), out: observerRun });
});

/** The encoder graph's output (state and camera features) of a model directory for observation (e, t). */
async function encode(dir: string, e: number, t: number): Promise<Float32Array> {
  const s = await Session.create(readFileSync(join(dir, "encoder.onnx")));
  const model = JSON.parse(readFileSync(join(dir, "model.json"), "utf8")) as {
    normalizer: { state: { min: number[]; max: number[] } };
  };
  const o = observation(e, t);
  const { min, max } = model.normalizer.state;
  const state = Float32Array.from(o.state, (v, j) => (2 * (v - min[j]!)) / Math.max(max[j]! - min[j]!, 1e-12) - 1);
  const image = Float32Array.from(o.images!.front!.data, (v) => v / 127.5 - 1);
  const out = await s.run({
    [IO.state]: { data: state, dims: [1, 1, 16] },
    [imageInput("front")]: { data: image, dims: [1, 1, CAM, CAM, 3] },
  });
  return out[IO.cond]!.data as Float32Array;
}

describe("training on a frozen observer", () => {
  it("caches the observer's features, trains the rest, and exports the earlier run's encoder unchanged", async () => {
    const c = config({ steps: 40, logEvery: 10 });
    const net = new PolicyNetwork(c.policy, shape);
    const observer = loadFrozenObserver(observerRun, join(observerRun, CHECKPOINT_FILE), net, "test config");
    expect(observer.steps).toBe(20);
    // the cached features are what the earlier run's exported encoder computes
    const ds = await Dataset.open(dataset);
    const cache = await FeatureCache.compute(ds, [0, 1, 2, 3], net, observer, { precision: "float32", threads: 1 });
    const row = new Float32Array(cache.dim);
    cache.read(shape.cameras[0]!, 2, 5, row, 0);
    const cond = await encode(observerRun, 2, 5);
    expect(cache.dim).toBe(8);
    for (let i = 0; i < 8; i++) expect(row[i]!).toBeCloseTo(cond[16 + i]!, 5);

    const out = tempDir("duet-frozen-");
    const events: TrainEvent[] = [];
    const result = await train({ dataset, config: c, out, observerFrom: observerRun, onEvent: (e) => events.push(e) });
    expect(result.step).toBe(40);
    const losses = events.flatMap((e) => (e.kind === "step" ? [e.loss] : []));
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    const progress = events.flatMap((e) => (e.kind === "features" ? [e] : []));
    expect(progress.at(-1)).toEqual({ kind: "features", done: 64, total: 64 }); // 4 episodes × 16 frames, one camera
    // the trained parameters are the earlier run's less its encoder (8 features from one 8·8·3 patch: its projection
    // 192·8 + 8, position 8, LayerNorm 2·8, head 8·8 + 8)
    const start = events.find((e) => e.kind === "start") as { params: number };
    const full = checkpointLayout(join(observerRun, CHECKPOINT_FILE)).total;
    expect(full - start.params).toBe(192 * 8 + 8 + 8 + 2 * 8 + 8 * 8 + 8);

    // the exported encoder is the earlier run's; the denoiser is this run's
    expect([...(await encode(out, 1, 7))]).toEqual([...(await encode(observerRun, 1, 7))]);
    expect(readFileSync(join(out, "denoiser.onnx")).equals(readFileSync(join(observerRun, "denoiser.onnx")))).toBe(
      false,
    );
    const model = JSON.parse(readFileSync(join(out, "model.json"), "utf8")) as {
      provenance: { observer_from: { model: string; steps: number; wall_s: number } };
    };
    expect(model.provenance.observer_from).toMatchObject({ model: observerRun, steps: 20 });
    const policy = await loadPolicy(out);
    policy.reset(0);
    const chunk = await policy.predictChunk([observation(0, 4)]);
    expect(chunk.actions.every(Number.isFinite)).toBe(true);
  });

  it("resumes exactly, and only with the same --observer-from", async () => {
    const c = config({ steps: 20, valEvery: 0 });
    const straight = tempDir("duet-frozen-");
    await train({ dataset, config: c, out: straight, observerFrom: observerRun });
    const split = tempDir("duet-frozen-");
    await train({ dataset, config: c, out: split, observerFrom: observerRun, stopAtStep: 10 });
    await expect(train({ dataset, config: c, out: split, resume: true })).rejects.toThrow(
      `was trained on the frozen observer of ${observerRun}; resume with --observer-from ${observerRun}`,
    );
    await train({ dataset, config: c, out: split, observerFrom: observerRun, resume: true });
    const layout = checkpointLayout(join(straight, CHECKPOINT_FILE));
    const a = loadCheckpoint(join(straight, CHECKPOINT_FILE), layout);
    const b = loadCheckpoint(join(split, CHECKPOINT_FILE), layout);
    expect(b.step).toBe(20);
    expect([...b.ema!]).toEqual([...a.ema!]);
    await expect(
      train({ dataset, config: c, out: observerRun, observerFrom: observerRun, resume: true }),
    ).rejects.toThrow("trained its own observer; resume without --observer-from");
  });

  it("takes the observer from an exported model without its checkpoint (a shipped model), float16 weights widened", async () => {
    const c = config({ steps: 10, valEvery: 0 });
    // the observer run re-exported with float16 weights, then only model.json and encoder.onnx kept
    const half = tempDir("duet-observer-f16-");
    cpSync(observerRun, half, { recursive: true });
    await train({ dataset, config: config(), out: half, resume: true, weights: "float16" });
    const shipped = tempDir("duet-shipped-");
    for (const f of ["model.json", "encoder.onnx"]) copyFileSync(join(half, f), join(shipped, f));
    const net = new PolicyNetwork(c.policy, shape);
    const fromModel = loadFrozenObserver(shipped, join(shipped, CHECKPOINT_FILE), net, "test config");
    const fromRun = loadFrozenObserver(observerRun, join(observerRun, CHECKPOINT_FILE), net, "test config");
    expect(fromModel.steps).toBe(20);
    expect(fromModel.layout.entries).toEqual(fromRun.layout.entries);
    // each weight is the checkpoint's EMA weight rounded to the nearest half
    expect([...fromModel.params]).toEqual([...fromRun.params].map((v) => float16Value(float16Bits(v))));
    expect(fromModel.params.some((v, i) => v !== fromRun.params[i])).toBe(true);
    const out = tempDir("duet-frozen-");
    await train({ dataset, config: c, out, observerFrom: shipped, weights: "float16" });
    expect([...(await encode(out, 3, 2))]).toEqual([...(await encode(shipped, 3, 2))]);

    // a model trained on that frozen observer offers the same encoder, and reports the observer's training, not its own
    const second = tempDir("duet-shipped-");
    for (const f of ["model.json", "encoder.onnx"]) copyFileSync(join(out, f), join(second, f));
    const secondRun = JSON.parse(readFileSync(join(out, "model.json"), "utf8")) as { provenance: { steps: number } };
    expect(secondRun.provenance.steps).toBe(10);
    expect(loadFrozenObserver(second, join(second, CHECKPOINT_FILE), net, "test config").steps).toBe(20);

    writeFileSync(join(shipped, "encoder.onnx"), Buffer.from([0x3a, 0x40, 1, 2]));
    expect(() => loadFrozenObserver(shipped, join(shipped, CHECKPOINT_FILE), net, "test config")).toThrow(
      /encoder.onnx: truncated protobuf/,
    );
  });

  it("refuses a directory with neither a checkpoint nor a model, another encoder, a policy without cameras, and colour jitter", async () => {
    const c = config();
    await expect(train({ dataset, config: c, out: tempDir(), observerFrom: tempDir("duet-empty-") })).rejects.toThrow(
      /neither .*train\/checkpoint.safetensors \(a training run\) nor .*model.json \(an exported model\) is there/,
    );
    const other = config({}, { encoder: tinyEncoder(4) });
    const err = await train({ dataset, config: other, out: tempDir(), observerFrom: observerRun }).catch((e) => e);
    expect(String(err)).toContain("its observer is not the one training config asks for");
    expect(String(err)).toContain("policy.encoder");
    expect(String(err)).toContain("obs.front.head.weight");
    const blind = config({}, { encoder: null });
    await expect(train({ dataset, config: blind, out: tempDir(), observerFrom: observerRun })).rejects.toThrow(
      /has no cameras, so there is no observer to freeze/,
    );
    // colour jitter would change frames whose features are computed once, unjittered
    const jittered = config({ augment: { brightness: 0.2 } });
    await expect(train({ dataset, config: jittered, out: tempDir(), observerFrom: observerRun })).rejects.toThrow(
      "train.augment.brightness and .contrast jitter the frames a jointly trained observer sees",
    );
  });
});
