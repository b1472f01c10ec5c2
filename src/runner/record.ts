// Recording: a source (policy × env) → episodes committed one by one into a LeRobot v3.0 dataset.
// Single process; each episode is built in memory and committed atomically when the env says done, so a crash or
// Ctrl-C loses at most the episode in progress.
import { DuetError, SLOT_NAMES, type ActionChunk, type Env, type Observation, type Policy } from "../core/index.ts";
import { DatasetWriter, EpisodeBuilder, type DatasetFs, type DatasetSpec, type EpisodeMeta } from "../data/index.ts";

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
  /** Makes the env (called once). */
  makeEnv: () => Env | Promise<Env>;
  /** Makes the policy that drives the env (called once, after the env). */
  makePolicy: (env: Env) => Policy | Promise<Policy>;
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
  /** Abort: the episode in progress is discarded, committed ones stay; resolves normally. */
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

class Aborted extends Error {}

function names(given: readonly string[] | undefined, n: number, prefix: string): string[] {
  if (given !== undefined) {
    if (given.length !== n)
      throw new DuetError(`${prefix} names: ${given.length} given, the env produces ${n} entries`);
    return [...given];
  }
  return n === SLOT_NAMES.length ? [...SLOT_NAMES] : Array.from({ length: n }, (_, i) => `${prefix}_${i}`);
}

/** Record `episodes` episodes of `makePolicy(env)` acting in `makeEnv()` into the dataset at `out`. */
export async function recordEpisodes(options: RecordOptions): Promise<RecordResult> {
  const { signal } = options;
  const To = options.obsSteps ?? 2;
  const maxSteps = options.maxSteps ?? 10_000;
  const task = options.task ?? "unscrew the bottle cap";
  if (!Number.isInteger(options.episodes) || options.episodes < 0) {
    throw new DuetError(`episodes must be a whole number ≥ 0, received ${options.episodes}`);
  }
  const env = await options.makeEnv();
  const policy = await options.makePolicy(env);

  // The dataset's spec follows from what the env produces: state size and camera sizes from a first reset,
  // the action size from the policy's first chunk.
  const first = env.reset(options.seed);
  policy.reset(options.seed);
  const firstChunk = await policy.predictChunk(Array.from({ length: To }, () => first));
  const spec: DatasetSpec = {
    fps: env.controlHz,
    robotType: options.robotType ?? "duet_panda_pair",
    stateNames: names(options.stateNames, first.state.length, "state"),
    actionNames: names(options.actionNames, firstChunk.dim, "action"),
    cameras: env.cameras.map((name) => {
      const f = first.images[name];
      if (f === undefined) throw new DuetError(`env lists camera ${name} but its observation has no such image`);
      return { name, height: f.height, width: f.width };
    }),
  };
  const writer = await DatasetWriter.open(options.out, {
    spec,
    resume: options.resume ?? false,
    ...(options.fs ? { fs: options.fs } : {}),
    ...(options.dataFileSizeMb !== undefined ? { dataFileSizeMb: options.dataFileSizeMb } : {}),
  });
  const recorded: EpisodeMeta[] = [];
  let aborted = false;
  const progress = (meta: EpisodeMeta | null) =>
    options.onProgress?.({
      done: recorded.length,
      total: options.episodes,
      episode: meta?.episodeIndex ?? -1,
      frames: meta?.length ?? 0,
      success: meta?.success ?? false,
      mode: meta?.mode ?? "",
      datasetEpisodes: writer.totalEpisodes,
      datasetFrames: writer.totalFrames,
    });
  try {
    progress(null);
    while (recorded.length < options.episodes) {
      const seed = options.seed + writer.totalEpisodes;
      let ep;
      try {
        ep = await recordOne(env, policy, spec, seed, task, {
          To,
          maxSteps,
          signal,
          actionsPerChunk: options.actionsPerChunk,
        });
      } catch (e) {
        if (e instanceof Aborted) {
          aborted = true;
          break;
        }
        throw e;
      }
      const meta = writer.addEpisode(ep);
      recorded.push(meta);
      progress(meta);
    }
    if (signal?.aborted) aborted = true;
  } finally {
    writer.close();
  }
  return {
    out: options.out,
    recorded,
    aborted,
    datasetEpisodes: writer.totalEpisodes,
    datasetFrames: writer.totalFrames,
  };
}

async function recordOne(
  env: Env,
  policy: Policy,
  spec: DatasetSpec,
  seed: number,
  task: string,
  opts: { To: number; maxSteps: number; signal: AbortSignal | undefined; actionsPerChunk: number | undefined },
) {
  const builder = new EpisodeBuilder(spec);
  let obs: Observation = env.reset(seed);
  policy.reset(seed);
  const history: Observation[] = Array.from({ length: opts.To }, () => obs);
  let mode = "";
  for (;;) {
    if (opts.signal?.aborted) throw new Aborted();
    const chunk: ActionChunk = await policy.predictChunk(history);
    const Ta = Math.min(opts.actionsPerChunk ?? chunk.horizon, chunk.horizon);
    if (Ta < 1) throw new DuetError(`policy returned an empty action chunk (horizon ${chunk.horizon})`);
    for (let k = 0; k < Ta; k++) {
      if (opts.signal?.aborted) throw new Aborted();
      const action = chunk.actions.subarray(k * chunk.dim, (k + 1) * chunk.dim);
      builder.addFrame(obs, action);
      const result = env.step(action);
      const m = result.info["mode"] ?? result.info["holder"];
      if (typeof m === "string" && m !== "none") mode = m;
      obs = result.observation;
      history.shift();
      history.push(obs);
      if (result.done) return builder.finish({ task, success: result.success, mode, seed });
      if (builder.frames >= opts.maxSteps) {
        throw new DuetError(`episode with seed ${seed}: the env did not finish within ${opts.maxSteps} steps`);
      }
    }
  }
}
