// ViT: token counts, position embeddings matter, exported inference graph equals the training graph's forward pass
// (every tiny preset, symbolic batch), and bad options name their field.
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../src/core/index.ts";
import {
  GraphBuilder,
  ParamLayout,
  TRAIN_IO,
  buildTrainingGraph,
  inferenceModel,
  mseLoss,
} from "../../../src/nn/index.ts";
import { Session } from "../../../src/runtime/index.ts";
import { VitEncoder, createEncoder, type EncoderRef } from "../../../src/encoders/index.ts";
import { ENCODER_NAMES } from "../../../src/encoders/registry.ts";
import { closeness, encode, f32, forwardGraph, inputDims, maxAbsDiff, randomImages } from "../helpers.ts";

describe("ViT tokens", () => {
  const cases = [
    { h: 32, w: 32, patch: 8, stem: [], pool: "cls", tokens: 16 + 1 },
    { h: 32, w: 32, patch: 8, stem: [], pool: "mean", tokens: 16 },
    { h: 96, w: 96, patch: 8, stem: [], pool: "cls", tokens: 144 + 1 },
    { h: 48, w: 32, patch: 4, stem: [], pool: "cls+mean", tokens: 12 * 8 + 1 },
    { h: 32, w: 64, patch: 2, stem: [8, 8], pool: "mean", tokens: 4 * 8 },
  ] as const;
  for (const c of cases) {
    it(`${c.h}×${c.w}, patch ${c.patch}, stem [${c.stem.join(",")}], pool ${c.pool} → ${c.tokens} tokens`, () => {
      const enc = new VitEncoder({
        height: c.h,
        width: c.w,
        patch: c.patch,
        stem: [...c.stem],
        pool: c.pool,
        dim: 16,
        depth: 1,
        heads: 2,
        featureDim: 8,
      });
      const down = 2 ** c.stem.length;
      const cells = (c.h / down / c.patch) * (c.w / down / c.patch);
      expect(enc.tokens).toBe(cells + (c.pool === "mean" ? 0 : 1));
      expect(enc.tokens).toBe(c.tokens);
      const { g, out } = forwardGraph(enc, 2);
      expect(ParamLayout.of(g).entry("pos").shape).toEqual([1, c.tokens, 16]);
      expect(g.paramSpecs.has("cls")).toBe(c.pool !== "mean");
      expect(out.shape).toEqual([2, 8]);
    });
  }
});

describe("ViT position embeddings", () => {
  it("permuting the position embeddings of the patch tokens changes the output", async () => {
    const enc = createEncoder({ name: "vit-tiny" });
    const images = randomImages(5, 2 * 32 * 32 * 3);
    const base = await encode(enc, 2, images);
    const permuted = base.params.slice();
    const pos = base.layout.view(permuted, "pos"); // [1, 17, 32]: row 0 is the class token's
    const d = 32;
    const rows = pos.length / d;
    const original = pos.slice();
    for (let r = 1; r < rows; r++)
      pos.set(original.subarray(((r % (rows - 1)) + 1) * d, ((r % (rows - 1)) + 2) * d), r * d);
    const shifted = await encode(enc, 2, images, permuted);
    expect(maxAbsDiff(shifted.features, base.features)).toBeGreaterThan(1e-3);
    // Putting them back restores the output exactly (the change came from the permutation alone).
    pos.set(original);
    const restored = await encode(enc, 2, images, permuted);
    expect(maxAbsDiff(restored.features, base.features)).toBe(0);
  });
});

describe("ONNX export equals the training forward pass", () => {
  const tiny = ENCODER_NAMES.filter((k) => k.endsWith("-tiny"));
  for (const name of tiny) {
    it(`${name}: inferenceModel (symbolic batch) on a batch of 2 and of 3 = the training graph's features`, async () => {
      const enc = createEncoder({ name });
      const n = 2;
      const train = new GraphBuilder();
      train.training = true;
      const images = train.input("images", inputDims(enc, n));
      const feats = train.output("features", enc.apply(train, images));
      const target = train.input("target", feats.shape);
      const program = buildTrainingGraph(train, mseLoss(train, feats, target));
      const params = program.layout.init(11);
      const p = params.length;
      const data = randomImages(
        9,
        inputDims(enc, n).reduce((a, b) => a * b, 1),
      );
      const trainSession = await Session.create(program.model.bytes, { intraOpThreads: 1 });
      const out = await trainSession.run({
        images: { data, dims: inputDims(enc, n) },
        target: { data: new Float32Array(n * enc.featureDim), dims: [n, enc.featureDim] },
        [TRAIN_IO.params]: { data: params, dims: [p] },
        [TRAIN_IO.m]: { data: new Float32Array(p), dims: [p] },
        [TRAIN_IO.v]: { data: new Float32Array(p), dims: [p] },
        [TRAIN_IO.lr]: { data: Float32Array.of(1e-3), dims: [] },
        [TRAIN_IO.bc1]: { data: Float32Array.of(0.1), dims: [] },
        [TRAIN_IO.bc2]: { data: Float32Array.of(0.001), dims: [] },
      });
      const trained = f32(out.features);
      expect(trained.length).toBe(n * enc.featureDim);
      const infer = forwardGraph(enc, n);
      expect(ParamLayout.of(infer.g).signature()).toBe(program.layout.signature());
      const session = await Session.create(inferenceModel(infer.g, params).bytes, { intraOpThreads: 1 });
      const exported = f32((await session.run({ images: { data, dims: inputDims(enc, n) } })).features);
      expect(closeness(exported, trained, 1e-4, 1e-5)).toBeLessThanOrEqual(1);
      // Same model, batch of 3: the first two rows are the same images → the same features.
      const per = data.length / n;
      const three = new Float32Array(3 * per);
      three.set(data);
      three.set(data.subarray(0, per), 2 * per);
      const out3 = f32((await session.run({ images: { data: three, dims: inputDims(enc, 3) } })).features);
      expect(closeness(out3.subarray(0, n * enc.featureDim), trained, 1e-4, 1e-5)).toBeLessThanOrEqual(1);
      expect(
        closeness(out3.subarray(2 * enc.featureDim), trained.subarray(0, enc.featureDim), 1e-4, 1e-5),
      ).toBeLessThanOrEqual(1);
    });
  }
});

describe("bad encoder configs name the field", () => {
  const bad: { config: EncoderRef; fields: string[] }[] = [
    { config: { name: "vit", height: 96, width: 96, patch: 7 }, fields: ["patch"] },
    { config: { name: "vit", height: 96, width: 90, patch: 8 }, fields: ["patch"] },
    { config: { name: "vit", dim: 96, heads: 5 }, fields: ["heads"] },
    { config: { name: "vit", stem: [24, 30], stemGroups: 4, patch: 2 }, fields: ["stem.1"] },
    { config: { name: "vit", height: 90, stem: [8, 8], patch: 2 }, fields: ["stem", "patch"] },
    { config: { name: "vit", depth: -1, pool: "max", featureDim: 0 }, fields: ["depth", "pool", "featureDim"] },
    { config: { name: "vit", patchSize: 8 }, fields: [""] },
    { config: { name: "tubelet", frames: 0, inflation: "copy" }, fields: ["frames", "inflation"] },
    { config: { name: "cnn", channels: [16, 30], groups: 8 }, fields: ["channels.1"] },
    { config: { name: "cnn", height: 20, channels: [8, 8, 8] }, fields: ["channels"] },
    { config: { name: "cnn", stemPatch: 7, channels: [8, 8] }, fields: ["channels"] },
    { config: { name: "cnn", stemPatch: 1 }, fields: ["stemPatch"] },
    { config: { name: "vit-tiny", patch: 7 }, fields: ["patch"] },
    { config: { name: "cnn-tiny", keypoints: 0, extra: 1 }, fields: ["keypoints", ""] },
  ];
  for (const { config, fields } of bad) {
    it(`${JSON.stringify(config)} → ${fields.join(", ")}`, () => {
      let error: unknown;
      try {
        createEncoder(config, "test.json");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      const v = error as ValidationError;
      expect(v.message).toContain("test.json");
      expect(v.issues.map((i) => i.path).sort()).toEqual([...fields].sort());
      for (const issue of v.issues) expect(issue.expected.length).toBeGreaterThan(0);
    });
  }

  it("an unknown name lists the presets and the architectures", () => {
    expect(() => createEncoder({ name: "vit-huge" }, "test.json")).toThrow(
      /test.json: encoder.name "vit-huge" is unknown; expected one of "vit-tiny", "vit-small".*"vit", "tubelet", "cnn"/,
    );
    // Names come from the registry's own tables, not from what every object has.
    expect(() => createEncoder({ name: "constructor" })).toThrow(/encoder.name "constructor" is unknown/);
  });

  it("a preset's options may be overridden; the result is the preset's architecture", () => {
    const enc = createEncoder({ name: "vit-tiny", featureDim: 16 });
    expect(enc).toBeInstanceOf(VitEncoder);
    expect(enc.featureDim).toBe(16);
    expect(createEncoder({ name: "vit-tiny" }).featureDim).toBe(32);
  });

  it("images of the wrong shape name the encoder and the expected shape", () => {
    const enc = createEncoder({ name: "vit-tiny" });
    const g = new GraphBuilder();
    expect(() => enc.apply(g, g.input("x", [2, 32, 32, 4]))).toThrow("ViT: images must be float32 [N,32,32,3]");
    const cnn = createEncoder({ name: "cnn-tiny" });
    expect(() => cnn.apply(g, g.input("y", [2, 30, 32, 3]))).toThrow("CNN: images must be float32 [N,32,32,3]");
    const tub = createEncoder({ name: "tubelet-tiny" });
    expect(() => tub.apply(g, g.input("z", [2, 32, 32, 3]))).toThrow(
      "tubelet ViT: images must be float32 [N,2,32,32,3]",
    );
  });
});
