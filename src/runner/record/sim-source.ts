// Recording in the simulator: a source (policy × env: the expert, or a policy's lead and the expert's takeover) →
// episodes committed one by one into a LeRobot v3.0 dataset. Episodes are played in this thread or in K worker threads
// (the episode pool, as record jobs); either way the main thread commits them with the one Recorder in seed order, so
// the dataset does not depend on K. Each episode is built in memory and committed atomically when complete: a crash
// or Ctrl-C loses at most the episodes in progress.
import { DuetError, type Env, type Policy } from "../../core/index.ts";
import type { DatasetFs, EpisodeMeta } from "../../data/index.ts";
import type { TrainedPolicy } from "../deploy/trained-policy.ts";
import { EpisodeAborted } from "../rollout/episode.ts";
import type { RecordJob } from "../rollout/jobs.ts";
import { playSeeds, prepareWorkers } from "../rollout/pool.ts";
import type { EpisodeSettings, LeadIn } from "../rollout/record-episode.ts";
import { recordRunner, simSource, type RecordSimJob } from "../rollout/record-job.ts";
import { specFromEnv, type SpecNames } from "./dataset-spec.ts";
import { Recorder } from "./recorder.ts";
import { scenarioIdentity } from "./scenario-identity.ts";

/** Progress after each committed episode (and once at the start, with `episode` = -1). */
export interface RecordProgress {
  /** Episodes committed in this run / to commit in this run. */
  done: number;
  total: number;
  /** Index in the dataset of the episode just committed (-1 at the start). */
  episode: number;
  /** Frames of that episode. */
  frames: number;
  success: boolean;
  mode: string;
  /** Episodes and frames in the dataset now (including earlier runs). */
  datasetEpisodes: number;
  datasetFrames: number;
}

export interface RecordOptions {
  /** Makes the env (called once). Default, with `job`: the job's scenario. */
  makeEnv?: () => Env | Promise<Env>;
  /** Makes the policy that drives the env (called once, after the env). Default, with `job`: the job's expert. */
  makePolicy?: (env: Env) => Policy | Promise<Policy>;
  /** Makes the lead-in policy that drives each episode's first steps unrecorded. Default, with `job`: the job's. */
  makeLead?: (env: Env) => LeadIn | undefined;
  /** The source as data, which worker threads rebuild. Required when `workers` > 1. */
  job?: RecordSimJob;
  /** Threads playing episodes. 1 (default): this thread; K > 1: K worker threads, this one only commits. */
  workers?: number;
  /** Dataset folder. */
  out: string;
  /** Episodes to record in this run. */
  episodes: number;
  /** Base seed: the dataset's episode k is reset with seed + k, so a resumed recording continues the sequence. */
  seed: number;
  /** Append to an existing dataset at `out`. Default false. */
  resume?: boolean;
  /** Task description stored with every episode. Default "unscrew the bottle cap". */
  task?: string;
  /** Robot type stored in info.json. Default "duet_panda_pair". */
  robotType?: string;
  /** Names of the state and action entries. Default: core SLOT_NAMES when the sizes match, else `state_<i>`. */
  stateNames?: readonly string[];
  actionNames?: readonly string[];
  /** To: observations passed to the policy. Default 2 (the first observation repeated at the start). */
  obsSteps?: number;
  /** Ta: actions executed from each chunk before planning again. Default: the whole chunk. */
  actionsPerChunk?: number;
  /** An episode running longer than this many steps is an error (the env never said done). Default 10000. */
  maxSteps?: number;
  /** Abort: the episodes in progress are discarded, committed ones stay; resolves normally. */
  signal?: AbortSignal;
  onProgress?: (p: RecordProgress) => void;
  /** A data file is closed past this size (MB). Default 100. */
  dataFileSizeMb?: number;
  /** File system for the dataset. Default node:fs. */
  fs?: DatasetFs;
}

export interface RecordResult {
  out: string;
  /** Episodes committed in this run. */
  recorded: EpisodeMeta[];
  /** True when stopped by the abort signal. */
  aborted: boolean;
  datasetEpisodes: number;
  datasetFrames: number;
}

/** How episodes are played: the options' settings, defaults filled in. */
function episodeSettings(options: Omit<RecordOptions, "out" | "episodes">): EpisodeSettings {
  return {
    obsSteps: options.obsSteps ?? 2,
    actionsPerChunk: options.actionsPerChunk,
    maxSteps: options.maxSteps ?? 10_000,
    task: options.task ?? "unscrew the bottle cap",
  };
}

function specNames(options: Omit<RecordOptions, "out" | "episodes">): SpecNames {
  return {
    robotType: options.robotType ?? "duet_panda_pair",
    stateNames: options.stateNames,
    actionNames: options.actionNames,
  };
}

/**
 * The record job of `options.job` as data, for workers elsewhere (a queue): its dataset spec from what the env and the
 * expert produce (as `recordEpisodes` finds it) and how episodes are played. A lead model's graphs are loaded once
 * here, so one that cannot load is one error before any episode is queued.
 */
export async function recordJobOf(
  options: Omit<RecordOptions, "out" | "episodes"> & { job: RecordSimJob },
): Promise<RecordJob> {
  const source = simSource(options.job);
  const env = source.makeEnv();
  const leadPolicy = source.makeLead(env)?.policy as Partial<TrainedPolicy> | undefined;
  try {
    await leadPolicy?.ready?.();
    const settings = episodeSettings(options);
    const spec = await specFromEnv(env, source.makePolicy(env), options.seed, settings.obsSteps, specNames(options));
    return { kind: "record", source: options.job, spec, settings };
  } finally {
    await leadPolicy?.close?.();
  }
}

/** Record `episodes` episodes of the policy acting in the env into the dataset at `out`. */
export async function recordEpisodes(options: RecordOptions): Promise<RecordResult> {
  const workers = options.workers ?? 1;
  const settings = episodeSettings(options);
  if (!Number.isInteger(options.episodes) || options.episodes < 0) {
    throw new DuetError(`episodes must be a whole number ≥ 0, received ${options.episodes}`);
  }
  if (!Number.isInteger(workers) || workers < 1) {
    throw new DuetError(`workers must be a whole number ≥ 1, received ${workers}`);
  }
  if (workers > 1 && options.job === undefined) {
    throw new DuetError(`workers ${workers}: worker threads rebuild the source from a job (scenario file + mode)`);
  }
  if (workers > 1) prepareWorkers(); // while this thread makes the env and opens the dataset
  const fromJob = options.job ? simSource(options.job) : undefined;
  const makeEnv = options.makeEnv ?? fromJob?.makeEnv;
  const makePolicy = options.makePolicy ?? fromJob?.makePolicy;
  if (!makeEnv || !makePolicy) throw new DuetError("recordEpisodes needs makeEnv and makePolicy, or a job");
  const env = await makeEnv();
  const policy = await makePolicy(env);
  const lead = (options.makeLead ?? fromJob?.makeLead)?.(env);
  const leadPolicy = lead?.policy as Partial<TrainedPolicy> | undefined;
  try {
    // a lead model's graphs are loaded once here, so one that cannot load is one error before any worker starts
    await leadPolicy?.ready?.();
    return await recordWith(options, settings, workers, env, policy, lead);
  } finally {
    await leadPolicy?.close?.();
  }
}

/** recordEpisodes once the env, the policy and the lead-in are made (and the lead's graphs loaded). */
async function recordWith(
  options: RecordOptions,
  settings: EpisodeSettings,
  workers: number,
  env: Env,
  policy: Policy,
  lead: LeadIn | undefined,
): Promise<RecordResult> {
  const { signal } = options;
  // The dataset's spec follows from what the env produces (a first reset and the policy's first chunk).
  const spec = await specFromEnv(env, policy, options.seed, settings.obsSteps, specNames(options));
  const recorder = await Recorder.open(options.out, {
    spec,
    ...(options.job ? { scenario: scenarioIdentity(options.job.scenario) } : {}),
    resume: options.resume ?? false,
    ...(options.fs ? { fs: options.fs } : {}),
    ...(options.dataFileSizeMb !== undefined ? { dataFileSizeMb: options.dataFileSizeMb } : {}),
  });
  // the dataset's episode k is reset with seed + k: a resumed recording continues the sequence
  const first = options.seed + recorder.datasetEpisodes;
  const seeds = Array.from({ length: options.episodes }, (_, i) => first + i);
  const job: RecordJob | undefined = options.job && { kind: "record", source: options.job, spec, settings };
  let aborted = false;
  const progress = (meta: EpisodeMeta | null) =>
    options.onProgress?.({
      done: recorder.recorded.length,
      total: options.episodes,
      episode: meta?.episodeIndex ?? -1,
      frames: meta?.length ?? 0,
      success: meta?.success ?? false,
      mode: meta?.mode ?? "",
      datasetEpisodes: recorder.datasetEpisodes,
      datasetFrames: recorder.datasetFrames,
    });
  try {
    progress(null);
    const played = playSeeds(job, seeds, {
      workers,
      // finished episodes wait in memory for the ones before them: at most this many seeds ahead
      lookahead: 2 * workers,
      ...(workers === 1 && { local: recordRunner(env, policy, spec, settings, lead) }),
      ...(signal && { signal }),
    });
    for await (const { result } of played) progress(recorder.add(result));
    if (signal?.aborted) aborted = true;
  } catch (e) {
    if (!(e instanceof EpisodeAborted)) throw e;
    aborted = true;
  } finally {
    recorder.close();
  }
  return {
    out: options.out,
    recorded: recorder.recorded,
    aborted,
    datasetEpisodes: recorder.datasetEpisodes,
    datasetFrames: recorder.datasetFrames,
  };
}
