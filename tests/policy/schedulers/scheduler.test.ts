// Scheduler maths against closed forms: betas/ᾱ (diffusers' squaredcos_cap_v2), DDIM timesteps and steps, DDPM steps.
import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.ts";
import {
  DdimSampler,
  DdpmSampler,
  NoiseSchedule,
  cosineAlphaBar,
  ddimTimesteps,
  schedulerConfigSchema,
} from "../../../src/policy/index.ts";

const schedule = new NoiseSchedule(schedulerConfigSchema.parse({}));

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

describe("NoiseSchedule (squaredcos_cap_v2, 100 steps)", () => {
  it("matches diffusers' float32 values at the endpoints", () => {
    // numpy: betas float32 from the float64 formula, cumprod in float32 (as torch does).
    expect(schedule.betas[0]).toBeCloseTo(0.0006312816, 9);
    expect(schedule.betas[50]).toBeCloseTo(0.03154634, 7);
    expect(schedule.betas[99]).toBeCloseTo(0.999, 7);
    expect(schedule.alphasCumprod[0]).toBeCloseTo(0.9993687, 7);
    expect(schedule.alphasCumprod[49]).toBeCloseTo(0.49384338, 6);
    expect(schedule.alphasCumprod[98]).toBeCloseTo(0.00024285716, 9);
    expect(schedule.alphasCumprod[99]).toBeCloseTo(2.4285404e-7, 12);
  });

  it("ᾱ_t equals the closed form ᾱ((t+1)/N)/ᾱ(0) wherever β was not capped", () => {
    for (let t = 0; t < 99; t++) {
      const closed = cosineAlphaBar((t + 1) / 100) / cosineAlphaBar(0);
      expect(Math.abs((schedule.alphasCumprod[t] as number) - closed) / closed).toBeLessThan(2e-5);
    }
    expect(schedule.alphaBar(-1)).toBe(1);
  });

  it("linear betas run from 1e-4 to 0.02", () => {
    const lin = new NoiseSchedule({ trainSteps: 100, betaSchedule: "linear", clipSample: true });
    expect(lin.betas[0]).toBeCloseTo(1e-4, 9);
    expect(lin.betas[99]).toBeCloseTo(0.02, 9);
  });
});

describe("DDIM", () => {
  it("uses diffusers' leading timesteps", () => {
    expect([...ddimTimesteps(100, 10)]).toEqual([90, 80, 70, 60, 50, 40, 30, 20, 10, 0]);
    expect([...ddimTimesteps(100, 16)]).toEqual([90, 84, 78, 72, 66, 60, 54, 48, 42, 36, 30, 24, 18, 12, 6, 0]);
    expect([...ddimTimesteps(100, 1)]).toEqual([0]);
    expect(() => ddimTimesteps(100, 0)).toThrow(/DDIM steps must be an integer in \[1, 100\], received 0/);
  });

  // The denoiser's output is the true noise (prediction "epsilon") or the true x0 ("sample"): each step must land
  // exactly on the forward process at the previous timestep, and the last on x0.
  for (const [prediction, tolerance] of [
    ["epsilon", 2e-5],
    ["sample", 1e-4],
  ] as const) {
    it(`prediction "${prediction}": the true output walks the forward-process states back to x0`, () => {
      const sched = new NoiseSchedule(schedulerConfigSchema.parse({ prediction }));
      const rng = new Rng(3);
      const n = 160;
      const x0 = randn(rng, n, 0.4).map((v) => Math.max(-1, Math.min(1, v)));
      const eps = randn(rng, n);
      const ddim = new DdimSampler(sched, 10);
      const x = new Float32Array(n);
      sched.addNoise(x0, eps, [90], n, x);
      for (let k = 0; k < 10; k++) {
        ddim.step(k, prediction === "sample" ? x0 : eps, x);
        const prev = k < 9 ? (ddim.timesteps[k + 1] as number) : -1;
        const want = new Float32Array(n);
        sched.addNoise(x0, eps, [prev], n, want);
        for (let i = 0; i < n; i++) expect(Math.abs((x[i] as number) - (want[i] as number))).toBeLessThan(tolerance);
      }
      for (let i = 0; i < n; i++) expect(Math.abs((x[i] as number) - (x0[i] as number))).toBeLessThan(tolerance);
    });
  }

  it("DDPM's last step (t = 0, no noise) returns the predicted x0 with prediction 'sample'", () => {
    const sched = new NoiseSchedule(schedulerConfigSchema.parse({ prediction: "sample" }));
    const rng = new Rng(4);
    const x0 = randn(rng, 160, 0.4).map((v) => Math.max(-1, Math.min(1, v)));
    const y = Float32Array.from(x0, (v) => v + 0.01 * rng.normal());
    new DdpmSampler(sched).step(99, x0, y, rng);
    for (let i = 0; i < 160; i++) expect(Math.abs((y[i] as number) - (x0[i] as number))).toBeLessThan(1e-6);
  });

  it("clips the predicted x0 to ±1", () => {
    const ddim = new DdimSampler(schedule, 1);
    const x = Float32Array.of(5, -5, 0.5);
    ddim.step(0, new Float32Array(3), x); // t = 0, prev ᾱ = 1: x ← clip(x/√ᾱ_0)
    expect(x[0]).toBe(1);
    expect(x[1]).toBe(-1);
    expect(x[2]).toBeCloseTo(0.5 / Math.sqrt(schedule.alphaBar(0)), 6);
  });
});

describe("DDPM", () => {
  it("the last step with the true noise returns x0 (no noise at t = 0)", () => {
    const rng = new Rng(4);
    const n = 32;
    const x0 = randn(rng, n, 0.3);
    const eps = randn(rng, n);
    const x = new Float32Array(n);
    schedule.addNoise(x0, eps, [0], n, x);
    const ddpm = new DdpmSampler(schedule);
    ddpm.step(99, eps, x, rng);
    for (let i = 0; i < n; i++) expect(x[i]).toBeCloseTo(x0[i] as number, 5);
  });

  it("a step is the posterior mean plus σ_t·z", () => {
    const t = 50;
    const ab = schedule.alphaBar(t);
    const abPrev = schedule.alphaBar(t - 1);
    const beta = 1 - ab / abPrev;
    const x0 = 0.25;
    const e = -0.7;
    const xt = Math.sqrt(ab) * x0 + Math.sqrt(1 - ab) * e;
    const mean = ((Math.sqrt(abPrev) * beta) / (1 - ab)) * x0 + ((Math.sqrt(1 - beta) * (1 - abPrev)) / (1 - ab)) * xt;
    const sigma = Math.sqrt(((1 - abPrev) / (1 - ab)) * beta);
    const x = Float32Array.of(xt);
    new DdpmSampler(schedule).step(99 - t, Float32Array.of(e), x, new Rng(9));
    const z = new Rng(9).normal();
    expect(x[0]).toBeCloseTo(mean + sigma * z, 5);
  });
});
