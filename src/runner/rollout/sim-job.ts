// A simulation job: scenario + policy + outputs, as plain data so worker threads can rebuild it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DuetError, decodePng, type Arm, type CameraFrame, type Observation } from "../../core/index.ts";
import type { PolicyModel } from "../../policy/index.ts";
import { createEnv, createExpert, scenarioPhrasings, type ScoredAs, type SimEnv } from "../../sim/index.ts";
import { checkInstruction } from "../deploy/instruction.ts";
import { policyModel, resolveSimPolicy } from "../deploy/policy-ref.ts";
import type { GoalSource, PolicyTuning, TrainedPolicy } from "../deploy/trained-policy.ts";
import { LiveClient, liveStepHook } from "../replay/live.ts";
import { ensureOutputDir, writeFrames } from "../replay/output.ts";
import { ReplayRecorder } from "../replay/replay-file.ts";
import { runEpisode, type EpisodeOutcome, type EpisodeRunner } from "./episode.ts";

/** Everything needed to run episodes of one scenario with one policy. Serializable. */
export interface SimJob {
  /** Scenario file. */
  scenario: string;
  /** Named perturbations laid over the scenario file (sim/perturbations.ts; default none). */
  perturb?: string[];
  /** A `--policy` reference for the simulator (deploy/policy-ref.ts): "expert", or a trained model directory. */
  policy: string;
  /** Which arm holds the bottle (expert only): "random" draws per episode. */
  mode?: "random" | Arm;
  /** Render cameras (needed for image-based policies and --frames). */
  cameras: boolean;
  /** Write `episode_<seed>.json` replays here. */
  replayDir?: string;
  /** Write camera frames as PNG under `<framesDir>/episode_<seed>/<camera>/`. */
  framesDir?: string;
  /** Stream body poses to a running `duet view` (e.g. "http://127.0.0.1:8080"). */
  liveUrl?: string;
  /** Overrides of a trained policy's sampling and receding horizon (default: what model.json says). */
  tuning?: PolicyTuning;
  /** Every episode asks this instead of drawing its task: a scenario's phrasing, or with `scoredAs` any text. */
  instruction?: string;
  /** With `instruction`: score every episode as this task and hand (sim's taskFor), whatever the instruction says. */
  scoredAs?: ScoredAs;
  /**
   * Goal-conditioned policies: a PNG file shown as every episode's goal picture. Unset: each episode's goal is the
   * last frame of the scripted expert doing the same episode (same seed and task), as in training.
   */
  goal?: string;
}

/** The env options that fix every episode's task: the job's instruction, and how it is scored. */
function taskOptions(job: SimJob): { instruction?: string; scoredAs?: ScoredAs } {
  return {
    ...(job.instruction !== undefined && { instruction: job.instruction }),
    ...(job.scoredAs && { scoredAs: job.scoredAs }),
  };
}

/** The job's goal pictures for `camera`: job.goal's PNG, or the last frame of the expert's episode of each seed. */
function goalSource(job: SimJob, camera: string): GoalSource {
  if (job.goal !== undefined) {
    const frame = decodePng(new Uint8Array(readFileSync(job.goal)), `--goal ${job.goal}`);
    return () => Promise.resolve(frame);
  }
  const env = createEnv(job.scenario, {
    cameras: true,
    ...(job.perturb && { perturb: job.perturb }),
    ...taskOptions(job),
  });
  if (!env.cameras.includes(camera)) {
    throw new DuetError(`${job.scenario} has no camera "${camera}" for the goal picture (config.goal.camera)`);
  }
  const expert = createExpert(env, {});
  return async (seed) => {
    let last: Observation | null = null;
    await runEpisode(env, expert, seed, { onStep: (_s, _o, _a, r) => (last = r.observation) });
    return ((last as Observation | null) ?? env.reset(seed)).images[camera] as CameraFrame;
  };
}

/** A job's model (null for the expert) and its env: cameras, instruction and sound as the job and model need. */
function jobEnv(job: SimJob): { model: PolicyModel | null; env: SimEnv } {
  // an unknown reference, or a missing or invalid model.json, fails now, with the file and field named
  const model = policyModel(job.policy, "sim");
  const env = createEnv(job.scenario, {
    cameras: job.cameras || job.framesDir !== undefined,
    ...(job.perturb && { perturb: job.perturb }),
    ...taskOptions(job),
    ...(model?.config.audio && { audio: true }),
  });
  return { model, env };
}

/**
 * Check, once and in this thread, everything a job's episodes have in common, so that a problem no episode could
 * survive is one error before any worker starts: the scenario, the output folders (created), the model's graphs
 * (loaded, checked against the scenario's robot, cameras and rate, then released), and every instruction the episodes
 * may be given (the job's, or all of the scenario's phrasings) against a language policy's text encoder.
 * `flags` names the options the folders came from, for the messages.
 */
export async function checkJob(job: SimJob, flags: { replayDir?: string; framesDir?: string } = {}): Promise<void> {
  if (job.replayDir !== undefined) ensureOutputDir(job.replayDir, flags.replayDir ?? "replay folder");
  if (job.framesDir !== undefined) ensureOutputDir(job.framesDir, flags.framesDir ?? "frames folder");
  const { model, env } = jobEnv(job);
  if (model === null) return;
  const language = model.config.language;
  if (language) {
    const where = job.instruction !== undefined ? "--instruction" : `${job.scenario} (tasks[].instructions)`;
    const phrasings =
      job.instruction !== undefined ? [job.instruction] : scenarioPhrasings(env.scenario).map((t) => t.instruction);
    for (const text of phrasings) checkInstruction(job.policy, language, text, where);
  }
  const policy = resolveSimPolicy(job.policy, env, job.tuning ? { tuning: job.tuning } : {}) as Partial<TrainedPolicy>;
  try {
    await policy.ready?.();
  } finally {
    await policy.close?.();
  }
}

/** A prepared job: plays one episode per call (see EpisodeRunner), with the job's outputs. */
export type PreparedJob = EpisodeRunner<EpisodeOutcome>;

/** Env + policy for a job, reused across episodes; `play(seed)` plays one episode with the job's outputs. */
export function prepareJob(job: SimJob): PreparedJob {
  const { model, env } = jobEnv(job);
  const camera = model?.config.goal?.camera;
  const policy = resolveSimPolicy(job.policy, env, {
    ...(job.mode && { mode: job.mode }),
    ...(job.tuning && { tuning: job.tuning }),
    ...(camera !== undefined && { goals: goalSource(job, camera) }),
  });
  const cancel = new AbortController();
  const play = async (seed: number): Promise<EpisodeOutcome> => {
    // one connection per episode, closed after it, so a finished run never waits on the viewer
    const live = job.liveUrl ? await LiveClient.connect(job.liveUrl) : null;
    const liveHook = live ? liveStepHook(live, env, `${job.policy} seed ${seed}`) : null;
    const replay = job.replayDir ? new ReplayRecorder(job.replayDir, env) : null;
    const framesDir = job.framesDir ? join(job.framesDir, `episode_${seed}`) : null;
    let begun = false;
    const outcome = await runEpisode(env, policy, seed, {
      signal: cancel.signal,
      onStep: (step, observation, action, result) => {
        if (replay && !begun) {
          replay.begin();
          begun = true;
        }
        replay?.step(observation, action);
        if (framesDir) writeFrames(framesDir, step, observation);
        liveHook?.(step, observation, action, result);
      },
    });
    replay?.finish(outcome);
    await live?.close();
    return outcome;
  };
  return Object.assign(play, {
    close: async () => void (await policy.close?.()),
    cancel: () => cancel.abort(),
  });
}
