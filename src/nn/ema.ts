// Exponential moving average of the flat parameters (Diffusion Policy's EMAModel schedule).

export interface EmaOptions {
  /** Default 0.75. */
  power?: number;
  /** Upper bound of the decay (default 0.9999). */
  maxValue?: number;
  /** Lower bound of the decay (default 0). */
  minValue?: number;
  /** Default 1. */
  invGamma?: number;
  /** Steps before averaging starts (default 0). */
  updateAfterStep?: number;
}

/** decay(n) = clamp(1 − (1 + k/γ)^−power, min, max) with k = n − updateAfterStep − 1, and 0 when k ≤ 0. */
export function emaDecay(optimizationStep: number, o: EmaOptions = {}): number {
  const k = Math.max(0, optimizationStep - (o.updateAfterStep ?? 0) - 1);
  if (k <= 0) return 0;
  const value = 1 - Math.pow(1 + k / (o.invGamma ?? 1), -(o.power ?? 0.75));
  return Math.max(o.minValue ?? 0, Math.min(value, o.maxValue ?? 0.9999));
}

/** Averaged weights; `update` allocates nothing. */
export class Ema {
  readonly averaged: Float32Array;
  /** Number of updates applied (the optimization step of the next update). */
  steps = 0;

  constructor(
    params: Float32Array,
    readonly options: EmaOptions = {},
  ) {
    this.averaged = Float32Array.from(params);
  }

  /** Blend in `params` (call once per optimizer step). Returns the decay used. */
  update(params: Float32Array): number {
    const d = emaDecay(this.steps, this.options);
    const a = this.averaged;
    const w = 1 - d;
    for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) * d + (params[i] as number) * w;
    this.steps++;
    return d;
  }
}
