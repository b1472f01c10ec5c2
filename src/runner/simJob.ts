// A simulation job: scenario + policy + outputs, as plain data so worker threads can rebuild it.
import { join } from "node:path";
import { DuetError, type Arm, type Policy } from "../core/index.ts";
import { createEnv, createExpert, type SimEnv } from "../sim/index.ts";
import { ReplayRecorder, writeFrames } from "./replay.ts";
import { runEpisode, type EpisodeOutcome } from "./rollout.ts";

/** Everything needed to run episodes of one scenario with one policy. Serializable. */
export interface SimJob {
  /** Scenario file. */
  scenario: string;
  /** "expert" (scripted, privileged), or a trained policy directory. */
  policy: string;
  /** Which arm holds the bottle (expert only): "random" draws per episode. */
  mode?: "random" | Arm;
  /** Render cameras (needed for image-based policies and --frames). */
  cameras: boolean;
  /** Write `episode_<seed>.json` replays here. */
  replayDir?: string;
  /** Write camera frames as PNG under `<framesDir>/episode_<seed>/<camera>/`. */
  framesDir?: string;
}

/** Build the policy a job names for an env. */
function createPolicy(job: SimJob, env: SimEnv): Policy {
  if (job.policy === "expert") return createExpert(env, job.mode ? { mode: job.mode } : {});
  throw new DuetError(
    `policy "${job.policy}": unknown. Available: "expert" (the scripted expert). Trained policies are loaded from a model directory once the policy module ships.`,
  );
}

/** Env + policy for a job, reused across episodes; `run(seed)` plays one episode with the job's outputs. */
export function prepareJob(job: SimJob): (seed: number) => Promise<EpisodeOutcome> {
  const env = createEnv(job.scenario, { cameras: job.cameras || job.framesDir !== undefined });
  const policy = createPolicy(job, env);
  return async (seed) => {
    const replay = job.replayDir ? new ReplayRecorder(job.replayDir, env) : null;
    const framesDir = job.framesDir ? join(job.framesDir, `episode_${seed}`) : null;
    let begun = false;
    const outcome = await runEpisode(env, policy, seed, {
      onStep: (step, observation, action) => {
        if (replay && !begun) {
          replay.begin();
          begun = true;
        }
        replay?.step(observation, action);
        if (framesDir) writeFrames(framesDir, step, observation);
      },
    });
    replay?.finish(outcome);
    return outcome;
  };
}
