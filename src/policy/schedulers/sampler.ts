// What every sampler (DDPM, DDIM) offers the policy: its timesteps and one in-place update per step, so the policy's
// loop never asks which sampler it runs.
import type { Rng } from "../../core/index.ts";

export interface Sampler {
  /** Denoiser runs per chunk. */
  readonly steps: number;
  /** Timestep of each step, descending. */
  readonly timesteps: Int32Array;
  /**
   * Step k in place: `x` ← x_prev from x_t and the denoiser's output `out` (ε, or x̂0 with prediction "sample").
   * `rng` draws a stochastic sampler's noise (DDIM draws none).
   */
  step(k: number, out: Float32Array, x: Float32Array, rng: Rng): void;
}
