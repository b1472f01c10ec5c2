// Tubelet ViT: at initialisation (and with any image-ViT parameters loaded by name, Δ = 0) it equals the image ViT on
// clips of identical frames, for both inflation rules, with and without a conv stem — run through onnxruntime.
import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.ts";
import { VitEncoder } from "../../../src/encoders/index.ts";
import { TubeletEncoder } from "../../../src/encoders/image/tubelet.ts";
import { closeness, copyByName, encode, maxAbsDiff, randn, randomImages } from "../helpers.ts";

const options = [
  { label: "no stem, cls", vit: { height: 32, width: 32, patch: 8, dim: 32, depth: 1, heads: 2, featureDim: 16 } },
  {
    label: "conv stem, cls+mean",
    vit: {
      height: 32,
      width: 32,
      stem: [8, 16],
      patch: 2,
      dim: 32,
      depth: 2,
      heads: 4,
      pool: "cls+mean" as const,
      featureDim: 16,
    },
  },
];

/** A clip batch [N,To,H,W,3] whose To frames all equal images[n]. */
function repeatFrames(images: Float32Array, n: number, frames: number): Float32Array {
  const per = images.length / n;
  const clip = new Float32Array(images.length * frames);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < frames; t++) clip.set(images.subarray(i * per, (i + 1) * per), (i * frames + t) * per);
  return clip;
}

describe("tubelet ViT == image ViT on identical frames", () => {
  for (const { label, vit } of options) {
    for (const inflation of ["central", "average"] as const) {
      for (const frames of [2, 3]) {
        it(`${label}, ${inflation} inflation, To = ${frames}: same init (seeded) → same features`, async () => {
          const image = new VitEncoder(vit);
          const tubelet = new TubeletEncoder({ ...vit, frames, inflation });
          const n = 2;
          const images = randomImages(21, n * 32 * 32 * 3);
          const a = await encode(image, n, images);
          const b = await encode(tubelet, n, repeatFrames(images, n, frames));
          // The tubelet has every image parameter (same names, same init draws) plus the zero temporal kernel.
          expect(b.layout.entries.length).toBe(a.layout.entries.length + 1);
          for (const e of a.layout.entries)
            expect(b.layout.view(b.params, e.name)).toEqual(a.layout.view(a.params, e.name));
          expect(closeness(b.features, a.features, 1e-5, 1e-6)).toBeLessThanOrEqual(1);
        });
      }
    }
  }

  it("with trained-looking image parameters loaded by name (Δ = 0), still equal; distinct frames differ", async () => {
    const vit = options[1]?.vit ?? {};
    const image = new VitEncoder(vit);
    const tubelet = new TubeletEncoder({ ...vit, frames: 2, inflation: "average" });
    const n = 2;
    const images = randomImages(22, n * 32 * 32 * 3);
    const base = await encode(image, n, images);
    const perturbed = base.params.slice();
    const rng = new Rng(4);
    const noise = randn(rng, perturbed.length, 0.05);
    for (let i = 0; i < perturbed.length; i++) perturbed[i] = (perturbed[i] as number) + (noise[i] as number);
    const a = await encode(image, n, images, perturbed);
    const t0 = await encode(tubelet, n, repeatFrames(images, n, 2));
    const tp = t0.params.slice();
    expect(copyByName(a.layout, perturbed, t0.layout, tp)).toBe(a.layout.entries.length);
    const b = await encode(tubelet, n, repeatFrames(images, n, 2), tp);
    expect(closeness(b.features, a.features, 1e-5, 1e-6)).toBeLessThanOrEqual(1);
    // A clip whose frames differ is not the image ViT on either frame.
    const other = randomImages(23, n * 32 * 32 * 3);
    const mixed = repeatFrames(images, n, 2);
    const per = 32 * 32 * 3;
    for (let i = 0; i < n; i++) mixed.set(other.subarray(i * per, (i + 1) * per), (i * 2 + 1) * per);
    const c = await encode(tubelet, n, mixed, tp);
    expect(maxAbsDiff(c.features, a.features)).toBeGreaterThan(1e-3);
  });
});
