// A simulation job: scenario + policy + outputs, as plain data so worker threads can rebuild it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ACTION_DIM,
  DuetError,
  decodePng,
  type ActionChunk,
  type Arm,
  type CameraFrame,
  type Observation,
  type Policy,
} from "../core/index.ts";
import {
  historyStepsOf,
  loadPolicy,
  readPolicyModel,
  releasePolicy,
  type DiffusionPolicy,
  type PolicyModel,
  type SamplingOptions,
} from "../policy/index.ts";
import { createEnv, createExpert, type SimEnv } from "../sim/index.ts";
import { LiveClient, liveStepHook } from "./live.ts";
import { ReplayRecorder, ensureOutputDir, writeFrames } from "./replay.ts";
import { ByteTokenizer } from "../encoders/index.ts";
import { runEpisode, type EpisodeOutcome } from "./rollout.ts";

/** Everything needed to run episodes of one scenario with one policy. Serializable. */
export interface SimJob {
  /** Scenario file. */
  scenario: string;
  /** Named perturbations laid over the scenario file (sim/perturbations.ts; default none). */
  perturb?: string[];
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
  /** Stream body poses to a running `duet view` (e.g. "http://127.0.0.1:8080"). */
  liveUrl?: string;
  /** Overrides of a trained policy's sampling and receding horizon (default: what model.json says). */
  tuning?: PolicyTuning;
  /** Every episode asks this (a multi-task scenario's phrasing) instead of drawing its task. */
  instruction?: string;
  /**
   * Goal-conditioned policies: a PNG file shown as every episode's goal picture. Unset: each episode's goal is the
   * last frame of the scripted expert doing the same episode (same seed and task), as in training.
   */
  goal?: string;
}

/** Something holding native resources (onnxruntime sessions) that must be released before its thread ends. */
export interface Closable {
  /** Release the resources; safe to call more than once. */
  close(): Promise<void>;
}

/** A trained policy of a job: `ready()` loads its graphs now (else the first chunk does). */
export interface TrainedPolicy extends Policy, Closable {
  ready(): Promise<void>;
}

/** Run-time settings of a trained policy that do not change its weights. */
export interface PolicyTuning extends Pick<
  SamplingOptions,
  "inferenceSteps" | "noiseScale" | "ensemble" | "episodeNoise"
> {
  /** Ta: actions executed from each chunk before planning again (at most the chunk's Tp). */
  actionSteps?: number;
}

/** Build the policy a job names for an env: "expert", or a trained model directory (see src/policy loadPolicy). */
function createPolicy(job: SimJob, env: SimEnv, model: PolicyModel | null): Policy & Partial<Closable> {
  if (model === null) return createExpert(env, job.mode ? { mode: job.mode } : {});
  const camera = model.config.goal?.camera;
  const goals = camera === undefined ? undefined : goalSource(job, camera);
  return trainedPolicy(job.policy, env, job.tuning, goals);
}

/** Where a goal-conditioned policy's goal pictures come from: a PNG file, or the expert's own episode. */
export type GoalSource = (seed: number) => Promise<CameraFrame>;

/** The job's goal pictures for `camera`: job.goal's PNG, or the last frame of the expert's episode of each seed. */
function goalSource(job: SimJob, camera: string): GoalSource {
  if (job.goal !== undefined) {
    const frame = decodePng(new Uint8Array(readFileSync(job.goal)), `--goal ${job.goal}`);
    return () => Promise.resolve(frame);
  }
  const env = createEnv(job.scenario, {
    cameras: true,
    ...(job.perturb && { perturb: job.perturb }),
    ...(job.instruction !== undefined && { instruction: job.instruction }),
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

/**
 * A trained policy from a model directory, loaded on first use (loading is asynchronous; the first `predictChunk`
 * comes after `env.reset`, before any step, so a refused model moves nothing). Refuses models made for another
 * action size, camera set or control rate. Chunks are cut to Ta (receding horizon): the model's, or `tuning`'s.
 */
export function trainedPolicy(dir: string, env: SimEnv, tuning: PolicyTuning = {}, goals?: GoalSource): TrainedPolicy {
  const model = readPolicyModel(dir); // a missing or invalid model.json fails now, with the file and field named
  const { actionSteps, ...sampling } = tuning;
  if (actionSteps !== undefined && actionSteps > model.config.predSteps) {
    throw new DuetError(
      `${dir}: Ta ${actionSteps} exceeds the model's chunk of ${model.config.predSteps} steps (config.predSteps)`,
    );
  }
  let loaded: Promise<DiffusionPolicy> | null = null;
  let pendingSeed: number | null = 0;
  let goal: CameraFrame | undefined;
  const load = (): Promise<DiffusionPolicy> =>
    (loaded ??= loadPolicy(dir, {
      ...sampling,
      expect: {
        stateDim: ACTION_DIM,
        actionDim: ACTION_DIM,
        cameras: env.cameras.map((name) => ({ name })),
        controlHz: env.controlHz,
        environmentNames: env.environmentNames,
        audio: env.hears,
      },
    }));
  return {
    historySteps: historyStepsOf(model.config),
    reset(s: number): void {
      pendingSeed = s;
    },
    async ready(): Promise<void> {
      await load();
    },
    async close(): Promise<void> {
      const p = loaded;
      loaded = null;
      if (p) await p.then(releasePolicy, () => undefined);
    },
    async predictChunk(history: readonly Observation[]): Promise<ActionChunk> {
      const p = await load();
      if (pendingSeed !== null) {
        p.reset(pendingSeed);
        if (goals) goal = await goals(pendingSeed);
      }
      pendingSeed = null;
      const shown = goal;
      const chunk = await p.predictChunk(shown ? history.map((o) => ({ ...o, goal: shown })) : history);
      const ta = Math.min(actionSteps ?? p.actionHorizon, chunk.horizon);
      return { actions: chunk.actions.subarray(0, ta * chunk.dim), horizon: ta, dim: chunk.dim };
    },
  };
}

/** A job's model (null for the expert) and its env: cameras, instruction and sound as the job and model need. */
function jobEnv(job: SimJob): { model: PolicyModel | null; env: SimEnv } {
  // a missing or invalid model.json fails now, with the file and field named
  const model = job.policy === "expert" ? null : readPolicyModel(job.policy);
  const env = createEnv(job.scenario, {
    cameras: job.cameras || job.framesDir !== undefined,
    ...(job.perturb && { perturb: job.perturb }),
    ...(job.instruction !== undefined && { instruction: job.instruction }),
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
    const tokenizer = new ByteTokenizer(language.maxTokens);
    const phrasings =
      job.instruction !== undefined
        ? [job.instruction]
        : (env.scenario.tasks ?? []).flatMap((t) => Object.values(t.instructions).flatMap((list) => list ?? []));
    for (const text of phrasings) {
      try {
        tokenizer.normalize(text);
      } catch (e) {
        const where = job.instruction !== undefined ? "--instruction" : `${job.scenario} (tasks[].instructions)`;
        throw new DuetError(
          `${where}: ${(e as Error).message} (${job.policy}: config.language.maxTokens ${language.maxTokens}); shorten it`,
        );
      }
    }
  }
  const policy = trainedPolicy(job.policy, env, job.tuning);
  try {
    await policy.ready();
  } finally {
    await policy.close();
  }
}

/**
 * A prepared job: call it with a seed to play one episode; `cancel()` ends the episode in progress at its next step
 * (it rejects; an inference already running finishes first), `close()` releases the policy's sessions.
 */
export type PreparedJob = ((seed: number) => Promise<EpisodeOutcome>) & Closable & { cancel(): void };

/** Env + policy for a job, reused across episodes; `run(seed)` plays one episode with the job's outputs. */
export function prepareJob(job: SimJob): PreparedJob {
  const { model, env } = jobEnv(job);
  const policy = createPolicy(job, env, model);
  let cancelled = false;
  const play = async (seed: number): Promise<EpisodeOutcome> => {
    // one connection per episode, closed after it, so a finished run never waits on the viewer
    const live = job.liveUrl ? await LiveClient.connect(job.liveUrl) : null;
    const liveHook = live ? liveStepHook(live, env, `${job.policy} seed ${seed}`) : null;
    const replay = job.replayDir ? new ReplayRecorder(job.replayDir, env) : null;
    const framesDir = job.framesDir ? join(job.framesDir, `episode_${seed}`) : null;
    let begun = false;
    const outcome = await runEpisode(env, policy, seed, {
      onStep: (step, observation, action, result) => {
        if (cancelled) throw new DuetError(`episode with seed ${seed} cancelled at step ${step}`);
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
    cancel: () => void (cancelled = true),
  });
}
