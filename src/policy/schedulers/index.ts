// Noise schedules and the samplers behind one interface (DDPM, DDIM), and the choice between them from the config.
import { DdimSampler } from "./ddim.ts";
import { DdpmSampler } from "./ddpm.ts";
import { NoiseSchedule, type SchedulerConfig } from "./noise-schedule.ts";
import type { Sampler } from "./sampler.ts";

export { NoiseSchedule, schedulerConfigSchema, cosineAlphaBar } from "./noise-schedule.ts";
export type { SchedulerConfig } from "./noise-schedule.ts";
export { DdimSampler, ddimTimesteps } from "./ddim.ts";
export type { DdimCoefficients } from "./ddim.ts";
export { DdpmSampler } from "./ddpm.ts";
export type { Sampler } from "./sampler.ts";

/** The sampler the scheduler config names: DDIM at `steps` steps, or DDPM over every training step. */
export function createSampler(config: SchedulerConfig, steps: number): Sampler {
  const schedule = new NoiseSchedule(config);
  return config.sampler === "ddpm" ? new DdpmSampler(schedule) : new DdimSampler(schedule, steps);
}
