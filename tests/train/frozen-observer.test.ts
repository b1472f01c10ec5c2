// Training on a frozen observer (`duet train --observer-from RUN`): a tiny camera policy trains its observer, a
// second run trains only the rest on cached features, and the exported policy carries the first run's encoder. The
// features are kept in the run's train/ folder: read back bit for bit, continued after an interruption, refused on a
// resume with another observer or dataset.
import { appendFileSync, copyFileSync, cpSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Dataset } from "../../src/data/index.ts";
import { checkpointLayout, float16Bits, float16Value, loadCheckpoint } from "../../src/nn/index.ts";
import { IO, PolicyNetwork, imageInput, loadPolicy } from "../../src/policy/index.ts";
import { Session } from "../../src/runtime/index.ts";
import { FeatureCache, loadFrozenObserver, type FrozenObserver } from "../../src/train/frozen-observer.ts";
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

/** Resume (or run again) the run in `out` on the observer run: its features events. */
async function resumed(out: string, c: TrainConfig, resume = true): Promise<TrainEvent[]> {
  const events: TrainEvent[] = [];
  await train({ dataset, config: c, out, observerFrom: observerRun, resume, onEvent: (e) => events.push(e) });
  return events.filter((e) => e.kind === "features");
}

/** The EMA weights of the run in `dir`. */
function ema(dir: string): number[] {
  const file = join(dir, CHECKPOINT_FILE);
  return [...loadCheckpoint(file, checkpointLayout(file)).ema!];
}

describe("training on a frozen observer", () => {
  it("caches the observer's features, trains the rest, and exports the earlier run's encoder unchanged", async () => {
    const c = config({ steps: 40, logEvery: 10 });
    const net = new PolicyNetwork(c.policy, shape);
    const observer = loadFrozenObserver(observerRun, join(observerRun, CHECKPOINT_FILE), net, "test config");
    expect(observer.steps).toBe(20);
    // the cached features are what the earlier run's exported encoder computes
    const ds = await Dataset.open(dataset);
    const cache = await FeatureCache.load({
      dir: tempDir("duet-features-"),
      dataset: ds,
      episodes: [0, 1, 2, 3],
      network: net,
      observer,
      precision: "float32",
      threads: 1,
      resume: false,
    });
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
    // 4 episodes × 16 frames, one camera, computed and kept in the run's train/ folder
    expect(progress.at(-1)).toEqual({ kind: "features", done: 64, total: 64, readBack: 0 });
    expect(readFileSync(join(out, "train/features.f32")).length).toBe(64 * 8 * 4);
    const logged = JSON.parse(readFileSync(join(out, "train/log.jsonl"), "utf8").split("\n")[0]!) as object;
    expect(logged).toMatchObject({ kind: "features", done: 64, total: 64, readBack: 0 });
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
    // it trained on the features of this dataset: resuming on a copy elsewhere is refused, naming the difference
    const moved = tempDir("duet-ds-");
    cpSync(dataset, moved, { recursive: true });
    await expect(
      train({ dataset: moved, config: c, out: split, observerFrom: observerRun, resume: true }),
    ).rejects.toThrow(
      /train\/features.json: the observer features this run trained on were computed from other inputs: dataset \(/,
    );
    // the resumed run reads its features back instead of computing them
    expect(await resumed(split, c)).toEqual([{ kind: "features", done: 64, total: 64, readBack: 64 }]);
    expect(loadCheckpoint(join(split, CHECKPOINT_FILE), checkpointLayout(join(split, CHECKPOINT_FILE))).step).toBe(20);
    expect(ema(split)).toEqual(ema(straight));
    await expect(
      train({ dataset, config: c, out: observerRun, observerFrom: observerRun, resume: true }),
    ).rejects.toThrow("trained its own observer; resume without --observer-from");
  });

  it("continues a run stopped while computing its features, before its first checkpoint: run again, or resumed", async () => {
    const c = config({ steps: 10, valEvery: 0 });
    const straight = tempDir("duet-frozen-");
    await train({ dataset, config: c, out: straight, observerFrom: observerRun });
    const stop = (e: TrainEvent): void => {
      if (e.kind === "features") throw new Error("interrupted");
    };
    const stopped = async (): Promise<string> => {
      const out = tempDir("duet-frozen-");
      await expect(train({ dataset, config: c, out, observerFrom: observerRun, onEvent: stop })).rejects.toThrow(
        "interrupted",
      );
      expect(readdirSync(join(out, "train")).sort()).toEqual(["features.f32", "features.json"]);
      return out;
    };
    // the same command again (as scripts/reproduce.sh runs it without a checkpoint) continues the features
    const again = await stopped();
    expect(await resumed(again, c, false)).toEqual([{ kind: "features", done: 64, total: 64, readBack: 64 }]);
    expect(ema(again)).toEqual(ema(straight));
    const cut = await stopped();
    await expect(train({ dataset, config: c, out: cut, resume: true })).rejects.toThrow("nothing to resume");
    expect(await resumed(cut, c)).toEqual([{ kind: "features", done: 64, total: 64, readBack: 64 }]);
    expect(ema(cut)).toEqual(ema(straight));
    // features beside anything else are no run's: refused as any other folder
    const other = await stopped();
    writeFileSync(join(other, "notes.txt"), "");
    await expect(train({ dataset, config: c, out: other, observerFrom: observerRun })).rejects.toThrow(
      "not empty (notes.txt, train) and not a training run",
    );
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

describe("the frozen observer's features on disk", () => {
  /** 36 episodes × 15 frames: 540 camera frames, 9 batches of 64 (the last one short), 3 blocks of 4 batches. */
  let big = "";
  let net: PolicyNetwork;
  let observer: FrozenObserver;
  beforeAll(async () => {
    big = await writeTinyDataset(36, 15);
    net = new PolicyNetwork(config().policy, shape);
    observer = loadFrozenObserver(observerRun, join(observerRun, CHECKPOINT_FILE), net, "test config");
  });
  const all = Array.from({ length: 36 }, (_, e) => e);

  /** Load the features of `episodes` of `root` into `dir`, with the progress reports. */
  async function features(
    dir: string,
    o: {
      root?: string;
      episodes?: number[];
      frozen?: FrozenObserver;
      precision?: "float32" | "float16";
      resume?: boolean;
      stopAfter?: number;
    } = {},
  ): Promise<{ cache: FeatureCache; progress: [number, number, number][] }> {
    const progress: [number, number, number][] = [];
    const cache = await FeatureCache.load({
      dir,
      dataset: await Dataset.open(o.root ?? big),
      episodes: o.episodes ?? all,
      network: net,
      observer: o.frozen ?? observer,
      precision: o.precision ?? "float32",
      threads: 1,
      resume: o.resume ?? false,
      onProgress: (done, total, readBack) => {
        progress.push([done, total, readBack]);
        if (o.stopAfter !== undefined && progress.length === o.stopAfter) throw new Error("interrupted");
      },
    });
    return { cache, progress };
  }
  /** Every frame's features, episode after episode. */
  function rows(cache: FeatureCache, episodes = all): Float32Array {
    const out = new Float32Array(episodes.length * 15 * cache.dim);
    for (const [i, e] of episodes.entries())
      for (let t = 0; t < 15; t++) cache.read(shape.cameras[0]!, e, t, out, (i * 15 + t) * cache.dim);
    return out;
  }
  const f32 = (dir: string): Buffer => readFileSync(join(dir, "features.f32"));
  const bits = (a: Float32Array): number[] => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

  it("are read back bit for bit, without running the encoder", async () => {
    const dir = tempDir("duet-features-");
    const computed = await features(dir);
    expect(computed.progress.map(([done]) => done)).toEqual([64, 128, 192, 256, 320, 384, 448, 512, 540]);
    expect(f32(dir).length).toBe(540 * 8 * 4);
    const read = await features(dir, { resume: true });
    expect(read.progress).toEqual([[540, 540, 540]]);
    expect(bits(rows(read.cache))).toEqual(bits(rows(computed.cache)));
    const onDisk = f32(dir);
    expect(bits(new Float32Array(onDisk.buffer, onDisk.byteOffset, onDisk.length / 4))).toEqual(
      bits(rows(computed.cache)),
    );
  });

  it("continue where an interrupted computation stopped, and end as an uninterrupted one", async () => {
    const whole = tempDir("duet-features-");
    await features(whole);
    const cut = tempDir("duet-features-");
    // stopped after 6 batches: the first block of 4 is on disk, and part of the next one's write
    await expect(features(cut, { stopAfter: 6 })).rejects.toThrow("interrupted");
    const meta = JSON.parse(readFileSync(join(cut, "features.json"), "utf8")) as { rowsDone: number };
    expect(meta.rowsDone).toBe(256);
    appendFileSync(join(cut, "features.f32"), new Uint8Array(1000));
    const continued = await features(cut, { resume: true });
    expect(continued.progress.map(([done, , readBack]) => [done, readBack])).toEqual([
      [256, 256],
      [320, 256],
      [384, 256],
      [448, 256],
      [512, 256],
      [540, 256],
    ]);
    expect(f32(cut).equals(f32(whole))).toBe(true);
  });

  it("are refused on a resume with another observer or dataset, recomputed for a new run or another precision", async () => {
    const dir = tempDir("duet-features-");
    const first = await features(dir);
    // the observer's run trained further: other weights under the same path
    const further = { ...observer, params: observer.params.map((v, i) => (i === 0 ? v + 1 : v)) };
    const err = String(await features(dir, { frozen: further, resume: true }).catch((e) => e));
    expect(err).toContain(
      `${join(dir, "features.json")}: the observer features this run trained on were computed from other inputs: parameters (`,
    );
    expect(err).toContain(`delete features.f32 and features.json beside it`);
    // episodes appended or left out, another dataset
    await expect(features(dir, { episodes: all.slice(0, 35), resume: true })).rejects.toThrow(
      "other inputs: episodes ([0,…,35] (36) there, [0,…,34] (35) now), episodeMeta (",
    );
    const copy = tempDir("duet-ds-");
    cpSync(big, copy, { recursive: true });
    await expect(features(dir, { root: copy, resume: true })).rejects.toThrow(
      /other inputs: dataset \(.*there, .*now\);/,
    );
    await expect(features(dir, { root: dataset, episodes: [0, 1, 2, 3], resume: true })).rejects.toThrow(
      /other inputs: dataset \(.*\), episodes \(.*\), episodeMeta/,
    );
    expect(f32(dir).equals(Buffer.from(rows(first.cache).buffer))).toBe(true); // refused: left as they were

    // a new run in the same folder (--init-from it) computes its own; so does a resume with another --weights
    const fresh = await features(dir, { frozen: further });
    expect(fresh.progress[0]).toEqual([64, 540, 0]);
    expect(bits(rows(fresh.cache))).not.toEqual(bits(rows(first.cache)));
    await expect(features(dir, { precision: "float16", resume: true })).rejects.toThrow(
      /other inputs: parameters \(.*\), precision \("float32" there, "float16" now\);/,
    );
    const half = await features(dir, { frozen: further, precision: "float16", resume: true });
    expect(half.progress.at(-1)).toEqual([540, 540, 0]);
    const again = await features(tempDir("duet-features-"), { frozen: further, precision: "float16" });
    expect(bits(rows(half.cache))).toEqual(bits(rows(again.cache)));
  });
});
