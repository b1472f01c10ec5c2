// A recording source as plain data (scenario file, expert mode and noise, an optional lead policy), so worker threads
// can rebuild the same env and policies as the main thread.
import { resolve } from "node:path";
import type { Arm, Env, Policy } from "../../core/index.ts";
import type { DatasetSpec, EpisodeRecord } from "../../data/index.ts";
import { createEnv, createExpert, loadScenario, type SimEnv } from "../../sim/index.ts";
import { trainedPolicy, type Closable } from "../deploy/trained-policy.ts";
import type { EpisodeRunner } from "./episode.ts";
import { recordEpisode, type EpisodeSettings, type LeadIn } from "./record-episode.ts";

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

/**
 * A runner recording episodes of `policy` in `env` (recordEpisode), made once per thread; closing it releases the lead
 * policy's onnxruntime sessions.
 */
export function recordRunner(
  env: Env,
  policy: Policy,
  spec: DatasetSpec,
  settings: EpisodeSettings,
  lead: LeadIn | undefined,
): EpisodeRunner<EpisodeRecord> {
  const cancel = new AbortController();
  const play = (seed: number): Promise<EpisodeRecord> =>
    recordEpisode(env, policy, spec, seed, settings, cancel.signal, lead);
  return Object.assign(play, {
    cancel: () => cancel.abort(),
    close: async () => void (await (lead?.policy as Partial<Closable> | undefined)?.close?.()),
  });
}

/** Buffers of `ep` that can be moved to another thread: each typed array made to own its whole buffer. */
export function episodeBuffers(ep: EpisodeRecord): ArrayBuffer[] {
  const own = (a: Uint8Array): Uint8Array =>
    a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
  const list: ArrayBuffer[] = [ep.state.buffer as ArrayBuffer, ep.action.buffer as ArrayBuffer];
  if (ep.environment) list.push(ep.environment.buffer as ArrayBuffer);
  for (const [cam, frames] of Object.entries(ep.images)) {
    const owned = frames.map(own);
    ep.images[cam] = owned;
    for (const f of owned) list.push(f.buffer as ArrayBuffer);
  }
  return list;
}
