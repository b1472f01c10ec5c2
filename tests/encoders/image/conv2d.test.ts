// Conv2d (im2col) and PatchifyConv equal a direct convolution loop; spatial softmax finds a bright spot.
import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.ts";
import { GraphBuilder, ParamLayout } from "../../../src/nn/index.ts";
import { Conv2d, PatchifyConv } from "../../../src/encoders/image/conv2d.ts";
import { SpatialSoftmax } from "../../../src/encoders/image/spatial-softmax.ts";
import { compile } from "../../nn/helpers.ts";
import { closeness, f32, randn } from "../helpers.ts";

/** Reference: y[n,i,j,o] = b[o] + Σ w[(dy·k+dx)·Cin+c, o] · x[n, s·i+dy−p, s·j+dx−p, c] (zero outside). */
function directConv(
  x: Float32Array,
  [n, h, w, cin]: [number, number, number, number],
  wt: Float32Array,
  b: Float32Array,
  cout: number,
  k: number,
  s: number,
  p: number,
): { y: Float32Array; ho: number; wo: number } {
  const ho = Math.floor((h + 2 * p - k) / s) + 1;
  const wo = Math.floor((w + 2 * p - k) / s) + 1;
  const y = new Float32Array(n * ho * wo * cout);
  for (let b0 = 0; b0 < n; b0++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++)
        for (let o = 0; o < cout; o++) {
          let acc = b[o] as number;
          for (let dy = 0; dy < k; dy++)
            for (let dx = 0; dx < k; dx++) {
              const yy = s * i + dy - p;
              const xx = s * j + dx - p;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              for (let c = 0; c < cin; c++) {
                const xv = x[((b0 * h + yy) * w + xx) * cin + c] as number;
                acc += xv * (wt[((dy * k + dx) * cin + c) * cout + o] as number);
              }
            }
          y[((b0 * ho + i) * wo + j) * cout + o] = acc;
        }
  return { y, ho, wo };
}

/** Run the graph's `y` on seeded random `x` and compare it with `directConv` over the parameters under `prefix`. */
async function expectDirectConv(
  g: GraphBuilder,
  prefix: string,
  dims: [number, number, number, number],
  cout: number,
  [k, s, p]: [number, number, number],
  seed: number,
): Promise<{ ho: number; wo: number }> {
  const layout = ParamLayout.of(g);
  const params = layout.init(seed);
  const data = randn(
    new Rng(seed + 1),
    dims.reduce((a, b) => a * b, 1),
  );
  const got = f32((await (await compile(g, params)).run({ x: { data, dims } })).y);
  const ref = directConv(
    data,
    dims,
    layout.view(params, `${prefix}.weight`),
    layout.view(params, `${prefix}.bias`),
    cout,
    k,
    s,
    p,
  );
  expect(closeness(got, ref.y, 1e-5, 1e-5)).toBeLessThanOrEqual(1);
  return ref;
}

describe("Conv2d", () => {
  const cases = [
    { h: 7, w: 6, cin: 3, cout: 4, k: 3, s: 1 as const, p: 1 },
    { h: 8, w: 8, cin: 2, cout: 5, k: 3, s: 2 as const, p: 1 },
    { h: 9, w: 7, cin: 3, cout: 2, k: 3, s: 2 as const, p: 1 },
    { h: 6, w: 10, cin: 2, cout: 3, k: 5, s: 2 as const, p: 2 },
    { h: 5, w: 5, cin: 4, cout: 3, k: 1, s: 1 as const, p: 0 },
    { h: 6, w: 6, cin: 2, cout: 2, k: 3, s: 1 as const, p: 0 },
  ];
  for (const c of cases) {
    it(`k${c.k} s${c.s} p${c.p} on ${c.h}×${c.w}×${c.cin} → ${c.cout} equals the direct loop`, async () => {
      const g = new GraphBuilder();
      const conv = new Conv2d("conv", c.cin, c.cout, c.k, { stride: c.s, padding: c.p });
      const x = g.input("x", [2, c.h, c.w, c.cin]);
      const y = g.output("y", conv.apply(g, x));
      const [ho, wo] = conv.outputSize(c.h, c.w);
      expect(y.shape).toEqual([2, ho, wo, c.cout]);
      const ref = await expectDirectConv(g, "conv", [2, c.h, c.w, c.cin], c.cout, [c.k, c.s, c.p], 2);
      expect([ref.ho, ref.wo]).toEqual([ho, wo]);
    });
  }
});

describe("PatchifyConv", () => {
  for (const c of [
    { h: 8, w: 12, cin: 3, cout: 5, p: 4 },
    { h: 6, w: 6, cin: 2, cout: 3, p: 2 },
  ]) {
    it(`${c.p}×${c.p} stride ${c.p} on ${c.h}×${c.w}×${c.cin} → ${c.cout} equals the direct loop`, async () => {
      const g = new GraphBuilder();
      const y = g.output(
        "y",
        new PatchifyConv("patch", c.p, c.cin, c.cout).apply(g, g.input("x", [2, c.h, c.w, c.cin])),
      );
      expect(y.shape).toEqual([2, c.h / c.p, c.w / c.p, c.cout]);
      await expectDirectConv(g, "patch.proj", [2, c.h, c.w, c.cin], c.cout, [c.p, c.p, 0], 4);
    });
  }
});

describe("SpatialSoftmax", () => {
  it("expected coordinates of a sharp peak are the peak's position on linspace(−1, 1)", async () => {
    const [h, w, k] = [5, 9, 2];
    const g = new GraphBuilder();
    const x = g.input("x", [1, h, w, k]);
    g.output("kp", new SpatialSoftmax("ss", k, k).apply(g, x));
    const layout = ParamLayout.of(g);
    const params = new Float32Array(layout.total);
    const wt = layout.view(params, "ss.proj.weight"); // identity projection
    for (let i = 0; i < k; i++) wt[i * k + i] = 1;
    const data = new Float32Array(h * w * k);
    data[(1 * w + 7) * k + 0] = 40; // keypoint 0 at row 1, column 7
    data[(4 * w + 0) * k + 1] = 40; // keypoint 1 at row 4, column 0
    const kp = f32((await (await compile(g, params)).run({ x: { data, dims: [1, h, w, k] } })).kp);
    const expected = [-1 + (2 * 7) / 8, -1 + (2 * 1) / 4, -1, 1];
    expect(closeness(kp, expected, 0, 1e-5)).toBeLessThanOrEqual(1);
  });
});
