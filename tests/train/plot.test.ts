// The training-curves PNG: tick labels and legend drawn (ink left of the y axes and under the x axes), curves in
// their colours, for losses across several decades and for an empty success curve.
import { describe, expect, it } from "vitest";
import { decodePng } from "../../src/core/index.ts";
import { plotCurves } from "../../src/train/index.ts";

function inkIn(png: { width: number; data: Uint8Array }, x0: number, x1: number, y0: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const i = (y * png.width + x) * 3;
      if (png.data[i] !== 255 || png.data[i + 1] !== 255 || png.data[i + 2] !== 255) n++;
    }
  return n;
}

describe("plotCurves", () => {
  it("labels both axes of both panels and draws the legend", () => {
    const train: [number, number][] = Array.from({ length: 100 }, (_, k) => [k * 10, 0.5 * Math.exp(-k / 15)]);
    const png = decodePng(plotCurves({ train, val: [[500, 0.01]], success: [[1000, 0.75]] }, 1000));
    expect([png.width, png.height]).toEqual([720, 300]);
    expect(inkIn(png, 0, 24, 0, 270)).toBeGreaterThan(30); // loss tick labels, well left of the left axis
    expect(inkIn(png, 0, 720, 274, 300)).toBeGreaterThan(200); // step labels under both panels
    expect(inkIn(png, 400, 720, 0, 19)).toBe(0); // nothing above the panels
    // the three curves (and their legend swatches) are drawn in their colours
    const colours = new Set<string>();
    for (let i = 0; i < png.data.length; i += 3) colours.add(`${png.data[i]},${png.data[i + 1]},${png.data[i + 2]}`);
    for (const c of ["31,119,180", "255,127,14", "44,160,44"]) expect(colours.has(c)).toBe(true);
  });

  it("draws with no success points and a single loss point", () => {
    const png = decodePng(plotCurves({ train: [[0, 2]], val: [], success: [] }, 0));
    expect(png.width).toBe(720);
    expect(inkIn(png, 0, 720, 274, 300)).toBeGreaterThan(50); // the step labels (all 0)
  });
});
