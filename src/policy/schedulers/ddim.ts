// DDIM sampling (diffusers' DDIMScheduler: "leading" timestep spacing, set_alpha_to_one, η = 0, epsilon prediction).
import type { NoiseSchedule } from "./noise-schedule.ts";

/**
 * The DDIM timesteps for `steps` inference steps out of N training steps, descending:
 * ratio = ⌊N/steps⌋, t_k = k·ratio for k = steps−1 … 0 (e.g. N = 100, 10 steps → 90, 80, …, 0).
 */
export function ddimTimesteps(trainSteps: number, steps: number): Int32Array {
  if (!Number.isInteger(steps) || steps < 1 || steps > trainSteps) {
    throw new RangeError(`DDIM steps must be an integer in [1, ${trainSteps}], received ${steps}`);
  }
  const ratio = Math.floor(trainSteps / steps);
  return Int32Array.from({ length: steps }, (_, i) => (steps - 1 - i) * ratio);
}

/** Coefficients of one DDIM step from t to prev = t − ratio: x_prev = a·x̂0 + b·ε with x̂0 = (x − c·ε)/d. */
export interface DdimCoefficients {
  /** √ᾱ_prev */
  a: number;
  /** √(1 − ᾱ_prev) */
  b: number;
  /** √(1 − ᾱ_t) */
  c: number;
  /** √ᾱ_t */
  d: number;
}

export class DdimSampler {
  readonly timesteps: Int32Array;
  readonly coefficients: readonly DdimCoefficients[];
  private readonly ratio: number;

  constructor(
    readonly schedule: NoiseSchedule,
    readonly steps: number,
  ) {
    this.timesteps = ddimTimesteps(schedule.trainSteps, steps);
    this.ratio = Math.floor(schedule.trainSteps / steps);
    this.coefficients = Array.from(this.timesteps, (t) => {
      const abT = schedule.alphaBar(t);
      const abPrev = schedule.alphaBar(t - this.ratio);
      return { a: Math.sqrt(abPrev), b: Math.sqrt(1 - abPrev), c: Math.sqrt(1 - abT), d: Math.sqrt(abT) };
    });
  }

  /**
   * One step k (0-based, timestep `timesteps[k]`) in place: `x` ← x_prev from x_t and the denoiser's output `out`
   * (the noise ε, or x̂0 with prediction "sample"; same length as `x`). With clipping, x̂0 is clipped to ±1 and ε is
   * kept as predicted or derived from the unclipped x̂0 (diffusers' default).
   */
  step(k: number, out: Float32Array, x: Float32Array): void {
    const co = this.coefficients[k];
    if (co === undefined) throw new RangeError(`DDIM step ${k} out of range [0, ${this.steps})`);
    const clip = this.schedule.config.clipSample;
    const sample = this.schedule.config.prediction === "sample";
    for (let i = 0; i < x.length; i++) {
      const o = out[i] as number;
      const e = sample ? ((x[i] as number) - co.d * o) / co.c : o;
      let x0 = sample ? o : ((x[i] as number) - co.c * e) / co.d;
      if (clip) x0 = x0 > 1 ? 1 : x0 < -1 ? -1 : x0;
      x[i] = co.a * x0 + co.b * e;
    }
  }
}
