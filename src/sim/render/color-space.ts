// Linear ↔ sRGB transfer functions for turning three.js working-space (linear) colours into image bytes.

/** sRGB encoding of one linear channel value in [0, 1] (IEC 61966-2-1), unclamped input is clamped. */
export function linearToSrgb(v: number): number {
  const c = v <= 0 ? 0 : v >= 1 ? 1 : v;
  return c <= 0.0031308 ? c * 12.92 : 1.055 * Math.pow(c, 1 / 2.4) - 0.055;
}

/** One linear channel value → a byte: sRGB-encoded when `srgb`, else linear; clamped to [0, 255], rounded. */
export function channelToByte(v: number, srgb: boolean): number {
  const c = srgb ? linearToSrgb(v) : v <= 0 ? 0 : v >= 1 ? 1 : v;
  return Math.round(c * 255);
}

/** Entries in a {@link byteLut}: linear [0, 1] is quantised to LUT_SIZE − 1 steps (≤ 0.2 of a byte off in sRGB). */
export const LUT_SIZE = 16384;

/**
 * A lookup table from quantised linear intensity to output byte: `lut[round(clamp(v, 0, 1)·(LUT_SIZE−1))]`.
 * Used per shaded face so the hot path calls no `Math.pow`.
 */
export function byteLut(srgb: boolean): Uint8Array {
  const lut = new Uint8Array(LUT_SIZE);
  for (let i = 0; i < LUT_SIZE; i++) lut[i] = channelToByte(i / (LUT_SIZE - 1), srgb);
  return lut;
}
