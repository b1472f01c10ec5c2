// DDPM ancestral sampling (diffusers' DDPMScheduler.step: epsilon or sample prediction, "fixed_small" variance,
// clipping).
import type { Rng } from "../../core/index.ts";
import type { NoiseSchedule } from "./noise-schedule.ts";
import type { Sampler } from "./sampler.ts";

export class DdpmSampler implements Sampler {
  /** All training steps, descending: N−1 … 0. */
  readonly timesteps: Int32Array;

  constructor(readonly schedule: NoiseSchedule) {
    const n = schedule.trainSteps;
    this.timesteps = Int32Array.from({ length: n }, (_, i) => n - 1 - i);
  }

  get steps(): number {
    return this.timesteps.length;
  }

  /**
   * One step k (timestep t = N−1−k) in place, from the denoiser's output `out` (ε, or x̂0 with prediction
   * "sample"): x ← μ(x_t, x̂0) + σ_t·z, z ~ N(0, 1) from `rng` (no noise at t = 0).
   * μ = √ᾱ_prev·β_t/(1−ᾱ_t)·x̂0 + √α_t·(1−ᾱ_prev)/(1−ᾱ_t)·x_t, σ² = (1−ᾱ_prev)/(1−ᾱ_t)·β_t.
   */
  step(k: number, out: Float32Array, x: Float32Array, rng: Rng): void {
    const s = this.schedule;
    const t = this.timesteps[k];
    if (t === undefined) throw new RangeError(`DDPM step ${k} out of range [0, ${this.steps})`);
    const abT = s.alphaBar(t);
    const abPrev = s.alphaBar(t - 1);
    const alphaT = abT / abPrev;
    const betaT = 1 - alphaT;
    const cx0 = (Math.sqrt(abPrev) * betaT) / (1 - abT);
    const cxt = (Math.sqrt(alphaT) * (1 - abPrev)) / (1 - abT);
    const sigma = t > 0 ? Math.sqrt(Math.max(((1 - abPrev) / (1 - abT)) * betaT, 1e-20)) : 0;
    const sqrtAb = Math.sqrt(abT);
    const sqrt1mAb = Math.sqrt(1 - abT);
    const clip = s.config.clipSample;
    const sample = s.config.prediction === "sample";
    for (let i = 0; i < x.length; i++) {
      const xt = x[i] as number;
      let x0 = sample ? (out[i] as number) : (xt - sqrt1mAb * (out[i] as number)) / sqrtAb;
      if (clip) x0 = x0 > 1 ? 1 : x0 < -1 ? -1 : x0;
      x[i] = cx0 * x0 + cxt * xt + (sigma > 0 ? sigma * rng.normal() : 0);
    }
  }
}
