// MultiCameraEncoder: documented layout (camera-major columns), shared vs per-camera parameters, the camera embedding
// tells cameras apart, sum = Σ of the concat blocks, missing/extra/mis-shaped cameras are named.
import { describe, expect, it } from "vitest";
import { GraphBuilder, ParamLayout, ShapeError, inferenceModel, type Tensor } from "../../../src/nn/index.ts";
import { Session } from "../../../src/runtime/index.ts";
import {
  MultiCameraEncoder,
  createEncoder,
  encoderPreset,
  type MultiCameraConfigInput,
} from "../../../src/encoders/index.ts";
import { closeness, copyByName, encode, f32, randomImages } from "../helpers.ts";

const CAMS = ["top", "left_wrist", "right_wrist"];
const PER = 32 * 32 * 3;

async function runMulti(
  config: MultiCameraConfigInput,
  encoder: unknown,
  n: number,
  images: Record<string, Float32Array>,
  edit?: (layout: ParamLayout, params: Float32Array) => void,
): Promise<{ out: Float32Array; layout: ParamLayout; params: Float32Array; mc: MultiCameraEncoder }> {
  const mc = new MultiCameraEncoder(config, encoder);
  const g = new GraphBuilder();
  const inputs: Record<string, Tensor> = {};
  for (const c of mc.cameras) inputs[c] = g.input(c, [n, ...mc.inputDims(c)]);
  g.output("features", mc.apply(g, inputs));
  const layout = ParamLayout.of(g);
  const params = layout.init(8);
  edit?.(layout, params);
  const s = await Session.create(inferenceModel(g, params).bytes, { intraOpThreads: 1 });
  const feeds = Object.fromEntries(
    mc.cameras.map((c) => [c, { data: images[c] as Float32Array, dims: [n, ...mc.inputDims(c)] }]),
  );
  return { out: f32((await s.run(feeds)).features), layout, params, mc };
}

const n = 2;
const images = Object.fromEntries(CAMS.map((c, i) => [c, randomImages(40 + i, n * PER)]));
const vitTiny = encoderPreset("vit-tiny");
const F = 32;

/** Columns [c·F, (c+1)·F) of each row. */
function block(out: Float32Array, cams: number, c: number): Float32Array {
  const r = new Float32Array(n * F);
  for (let i = 0; i < n; i++) r.set(out.subarray((i * cams + c) * F, (i * cams + c + 1) * F), i * F);
  return r;
}

describe("MultiCameraEncoder", () => {
  it("per-camera: columns [c·F, (c+1)·F) are camera c's own encoder (parameters under camera.<name>.)", async () => {
    const m = await runMulti({ cameras: CAMS, mode: "per-camera" }, vitTiny, n, images);
    expect(m.mc.featureDim).toBe(3 * F);
    expect(m.out.length).toBe(n * 3 * F);
    for (const [ci, cam] of CAMS.entries()) {
      const enc = createEncoder(vitTiny);
      const single = await encode(enc, n, images[cam] as Float32Array);
      const p = single.params.slice();
      // copy camera.<cam>.* of the multi-camera layout into the single encoder's layout
      for (const e of single.layout.entries)
        single.layout.view(p, e.name).set(m.layout.view(m.params, `camera.${cam}.${e.name}`));
      const again = await encode(enc, n, images[cam] as Float32Array, p);
      expect(closeness(block(m.out, 3, ci), again.features, 1e-5, 1e-6)).toBeLessThanOrEqual(1);
    }
  });

  it("shared: one parameter set; with a zero camera embedding, columns are the shared encoder on each camera", async () => {
    const m = await runMulti({ cameras: CAMS }, vitTiny, n, images, (layout, params) =>
      layout.view(params, "shared.camera_embedding").fill(0),
    );
    expect(m.layout.entries.filter((e) => e.name.startsWith("camera.")).length).toBe(0);
    expect(m.layout.entry("shared.camera_embedding").shape).toEqual([3, 32]);
    const enc = createEncoder(vitTiny);
    for (const [ci, cam] of CAMS.entries()) {
      const single = await encode(enc, n, images[cam] as Float32Array);
      const p = single.params.slice();
      expect(copyByName(m.layout, m.params, single.layout, p, "")).toBe(0);
      for (const e of single.layout.entries)
        single.layout.view(p, e.name).set(m.layout.view(m.params, `shared.${e.name}`));
      const again = await encode(enc, n, images[cam] as Float32Array, p);
      expect(closeness(block(m.out, 3, ci), again.features, 1e-5, 1e-6)).toBeLessThanOrEqual(1);
    }
  });

  it("shared with the camera embedding: the same image on two cameras gives different features", async () => {
    const same = { top: images.top as Float32Array, left_wrist: images.top as Float32Array };
    const m = await runMulti({ cameras: ["top", "left_wrist"] }, vitTiny, n, same);
    const a = block(m.out, 2, 0);
    const b = block(m.out, 2, 1);
    expect(closeness(a, b, 0, 1e-4)).toBeGreaterThan(1);
    const off = await runMulti({ cameras: ["top", "left_wrist"], cameraEmbedding: false }, vitTiny, n, same);
    expect(closeness(block(off.out, 2, 0), block(off.out, 2, 1), 0, 1e-6)).toBeLessThanOrEqual(1);
  });

  it("sum = Σ over cameras of the concat blocks (CNN, shared)", async () => {
    const cnn = encoderPreset("cnn-tiny");
    const cat = await runMulti({ cameras: CAMS }, cnn, n, images);
    const sum = await runMulti({ cameras: CAMS, combine: "sum" }, cnn, n, images);
    expect(sum.mc.featureDim).toBe(F);
    const expected = new Float32Array(n * F);
    for (let c = 0; c < 3; c++) block(cat.out, 3, c).forEach((v, i) => (expected[i] = (expected[i] as number) + v));
    expect(closeness(sum.out, expected, 1e-5, 1e-5)).toBeLessThanOrEqual(1);
  });

  it("video encoder: inputs are N,To,H,W,3 per camera", () => {
    const mc = new MultiCameraEncoder({ cameras: CAMS }, encoderPreset("tubelet-tiny"));
    expect(mc.inputDims("top")).toEqual([2, 32, 32, 3]);
    const g = new GraphBuilder();
    const out = mc.apply(g, Object.fromEntries(CAMS.map((c) => [c, g.input(c, [4, 2, 32, 32, 3])])));
    expect(out.shape).toEqual([4, 3 * F]);
  });

  it("a missing, extra or mis-shaped camera is named with the expected shape", () => {
    const mc = new MultiCameraEncoder({ cameras: CAMS }, vitTiny);
    const g = new GraphBuilder();
    const inputs = {
      top: g.input("top", [2, 32, 32, 3]),
      left_wrist: g.input("lw", [2, 32, 32, 4]),
      extra: g.input("extra", [2, 32, 32, 3]),
    };
    let error: unknown;
    try {
      mc.apply(g, inputs);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ShapeError);
    const msg = (error as Error).message;
    expect(msg).toContain("camera 'right_wrist' is missing (expected float32 [N,32,32,3])");
    expect(msg).toContain("camera 'left_wrist': expected float32 [2,32,32,3], received float32 [2,32,32,4]");
    expect(msg).toContain("camera 'extra' is not one of top, left_wrist, right_wrist");
  });

  it("bad config names the field", () => {
    expect(
      () => new MultiCameraEncoder({ cameras: ["a", "a"], mode: "each" as "shared" }, vitTiny, "obs.json"),
    ).toThrow(
      /obs\.json: 2 invalid fields[\s\S]*cameras: expected distinct camera names[\s\S]*mode: expected one of "shared", "per-camera"/,
    );
  });
});
