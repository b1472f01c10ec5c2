// Learning-rate schedules (evaluated in JS; the value is a training-graph input) and the EMA decay schedule.

export interface CosineSchedule {
  /** Peak learning rate reached after warm-up. */
  peak: number;
  /** Linear warm-up steps from 0 (default 0). */
  warmupSteps?: number;
  /** Steps until the rate reaches `floor`. */
  totalSteps: number;
  /** Final learning rate (default 0). */
  floor?: number;
}

/** Cosine decay with linear warm-up (diffusers' get_cosine_schedule_with_warmup), at 0-based `step`. */
export function cosineWithWarmup(step: number, s: CosineSchedule): number {
  const warm = s.warmupSteps ?? 0;
  const floor = s.floor ?? 0;
  if (step < warm) return (s.peak * step) / Math.max(1, warm);
  const progress = Math.min(1, (step - warm) / Math.max(1, s.totalSteps - warm));
  return floor + (s.peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
