// DDIM sampling (diffusers' DDIMScheduler: "leading" timestep spacing, set_alpha_to_one, η = 0, epsilon or sample
// prediction), in two forms side by side: `step` on numbers (the policy's loop) and `graphStep` on graph tensors (the
// unrolled sampler graph), both through the one update `ddimUpdate`.
import type { Rng } from "../../core/index.ts";
import type { GraphBuilder, Tensor } from "../../nn/index.ts";
import type { NoiseSchedule } from "./noise-schedule.ts";
import type { Sampler } from "./sampler.ts";

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

/** The arithmetic `ddimUpdate` needs, on numbers or on graph tensors. */
interface Arithmetic<T> {
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  scale(a: T, s: number): T;
  div(a: T, s: number): T;
  /** Clamp to [−1, 1]. */
  clip(a: T): T;
}

const numbers: Arithmetic<number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  scale: (a, s) => s * a,
  div: (a, s) => a / s,
  clip: (a) => (a > 1 ? 1 : a < -1 ? -1 : a),
};

function tensors(g: GraphBuilder): Arithmetic<Tensor> {
  return {
    add: (a, b) => g.add(a, b),
    sub: (a, b) => g.sub(a, b),
    scale: (a, s) => g.mul(a, s),
    div: (a, s) => g.mul(a, 1 / s),
    clip: (a) => g.neg(g.min(g.neg(g.min(a, 1)), 1)),
  };
}

/**
 * One DDIM update x_t → x_prev = a·x̂0 + b·ε from the denoiser's output `out`: ε (x̂0 = (x − c·ε)/d) or, with
 * prediction "sample", x̂0 (ε = (x − d·x̂0)/c). With clipping, x̂0 is clipped to ±1 and ε is kept as predicted or
 * derived from the unclipped x̂0 (diffusers' default).
 */
function ddimUpdate<T>(ops: Arithmetic<T>, co: DdimCoefficients, x: T, out: T, sample: boolean, clip: boolean): T {
  const eps = sample ? ops.div(ops.sub(x, ops.scale(out, co.d)), co.c) : out;
  let x0 = sample ? out : ops.div(ops.sub(x, ops.scale(eps, co.c)), co.d);
  if (clip) x0 = ops.clip(x0);
  return ops.add(ops.scale(x0, co.a), ops.scale(eps, co.b));
}

export class DdimSampler implements Sampler {
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

  /** One step k (0-based, timestep `timesteps[k]`) in place on numbers (`ddimUpdate`); DDIM draws no noise. */
  step(k: number, out: Float32Array, x: Float32Array, _rng?: Rng): void {
    const co = this.coefficient(k);
    const { clipSample, prediction } = this.schedule.config;
    for (let i = 0; i < x.length; i++)
      x[i] = ddimUpdate(numbers, co, x[i] as number, out[i] as number, prediction === "sample", clipSample);
  }

  /** Step k on graph tensors (`ddimUpdate`): x_prev from x_t and the denoiser's output. */
  graphStep(g: GraphBuilder, k: number, out: Tensor, x: Tensor): Tensor {
    const { clipSample, prediction } = this.schedule.config;
    return ddimUpdate(tensors(g), this.coefficient(k), x, out, prediction === "sample", clipSample);
  }

  /**
   * The whole loop unrolled on graph tensors: from x_T = `x`, each step k updates x with `denoise(x, t)`, the model's
   * output at timestep t = `timesteps[k]` (a number, so the graph holds it as a constant). → x_0, the last step's x̂0.
   */
  unroll(g: GraphBuilder, x: Tensor, denoise: (x: Tensor, t: number) => Tensor): Tensor {
    this.timesteps.forEach((t, k) => (x = this.graphStep(g, k, denoise(x, t), x)));
    return x;
  }

  private coefficient(k: number): DdimCoefficients {
    const co = this.coefficients[k];
    if (co === undefined) throw new RangeError(`DDIM step ${k} out of range [0, ${this.steps})`);
    return co;
  }
}
