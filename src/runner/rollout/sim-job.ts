// A simulation job: scenario + policy + outputs, as plain data so worker threads can rebuild it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DuetError, decodePng, type Arm, type CameraFrame, type Observation } from "../../core/index.ts";
import { GoalEncoder, GoalPrior, readPriorInfo, type PolicyModel } from "../../policy/index.ts";
import { createEnv, createExpert, scenarioPhrasings, type ScoredAs, type SimEnv } from "../../sim/index.ts";
import { checkInstruction } from "../deploy/instruction.ts";
import { policyModel, resolveSimPolicy } from "../deploy/policy-ref.ts";
import type { EpisodeGoal, GoalSource, PolicyTuning, TrainedPolicy } from "../deploy/trained-policy.ts";
import { LiveClient, liveStepHook } from "../replay/live.ts";
import { ensureOutputDir, writeFrames } from "../replay/output.ts";
import { ReplayRecorder } from "../replay/replay-file.ts";
import { runEpisode, type EpisodeOutcome, type EpisodeRunner, type GoalOrigin } from "./episode.ts";

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
   * Goal-conditioned policies: a PNG file shown as every episode's goal picture (a goal-embedding policy: its
   * embedding by the model's goal encoder). Unset: each episode's goal is the last frame of the scripted expert doing
   * the same episode (same seed and task), as in training.
   */
  goal?: string;
  /**
   * Goal-embedding policies: a `duet prior` output folder; each episode's goal embedding is the prior's sample for the
   * episode's instruction, from noise drawn for its seed.
   */
  prior?: string;
}

/** The env options that fix every episode's task: the job's instruction, and how it is scored. */
function taskOptions(job: SimJob): { instruction?: string; scoredAs?: ScoredAs } {
  return {
    ...(job.instruction !== undefined && { instruction: job.instruction }),
    ...(job.scoredAs && { scoredAs: job.scoredAs }),
  };
}

/** The job's goal frames of `camera`: job.goal's PNG, or the last frame of the expert's episode of each seed. */
function goalFrames(job: SimJob, camera: string): (seed: number) => Promise<CameraFrame> {
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

/** A job's goals: each episode's, where they come from, and `close` to release the sessions they opened. */
interface JobGoals {
  source: GoalSource;
  origin: GoalOrigin;
  close(): Promise<void>;
}

/**
 * The goals of a goal-conditioned model's episodes. A picture goal: the frame itself. A goal embedding: the frame
 * through the model's goal encoder (goal-image.onnx), or with job.prior the prior's sample for the episode's
 * instruction (its seed's noise). Sessions open on the first episode and are released by `close`.
 */
function jobGoals(job: SimJob, model: PolicyModel): JobGoals {
  const { camera, embedding } = model.config.goal as NonNullable<PolicyModel["config"]["goal"]>;
  if (job.prior !== undefined) {
    const dir = job.prior;
    let prior: Promise<GoalPrior> | null = null;
    return {
      origin: "prior",
      source: async (seed, first) => {
        if (first.instruction === undefined) {
          throw new DuetError(
            `--prior ${dir}: episode ${seed} has no instruction to give the prior (${job.scenario} asks none); give --instruction`,
          );
        }
        prior ??= GoalPrior.open(dir);
        return { goalEmbedding: await (await prior).sample(first.instruction, seed) };
      },
      close: async () => void (await prior?.then((p) => p.release()).catch(() => undefined)),
    };
  }
  const origin = job.goal !== undefined ? "png" : "expert-frame";
  const frames = goalFrames(job, camera);
  if (embedding === undefined)
    return { origin, source: async (seed) => ({ goal: await frames(seed) }), close: () => Promise.resolve() };
  let encoder: Promise<GoalEncoder> | null = null;
  return {
    origin,
    source: async (seed): Promise<EpisodeGoal> => {
      encoder ??= GoalEncoder.ofModel(job.policy, model);
      return { goalEmbedding: await (await encoder).embed([await frames(seed)]) };
    },
    close: async () => void (await encoder?.then((e) => e.release()).catch(() => undefined)),
  };
}

/** Every instruction a job's episodes may be given (the job's, or all of the scenario's phrasings) and where from. */
function jobPhrasings(job: SimJob, env: SimEnv): { where: string; phrasings: string[] } {
  if (job.instruction !== undefined) return { where: "--instruction", phrasings: [job.instruction] };
  return {
    where: `${job.scenario} (tasks[].instructions)`,
    phrasings: scenarioPhrasings(env.scenario).map((t) => t.instruction),
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
    const { where, phrasings } = jobPhrasings(job, env);
    for (const text of phrasings) checkInstruction(job.policy, language, text, where);
  }
  await checkGoals(job, model, env);
  const policy = resolveSimPolicy(job.policy, env, job.tuning ? { tuning: job.tuning } : {}) as Partial<TrainedPolicy>;
  try {
    await policy.ready?.();
  } finally {
    await policy.close?.();
  }
}

/**
 * A goal-embedding model's goal sources checked (a picture goal's are checked by its first episode): its goal encoder
 * (present, the one model.json names), a --goal PNG of the size it takes; with job.prior, a prior folder whose files
 * are all there, trained on the same CLIP run as the goal encoder (the same image.onnx), whose text encoder takes every
 * instruction the episodes may be given. A prior for a model that reads no goal embedding is refused too.
 */
async function checkGoals(job: SimJob, model: PolicyModel, env: SimEnv): Promise<void> {
  const g = model.goalEncoder;
  if (job.prior !== undefined && !g) {
    throw new DuetError(
      `--prior ${job.prior}: ${job.policy} reads no goal embedding (only a policy trained with policy.goal.embedding ` +
        `"clip" and duet train --clip takes a prior's goals); leave the flag out`,
    );
  }
  if (!g) return;
  if (job.prior === undefined) {
    const encoder = await GoalEncoder.ofModel(job.policy, model);
    try {
      if (job.goal !== undefined) await encoder.embed([await goalFrames(job, model.config.goal!.camera)(0)]);
    } finally {
      await encoder.release();
    }
    return;
  }
  const info = readPriorInfo(job.prior);
  if (info.imageEncoderSha256 !== g.sha256) {
    throw new DuetError(
      `--prior: prior ${job.prior} was trained on another CLIP run than ${job.policy}'s goal encoder (its image ` +
        `encoder's sha256 ${info.imageEncoderSha256.slice(0, 12)}…, ${join(job.policy, g.file)}'s ${g.sha256.slice(0, 12)}…); ` +
        `train the prior with duet prior --clip on the clip run the policy was trained with (duet train --clip)`,
    );
  }
  const prior = await GoalPrior.open(job.prior);
  try {
    const { where, phrasings } = jobPhrasings(job, env);
    for (const text of phrasings) prior.check(text, where);
  } finally {
    await prior.release();
  }
}

/** A prepared job: plays one episode per call (see EpisodeRunner), with the job's outputs. */
export type PreparedJob = EpisodeRunner<EpisodeOutcome>;

/** Env + policy for a job, reused across episodes; `play(seed)` plays one episode with the job's outputs. */
export function prepareJob(job: SimJob): PreparedJob {
  const { model, env } = jobEnv(job);
  const goals = model?.config.goal ? jobGoals(job, model) : null;
  const policy = resolveSimPolicy(job.policy, env, {
    ...(job.mode && { mode: job.mode }),
    ...(job.tuning && { tuning: job.tuning }),
    ...(goals && { goals: goals.source }),
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
    return goals ? { ...outcome, goal: goals.origin } : outcome;
  };
  return Object.assign(play, {
    close: async () => {
      await policy.close?.();
      await goals?.close();
    },
    cancel: () => cancel.abort(),
  });
}
