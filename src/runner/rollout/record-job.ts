// A recording source as plain data (scenario file, expert mode and noise, an optional lead policy), so worker threads
// can rebuild the same env and policies as the main thread.
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { Arm, Env, Policy } from "../../core/index.ts";
import { createEnv, createExpert, loadScenario, type SimEnv } from "../../sim/index.ts";
import type { DatasetScenario } from "../../data/index.ts";
import type { LeadIn } from "./record-episode.ts";
import { trainedPolicy } from "./sim-job.ts";

/** The scripted expert in a scenario, with cameras rendered. Serializable. */
export interface RecordSimJob {
  /** Scenario file (resolved against the working directory). */
  scenario: string;
  /** Which arm holds the bottle; "random" draws per episode from its seed. Default: the scenario's. */
  mode?: "random" | Arm;
  /** Std (m) of the expert's waypoint noise. Default: the scenario's `expert.noise`. */
  noise?: number;
  /** Std (m) of the expert's sideways offset on the final approach (ExpertOptions.approachOffset). Default 0. */
  approachOffset?: number;
  /** Std (rad) of the arms' tracking error while recording (SimEnvOptions.actuationNoise: DART). Default 0. */
  actuationNoise?: number;
  /** Synthesise contact sound (SimEnvOptions.audio) and record it as `observation.audio`. Default false. */
  audio?: boolean;
  /**
   * A trained policy (model directory) drives the first k steps of each episode, k drawn from `steps` (inclusive)
   * by the seed; those steps are not recorded. The expert then takes over from where the policy left the arms, and
   * only its part is recorded: corrections from the states the policy reaches (DAgger's idea, with the expert
   * acting rather than only labelling).
   */
  lead?: { policy: string; steps: [number, number] };
}

/**
 * What a dataset stores of the scenario it was recorded in: its name and the SHA-256 of its resolved content (the
 * validated scenario with defaults filled in and its robot description, without the file paths), so a copy elsewhere is
 * the same scenario and an edited one is another.
 */
export function scenarioIdentity(file: string): DatasetScenario {
  const { file: _file, robot: _robot, ...content } = loadScenario(resolve(file));
  const sha256 = createHash("sha256").update(JSON.stringify(content)).digest("hex");
  return { name: content.name, sha256 };
}

/** k for an episode: a hash of its seed into [lo, hi], so k does not depend on which worker plays the episode. */
export function leadSteps(seed: number, [lo, hi]: [number, number]): number {
  const h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b);
  return lo + (((h ^ (h >>> 13)) >>> 0) % (hi - lo + 1));
}

/** Env and policy factories for a job; the scenario is loaded (and validated) once, here. */
export function simSource(job: RecordSimJob): {
  makeEnv: () => Env;
  makePolicy: (env: Env) => Policy;
  makeLead: (env: Env) => LeadIn | undefined;
} {
  const scenario = loadScenario(resolve(job.scenario));
  return {
    makeEnv: () =>
      createEnv(scenario, {
        ...(job.actuationNoise ? { actuationNoise: job.actuationNoise } : {}),
        ...(job.audio ? { audio: true } : {}),
      }),
    makePolicy: (env) =>
      createExpert(env as SimEnv, {
        ...(job.mode ? { mode: job.mode } : {}),
        ...(job.noise !== undefined ? { noise: job.noise } : {}),
        ...(job.approachOffset !== undefined ? { approachOffset: job.approachOffset } : {}),
        ...(job.lead ? { takeover: true } : {}),
      }),
    makeLead: (env) => {
      if (!job.lead) return undefined;
      const range = job.lead.steps;
      return {
        policy: trainedPolicy(resolve(job.lead.policy), env as SimEnv),
        steps: (seed) => leadSteps(seed, range),
      };
    },
  };
}
