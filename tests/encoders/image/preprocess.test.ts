// Preprocessing: exact normalisation, centre crop in evaluation, seeded random crop/shift and colour jitter in
// training, and a bad config named by its field.
import { describe, expect, it } from "vitest";
import { Rng, type CameraFrame } from "../../../src/core/index.ts";
import { ImagePreprocessor } from "../../../src/encoders/index.ts";
import { newAugmentParams } from "../../../src/encoders/image/preprocess.ts";

/** A frame whose pixel (y, x) is (y, x, (y + x) mod 256). */
function ramp(h: number, w: number): CameraFrame {
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([y, x, (y + x) % 256], (y * w + x) * 3);
  return { height: h, width: w, data };
}

const norm = (v: number): number => (v / 255 - 0.5) / 0.5;

describe("ImagePreprocessor", () => {
  it("evaluation: uint8 → (v/255 − mean)/std exactly, centre crop", () => {
    const pre = new ImagePreprocessor({
      sourceHeight: 10,
      sourceWidth: 12,
      height: 6,
      width: 8,
      mean: [0.5, 0.5, 0.5],
    });
    const out = new Float32Array(pre.imageSize + 3);
    pre.process(ramp(10, 12), pre.evalParams(), out, 3);
    expect(out[0]).toBe(0); // offset respected
    // centre crop: top = 2, left = 2
    for (const [y, x] of [
      [0, 0],
      [5, 7],
      [3, 1],
    ] as const) {
      const o = 3 + (y * 8 + x) * 3;
      expect(out[o]).toBeCloseTo(norm(y + 2), 6);
      expect(out[o + 1]).toBeCloseTo(norm(x + 2), 6);
      expect(out[o + 2]).toBeCloseTo(norm(y + x + 4), 6);
    }
  });

  it("training: the same seed gives the same output, another seed another; shifts stay within ±shift", () => {
    const pre = new ImagePreprocessor({ sourceHeight: 16, sourceWidth: 16, height: 12, width: 12, shift: 2 });
    const frame = ramp(16, 16);
    const a = new Float32Array(pre.imageSize);
    const b = new Float32Array(pre.imageSize);
    pre.process(frame, pre.sampleParams(new Rng(1)), a, 0);
    pre.process(frame, pre.sampleParams(new Rng(1)), b, 0);
    expect(b).toEqual(a);
    pre.process(frame, pre.sampleParams(new Rng(2)), b, 0);
    expect(b).not.toEqual(a);
    const p = newAugmentParams();
    const rng = new Rng(3);
    const tops = new Set<number>();
    for (let i = 0; i < 400; i++) {
      pre.sampleParams(rng, p);
      expect(p.top).toBeGreaterThanOrEqual(-2);
      expect(p.top).toBeLessThanOrEqual(16 - 12 + 2);
      expect(p.brightness).toBeGreaterThanOrEqual(0.8);
      expect(p.brightness).toBeLessThan(1.2);
      tops.add(p.top);
    }
    expect(tops.size).toBe(9); // every offset in [−2, 6] occurs
  });

  it("a shift past the edge replicates the edge pixels", () => {
    const pre = new ImagePreprocessor({ sourceHeight: 4, sourceWidth: 4 });
    const p = pre.evalParams();
    p.top = -2;
    p.left = 3;
    const out = new Float32Array(pre.imageSize);
    pre.process(ramp(4, 4), p, out, 0);
    // output (0,0) ← source (clamp(−2)=0, 3); output (3,3) ← source (1, clamp(6)=3)
    expect(out[0]).toBeCloseTo(norm(0), 6);
    expect(out[1]).toBeCloseTo(norm(3), 6);
    expect(out[(3 * 4 + 3) * 3]).toBeCloseTo(norm(1), 6);
    expect(out[(3 * 4 + 3) * 3 + 1]).toBeCloseTo(norm(3), 6);
  });

  it("colour jitter: brightness scales, contrast keeps the mean grey, saturation 0 makes grey pixels", () => {
    const pre = new ImagePreprocessor({ sourceHeight: 8, sourceWidth: 8, mean: [0, 0, 0], std: [1, 1, 1] });
    const frame = ramp(8, 8);
    const base = new Float32Array(pre.imageSize);
    pre.process(frame, pre.evalParams(), base, 0);
    const p = pre.evalParams();
    p.brightness = 1.5;
    const bright = new Float32Array(pre.imageSize);
    pre.process(frame, p, bright, 0);
    for (let i = 0; i < base.length; i++) expect(bright[i]).toBeCloseTo(Math.min(1, (base[i] as number) * 1.5), 6);
    const grey = (a: Float32Array): number => {
      let s = 0;
      for (let i = 0; i < a.length; i += 3)
        s += 0.299 * (a[i] as number) + 0.587 * (a[i + 1] as number) + 0.114 * (a[i + 2] as number);
      return s / (a.length / 3);
    };
    p.brightness = 1;
    p.contrast = 0.5;
    const flat = new Float32Array(pre.imageSize);
    pre.process(frame, p, flat, 0);
    expect(grey(flat)).toBeCloseTo(grey(base), 5);
    expect(Math.abs((flat[0] as number) - grey(base))).toBeLessThan(Math.abs((base[0] as number) - grey(base)));
    p.contrast = 1;
    p.saturation = 0;
    const mono = new Float32Array(pre.imageSize);
    pre.process(frame, p, mono, 0);
    for (let i = 0; i < mono.length; i += 3) {
      expect(mono[i + 1]).toBeCloseTo(mono[i] as number, 6);
      expect(mono[i + 2]).toBeCloseTo(mono[i] as number, 6);
    }
  });

  it("bad config names the field", () => {
    expect(() => new ImagePreprocessor({ sourceHeight: 8, height: 10, std: [1, 0, 1] }, "pre.json")).toThrow(
      /pre\.json: 2 invalid fields[\s\S]*std\.1[\s\S]*height: expected at most sourceHeight 8, received 10/,
    );
  });
});
