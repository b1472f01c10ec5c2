// Learning-rate schedule and EMA decay: values at known steps (diffusers' formulas).
import { describe, expect, it } from "vitest";
import { Ema, GraphBuilder, cosineWithWarmup, emaDecay, inferenceModel } from "../../src/nn/index.ts";

describe("cosineWithWarmup", () => {
  it("warms up linearly, then follows a half cosine to the floor", () => {
    const s = { peak: 1e-3, warmupSteps: 10, totalSteps: 110 };
    expect(cosineWithWarmup(0, s)).toBe(0);
    expect(cosineWithWarmup(5, s)).toBeCloseTo(5e-4, 12);
    expect(cosineWithWarmup(10, s)).toBeCloseTo(1e-3, 12);
    expect(cosineWithWarmup(60, s)).toBeCloseTo(5e-4, 12);
    expect(cosineWithWarmup(110, s)).toBeCloseTo(0, 12);
    expect(cosineWithWarmup(500, { ...s, floor: 1e-5 })).toBeCloseTo(1e-5, 12);
  });
});

describe("EMA", () => {
  it("uses Diffusion Policy's decay: 0 for the first two updates, 1 − (1+k)^−0.75, capped at 0.9999", () => {
    expect(emaDecay(0)).toBe(0);
    expect(emaDecay(1)).toBe(0);
    expect(emaDecay(2)).toBeCloseTo(1 - Math.pow(2, -0.75), 12);
    expect(emaDecay(1e9)).toBe(0.9999);
    const ema = new Ema(new Float32Array([0, 0]));
    ema.update(new Float32Array([1, 2]));
    ema.update(new Float32Array([1, 2]));
    expect(Array.from(ema.averaged)).toEqual([1, 2]);
    const d = ema.update(new Float32Array([3, 2]));
    expect(ema.averaged[0]).toBeCloseTo(d * 1 + (1 - d) * 3, 6);
  });
});

describe("symbolic batch export", () => {
  it("refuses a graph that mixes the batch axis into another dimension, naming the node", () => {
    const g = new GraphBuilder();
    const x = g.input("x", [4, 6]);
    g.output("y", g.reshape(x, [2, 12]));
    expect(() => inferenceModel(g, new Float32Array(0))).toThrow(
      /cannot keep the batch dimension symbolic through: Reshape_\d+/,
    );
    expect(inferenceModel(g, new Float32Array(0), { symbolicBatch: false }).inputs[0]?.shape).toEqual([4, 6]);
  });
});

describe("symbolic batch through reshapes", () => {
  it("keeps the batch symbolic when tokens are flattened into rows and split back", async () => {
    const { Session } = await import("../../src/runtime/index.ts");
    const g = new GraphBuilder();
    const x = g.input("x", [2, 3, 4]);
    const rows = g.reshape(x, [6, 4]); // B·T, C
    g.output("y", g.reshape(g.mul(rows, 2), [2, 3, 4]));
    const s = await Session.create(inferenceModel(g, new Float32Array(0)).bytes, { intraOpThreads: 1 });
    const out = await s.run({ x: { data: new Float32Array(20).fill(1), dims: [5, 1, 4] } }).catch((e: unknown) => e);
    expect(String(out)).toMatch(/x: expected float32 \[batch,3,4\]/);
    const ok = await s.run({ x: { data: new Float32Array(60).fill(1), dims: [5, 3, 4] } });
    expect(ok.y?.dims).toEqual([5, 3, 4]);
    expect(Array.from(ok.y?.data as Float32Array).every((v) => v === 2)).toBe(true);
  });
});
