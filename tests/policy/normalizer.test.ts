// Min-max normalization to [−1, 1]: endpoints, round trip, constant dimensions, bad ranges.
import { describe, expect, it } from "vitest";
import { MinMaxNormalizer } from "../../src/policy/index.ts";

describe("MinMaxNormalizer", () => {
  const norm = new MinMaxNormalizer({ min: [-2, 0, 5], max: [2, 10, 5] });

  it("maps min → −1, max → +1, and constant dimensions → 0", () => {
    const out = new Float32Array(6);
    norm.normalize([-2, 0, 5, 2, 10, 5], out);
    expect([...out]).toEqual([-1, -1, 0, 1, 1, 0]);
  });

  it("round-trips rows of values", () => {
    const x = Float32Array.of(0.3, 7.5, 5, -1.9, 0.01, 5, 1.2, 9.99, 5);
    const n = norm.normalize(x, new Float32Array(9));
    const back = norm.unnormalize(n, new Float32Array(9));
    for (let i = 0; i < 9; i++) expect(back[i]).toBeCloseTo(x[i] as number, 5);
  });

  it("takes one range per chunk row when the range covers the chunk (first = the row's first entry)", () => {
    const perRow = new MinMaxNormalizer({ min: [0, 0, -1, -1], max: [1, 1, 1, 1] }); // 2 rows of 2
    const row1 = perRow.normalize([0.5, 0], new Float32Array(2), 0, 2);
    expect([...row1]).toEqual([0.5, 0]);
    const row0 = perRow.normalize([0.5, 0], new Float32Array(2), 0, 0);
    expect([...row0]).toEqual([0, -1]);
    expect([...perRow.unnormalize(row0, new Float32Array(2), 0)]).toEqual([0.5, 0]);
  });

  it("refuses min > max and mismatched lengths", () => {
    expect(() => new MinMaxNormalizer({ min: [1], max: [0] })).toThrow(/entry 0 has min 1, max 0/);
    expect(() => new MinMaxNormalizer({ min: [1, 2], max: [3] })).toThrow(/min has 2 entries, max has 1/);
  });
});
