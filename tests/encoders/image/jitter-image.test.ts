// The training batches' colour jitter: the brightness and contrast of ImagePreprocessor (torchvision's ColorJitter
// order), in the policies' [−1, 1] pixel scale.
import { describe, expect, it } from "vitest";
import type { CameraFrame } from "../../../src/core/index.ts";
import { ImagePreprocessor, jitterImage, shiftImage } from "../../../src/encoders/index.ts";
import { newAugmentParams } from "../../../src/encoders/image/preprocess.ts";

/** A 6×5 frame of varied colours. */
function frame(): CameraFrame {
  const data = Uint8Array.from({ length: 6 * 5 * 3 }, (_, i) => (i * 37 + 11) % 256);
  return { height: 6, width: 5, data };
}

/** The frame in [−1, 1] (as the batches hold it) at offset 3 of a longer array. */
function scaled(f: CameraFrame): Float32Array {
  const out = new Float32Array(3 + f.data.length + 3);
  shiftImage(f.data, 0, out, 3, f.height, f.width, 0, 0);
  return out;
}

describe("jitterImage", () => {
  it("changes brightness then contrast as ImagePreprocessor does, within the image's bounds", () => {
    const f = frame();
    const pre = new ImagePreprocessor({ sourceHeight: 6, sourceWidth: 5, shift: 0 });
    for (const [brightness, contrast] of [
      [1.3, 0.7],
      [0.6, 1.4],
      [1.9, 1.9], // most pixels clamp
    ] as const) {
      const expected = new Float32Array(f.data.length);
      pre.process(f, { ...newAugmentParams(), brightness, contrast }, expected, 0);
      const out = scaled(f);
      jitterImage(out, 3, 30, brightness, contrast);
      expect([out[0], out[1], out[2], out.at(-1)]).toEqual([0, 0, 0, 0]);
      const most = Math.max(...expected.map((v, i) => Math.abs(v - out[3 + i]!)));
      expect(most).toBeLessThan(1e-5);
      expect(out.every((v) => v >= -1 && v <= 1)).toBe(true);
    }
  });

  it("darkens and flattens: a lower brightness lowers the mean, a lower contrast the spread", () => {
    const mean = (a: Float32Array) => a.subarray(3, 93).reduce((s, v) => s + v, 0) / 90;
    const spread = (a: Float32Array) => Math.sqrt(a.subarray(3, 93).reduce((s, v) => s + (v - mean(a)) ** 2, 0) / 90);
    const base = scaled(frame());
    const dark = scaled(frame());
    jitterImage(dark, 3, 30, 0.5, 1);
    const flat = scaled(frame());
    jitterImage(flat, 3, 30, 1, 0.5);
    expect(mean(dark)).toBeLessThan(mean(base) - 0.2);
    expect(spread(flat)).toBeCloseTo(spread(base) / 2, 5);
    // contrast turns about the mean grey, which stays
    const grey = (a: Float32Array) => {
      let sum = 0;
      for (let i = 3; i < 93; i += 3) sum += 0.299 * a[i]! + 0.587 * a[i + 1]! + 0.114 * a[i + 2]!;
      return sum / 30;
    };
    expect(grey(flat)).toBeCloseTo(grey(base), 5);
  });
});
