// A recording source as plain data (scenario file, expert mode and noise), so worker threads can rebuild the same
// env and policy as the main thread.
import { resolve } from "node:path";
import type { Arm, Env, Policy } from "../core/index.ts";
import { createEnv, createExpert, loadScenario, type SimEnv } from "../sim/index.ts";

/** The scripted expert in a scenario, with cameras rendered. Serializable. */
export interface RecordSimJob {
  /** Scenario file (resolved against the working directory). */
  scenario: string;
  /** Which arm holds the bottle; "random" draws per episode from its seed. Default: the scenario's. */
  mode?: "random" | Arm;
  /** Std (m) of the expert's waypoint noise. Default: the scenario's `expert.noise`. */
  noise?: number;
}

/** Env and policy factories for a job; the scenario is loaded (and validated) once, here. */
export function simSource(job: RecordSimJob): { makeEnv: () => Env; makePolicy: (env: Env) => Policy } {
  const scenario = loadScenario(resolve(job.scenario));
  return {
    makeEnv: () => createEnv(scenario),
    makePolicy: (env) =>
      createExpert(env as SimEnv, {
        ...(job.mode ? { mode: job.mode } : {}),
        ...(job.noise !== undefined ? { noise: job.noise } : {}),
      }),
  };
}
