// Writes episodes into a LeRobot v3.0 dataset. Each complete episode is committed atomically together with every
// metadata file it changes (see commit.ts), so a crash loses at most the episode being recorded.
import { join } from "node:path";
import {
  ACTION_KEY,
  AUDIO_KEY,
  DuetError,
  ENVIRONMENT_KEY,
  STATE_KEY,
  ValidationError,
  decodePng,
  imageKey,
  parseWith,
} from "../core/index.ts";
import {
  acquireLock,
  commitFiles,
  finishPendingCommit,
  releaseLock,
  removeStrayTemps,
  type CommitFile,
} from "./commit.ts";
import { encodeDataFile, imageKeysOf, type DataColumns } from "./datafile.ts";
import { writeEpisodesTable, writeTasksTable, type EpisodeMeta } from "./episodes.ts";
import type { EpisodeRecord } from "./episode.ts";
import { nodeFs, type DatasetFs } from "./fs.ts";
import {
  DEFAULT_EPISODES_PATH,
  EPISODE_INDEX_KEY,
  FRAME_INDEX_KEY,
  INDEX_KEY,
  INFO_PATH,
  STATS_PATH,
  TASKS_PATH,
  TASK_INDEX_KEY,
  TIMESTAMP_KEY,
  compareFeatures,
  datasetSpecSchema,
  emptyInfo,
  featuresFromSpec,
  formatPath,
  nextChunkFile,
  type DatasetInfo,
  type DatasetScenario,
  type DatasetSpec,
} from "./info.ts";
import { episodeIssues, loadEpisodes, loadInfo, loadTasks } from "./meta.ts";
import {
  ImageStatsAccumulator,
  aggregateStats,
  audioStats,
  statsToFile,
  vectorStats,
  type DatasetStats,
} from "./stats.ts";

/** Episodes per meta/episodes file before a new one is begun. */
export const EPISODES_PER_META_FILE = 1000;

export interface DatasetWriterOptions {
  /** What is recorded (fps, names, cameras). An existing dataset must have the same features. */
  spec: DatasetSpec;
  /** Append to an existing dataset instead of refusing to touch it. Default false. */
  resume?: boolean;
  /** A data file is closed once it would grow past this size (MB). Default 100 (LeRobot's default). */
  dataFileSizeMb?: number;
  /** File system. Default: node:fs. */
  fs?: DatasetFs;
  /**
   * The scenario recorded in (simulation): stored in a new dataset's info.json; resuming a dataset that names another
   * scenario is refused, naming both.
   */
  scenario?: DatasetScenario;
}

/** Per (chunk, file): what the writer holds in memory to rewrite that file with one more episode. */
interface OpenFile<T> {
  chunk: number;
  file: number;
  items: T;
  bytes: number;
}

/**
 * The one writer of a dataset folder (holds `meta/.duet-lock`). `addEpisode` commits one complete episode; `close`
 * releases the lock. Resuming begins new data and episodes files, as LeRobot does, so committed files are never
 * rewritten by a later session.
 */
export class DatasetWriter {
  private info: DatasetInfo;
  private tasks: string[];
  private readonly episodes: EpisodeMeta[];
  private data: OpenFile<DataColumns> | null = null;
  private meta: OpenFile<EpisodeMeta[]> | null = null;
  private nextData: [number, number];
  private nextMeta: [number, number];
  private broken: Error | null = null;
  private closed = false;

  private constructor(
    readonly root: string,
    readonly spec: DatasetSpec,
    private readonly fs: DatasetFs,
    private readonly dataFileBytes: number,
    state: { info: DatasetInfo; tasks: string[]; episodes: EpisodeMeta[] },
  ) {
    this.info = state.info;
    this.tasks = state.tasks;
    this.episodes = state.episodes;
    const lastData = state.episodes.at(-1);
    const lastMeta = state.episodes.at(-1);
    this.nextData = lastData ? nextChunkFile(lastData.dataChunk, lastData.dataFile, this.info.chunks_size) : [0, 0];
    this.nextMeta = lastMeta ? nextChunkFile(lastMeta.metaChunk, lastMeta.metaFile, this.info.chunks_size) : [0, 0];
  }

  /**
   * Create a dataset in `root` (absent or empty folder), or with `resume` reopen one recorded with the same features.
   * Finishes a commit a crash interrupted and deletes leftovers of uncommitted ones.
   */
  static async open(root: string, options: DatasetWriterOptions): Promise<DatasetWriter> {
    const fs = options.fs ?? nodeFs();
    const spec = parseWith(datasetSpecSchema, options.spec, "dataset spec");
    const dataFileBytes = (options.dataFileSizeMb ?? 100) * 1024 * 1024;
    const infoFile = join(root, INFO_PATH);
    if (!fs.exists(infoFile)) {
      const leftovers = fs.list(root).filter((n) => n !== "meta" && n !== "data");
      if (leftovers.length > 0) {
        throw new DuetError(
          `${root}: not a dataset (no ${INFO_PATH}) and not empty (${leftovers.slice(0, 3).join(", ")}); choose a new folder`,
        );
      }
      acquireLock(fs, root);
      removeStrayTemps(fs, root);
      const info = emptyInfo(spec, options.dataFileSizeMb);
      if (options.scenario) info.scenario = { ...options.scenario };
      commitFiles(fs, root, [
        { path: STATS_PATH, data: "{}\n" },
        { path: INFO_PATH, data: JSON.stringify(info, null, 4) + "\n" },
      ]);
      return new DatasetWriter(root, spec, fs, dataFileBytes, { info, tasks: [], episodes: [] });
    }
    if (options.resume !== true) {
      throw new DuetError(
        `${root}: a dataset already exists here; pass --resume to append to it, or choose a new folder`,
      );
    }
    acquireLock(fs, root);
    try {
      finishPendingCommit(fs, root);
      removeStrayTemps(fs, root);
      const info = loadInfo(fs, root);
      const stored = info.scenario;
      if (options.scenario && stored && stored.sha256 !== options.scenario.sha256) {
        const name = (sc: DatasetScenario): string => `"${sc.name}" (sha256 ${sc.sha256.slice(0, 12)}…)`;
        throw new DuetError(
          `${infoFile}: this dataset was recorded in scenario ${name(stored)}; resuming it with scenario ` +
            `${name(options.scenario)} would mix the two. Resume with the same scenario, or record into a new folder`,
        );
      }
      const featureIssues = compareFeatures(featuresFromSpec(spec), info.features);
      if (info.fps !== spec.fps)
        featureIssues.push({ path: "fps", expected: String(spec.fps), received: String(info.fps) });
      if (featureIssues.length > 0)
        throw new ValidationError(
          `${infoFile} (dataset recorded with other features than this recording)`,
          featureIssues,
        );
      const tasks = await loadTasks(fs, root);
      const episodes = await loadEpisodes(fs, root);
      const issues = episodeIssues(info, tasks, episodes);
      if (issues.length > 0) throw new ValidationError(`${root}/meta (run \`duet dataset validate\`)`, issues);
      return new DatasetWriter(root, spec, fs, dataFileBytes, { info, tasks, episodes });
    } catch (e) {
      releaseLock(fs, root);
      throw e;
    }
  }

  /** Committed episodes. */
  get totalEpisodes(): number {
    return this.info.total_episodes;
  }

  /** Committed frames. */
  get totalFrames(): number {
    return this.info.total_frames;
  }

  /**
   * Commit one complete episode: its frames join a data file, its row the episodes file, and info.json, stats.json
   * and tasks.parquet are updated — all in one atomic commit. Returns the committed episode's metadata.
   */
  addEpisode(ep: EpisodeRecord): EpisodeMeta {
    return this.addEpisodes([ep])[0] as EpisodeMeta;
  }

  /**
   * Commit several complete episodes, in order, in one atomic commit: the dataset is the one `addEpisode` would make
   * of them one by one, but each data and episodes file is rewritten once instead of once per episode (merging
   * datasets). Returns the committed episodes' metadata.
   */
  addEpisodes(list: readonly EpisodeRecord[]): EpisodeMeta[] {
    if (this.closed) throw new DuetError(`${this.root}: the writer is closed`);
    if (this.broken)
      throw new DuetError(`${this.root}: an earlier commit failed (${this.broken.message}); reopen with --resume`);
    for (const ep of list) this.checkEpisode(ep);
    const { info: before } = this;
    let info = before;
    let tasks = this.tasks;
    let data = this.data;
    let meta = this.meta;
    let nextData = this.nextData;
    let nextMeta = this.nextMeta;
    const episodes = [...this.episodes];
    const rows: EpisodeMeta[] = [];
    const files: CommitFile[] = [];
    const featureKeys = Object.keys(info.features);
    const imageKeys = new Set(imageKeysOf(info.features));
    /** The data and episodes files this commit changed, written when left for a new one and at the end. */
    let dataDirty = false;
    let metaDirty = false;
    const writeData = (d: OpenFile<DataColumns>): void =>
      void files.push({
        path: formatPath(info.data_path, { chunk_index: d.chunk, file_index: d.file }),
        data: encodeDataFile(info.features, d.items),
      });
    const writeMeta = (m: OpenFile<EpisodeMeta[]>): void =>
      void files.push({
        path: formatPath(DEFAULT_EPISODES_PATH, { chunk_index: m.chunk, file_index: m.file }),
        data: writeEpisodesTable(m.items, featureKeys, imageKeys),
      });
    for (const ep of list) {
      const staged = this.stage(ep, info, tasks);
      tasks = staged.tasks;
      // Data file: the open one, or a new one when this episode would push it past the size limit.
      if (data === null || (data.items.rowGroups.length > 0 && data.bytes + staged.bytes > this.dataFileBytes)) {
        if (data !== null && dataDirty) writeData(data);
        const columns: Record<string, unknown[]> = {};
        for (const key of featureKeys) columns[key] = [];
        data = { chunk: nextData[0], file: nextData[1], items: { rowGroups: [], columns }, bytes: 0 };
        nextData = nextChunkFile(nextData[0], nextData[1], info.chunks_size);
      }
      const open = data;
      data = {
        ...open,
        items: {
          rowGroups: [...open.items.rowGroups, ep.length],
          columns: Object.fromEntries(
            Object.entries(open.items.columns).map(([key, values]) => [
              key,
              values.concat(staged.rows[key] as unknown[]),
            ]),
          ),
        },
        bytes: open.bytes + staged.bytes,
      };
      dataDirty = true;
      // Episodes file.
      if (meta === null || meta.items.length >= EPISODES_PER_META_FILE) {
        if (meta !== null && metaDirty) writeMeta(meta);
        meta = { chunk: nextMeta[0], file: nextMeta[1], items: [], bytes: 0 };
        nextMeta = nextChunkFile(nextMeta[0], nextMeta[1], info.chunks_size);
      }
      const row: EpisodeMeta = {
        episodeIndex: info.total_episodes,
        tasks: [ep.task],
        length: ep.length,
        dataChunk: data.chunk,
        dataFile: data.file,
        from: info.total_frames,
        to: info.total_frames + ep.length,
        metaChunk: meta.chunk,
        metaFile: meta.file,
        success: ep.success,
        mode: ep.mode,
        seed: ep.seed,
        stats: staged.stats,
      };
      meta = { ...meta, items: [...meta.items, row] };
      metaDirty = true;
      episodes.push(row);
      rows.push(row);
      info = {
        ...info,
        total_episodes: info.total_episodes + 1,
        total_frames: info.total_frames + ep.length,
        total_tasks: tasks.length,
        splits: { train: `0:${info.total_episodes + 1}` },
      };
    }
    if (data !== null && dataDirty) writeData(data);
    if (meta !== null && metaDirty) writeMeta(meta);
    if (tasks !== this.tasks || !this.fs.exists(join(this.root, TASKS_PATH))) {
      files.push({ path: TASKS_PATH, data: writeTasksTable(tasks) });
    }
    const aggregated = aggregateStats(episodes.map((e) => e.stats));
    files.push({ path: STATS_PATH, data: JSON.stringify(statsToFile(aggregated, imageKeys), null, 4) + "\n" });
    files.push({ path: INFO_PATH, data: JSON.stringify(info, null, 4) + "\n" });

    try {
      commitFiles(this.fs, this.root, files);
    } catch (e) {
      this.broken = e as Error;
      const which =
        list.length === 1
          ? `episode ${before.total_episodes}`
          : `episodes ${before.total_episodes}-${info.total_episodes - 1}`;
      throw new DuetError(`${this.root}: committing ${which} failed (${(e as Error).message})`);
    }
    this.info = info;
    this.tasks = tasks;
    this.episodes.push(...rows);
    this.data = data;
    this.nextData = nextData;
    this.meta = meta;
    this.nextMeta = nextMeta;
    return rows;
  }

  /**
   * One episode's part of a commit, as the episode after `info`'s last: its frame columns, its statistics, its size
   * in a data file, and the task list with its task.
   */
  private stage(
    ep: EpisodeRecord,
    info: DatasetInfo,
    tasks: string[],
  ): { rows: Record<string, unknown[]>; stats: DatasetStats; bytes: number; tasks: string[] } {
    const { spec } = this;
    const ds = spec.stateNames.length;
    const da = spec.actionNames.length;
    const de = spec.environmentNames?.length ?? 0;
    const ns = spec.audioSamples ?? 0;
    const T = ep.length;
    const episodeIndex = info.total_episodes;
    const from = info.total_frames;
    let taskIndex = tasks.indexOf(ep.task);
    if (taskIndex < 0) {
      tasks = [...tasks, ep.task];
      taskIndex = tasks.length - 1;
    }

    // Frame columns of this episode.
    const timestamp = new Float32Array(T);
    const frameIndex = new Float64Array(T);
    const index = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      timestamp[t] = t / info.fps;
      frameIndex[t] = t;
      index[t] = from + t;
    }
    const constant = (v: number) => new Float64Array(T).fill(v);
    const stats: DatasetStats = {
      [STATE_KEY]: vectorStats(ep.state, T, ds),
      [ACTION_KEY]: vectorStats(ep.action, T, da),
      ...(de > 0 ? { [ENVIRONMENT_KEY]: vectorStats(ep.environment as Float32Array, T, de) } : {}),
      // Sound: one channel's statistics over all its samples, not S per-sample ones (see audioStats).
      ...(ns > 0 ? { [AUDIO_KEY]: audioStats(ep.audio as Float32Array, T) } : {}),
      [TIMESTAMP_KEY]: vectorStats(timestamp, T, 1),
      [FRAME_INDEX_KEY]: vectorStats(frameIndex, T, 1),
      [EPISODE_INDEX_KEY]: vectorStats(constant(episodeIndex), T, 1),
      [INDEX_KEY]: vectorStats(index, T, 1),
      [TASK_INDEX_KEY]: vectorStats(constant(taskIndex), T, 1),
    };
    let imageBytes = 0;
    for (const cam of spec.cameras) {
      const frames = ep.images[cam.name] as Uint8Array[];
      for (const f of frames) imageBytes += f.length;
      stats[imageKey(cam.name)] = ep.imageStats?.[cam.name] ?? pixelStats(frames);
    }
    const rows: Record<string, unknown[]> = {
      [STATE_KEY]: rowsOf(ep.state, T, ds),
      [ACTION_KEY]: rowsOf(ep.action, T, da),
      ...(de > 0 ? { [ENVIRONMENT_KEY]: rowsOf(ep.environment as Float32Array, T, de) } : {}),
      ...(ns > 0 ? { [AUDIO_KEY]: rowsOf(ep.audio as Float32Array, T, ns) } : {}),
      [TIMESTAMP_KEY]: Array.from(timestamp),
      [FRAME_INDEX_KEY]: Array.from(frameIndex, (v) => BigInt(v)),
      [EPISODE_INDEX_KEY]: new Array<bigint>(T).fill(BigInt(episodeIndex)),
      [INDEX_KEY]: Array.from(index, (v) => BigInt(v)),
      [TASK_INDEX_KEY]: new Array<bigint>(T).fill(BigInt(taskIndex)),
    };
    for (const cam of spec.cameras) {
      rows[imageKey(cam.name)] = (ep.images[cam.name] as Uint8Array[]).map((bytes) => ({ bytes, path: null }));
    }
    return { rows, stats, bytes: imageBytes + T * (4 * (ds + da + de + ns) + 48), tasks };
  }

  private checkEpisode(ep: EpisodeRecord): void {
    const { spec } = this;
    const problems: string[] = [];
    const ds = spec.stateNames.length;
    const da = spec.actionNames.length;
    if (!Number.isInteger(ep.length) || ep.length < 1) problems.push(`length ${ep.length} (expected ≥ 1)`);
    if (ep.state.length !== ep.length * ds)
      problems.push(`state has ${ep.state.length} numbers (expected ${ep.length}×${ds})`);
    if (ep.action.length !== ep.length * da)
      problems.push(`action has ${ep.action.length} numbers (expected ${ep.length}×${da})`);
    for (const v of [ep.state, ep.action])
      if (v.some((x) => !Number.isFinite(x))) problems.push("state/action contain NaN or Infinity");
    const de = spec.environmentNames?.length;
    if (de === undefined) {
      if (ep.environment !== undefined)
        problems.push("environment state given (the dataset records none: its spec has no environmentNames)");
    } else if (ep.environment?.length !== ep.length * de) {
      problems.push(`environment has ${ep.environment?.length ?? 0} numbers (expected ${ep.length}×${de})`);
    } else if (ep.environment.some((x) => !Number.isFinite(x))) {
      problems.push("environment state contains NaN or Infinity");
    }
    const ns = spec.audioSamples;
    if (ns === undefined) {
      if (ep.audio !== undefined) problems.push("audio given (the dataset records none: its spec has no audioSamples)");
    } else if (ep.audio?.length !== ep.length * ns) {
      problems.push(`audio has ${ep.audio?.length ?? 0} samples (expected ${ep.length}×${ns})`);
    } else if (ep.audio.some((x) => !Number.isFinite(x))) {
      problems.push("audio contains NaN or Infinity");
    }
    for (const cam of spec.cameras) {
      const frames = ep.images[cam.name];
      if (frames?.length !== ep.length)
        problems.push(`camera ${cam.name} has ${frames?.length ?? 0} frames (expected ${ep.length})`);
    }
    if (problems.length > 0) throw new DuetError(`${this.root}: episode rejected: ${problems.join("; ")}`);
  }

  /** Release the writer lock. Committed episodes stay; nothing is pending. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    releaseLock(this.fs, this.root);
  }
}

/** `values: T,D` → T plain arrays of D numbers (parquet list values). */
function rowsOf(values: Float32Array, T: number, D: number): number[][] {
  const out: number[][] = new Array<number[]>(T);
  for (let t = 0; t < T; t++) out[t] = Array.from(values.subarray(t * D, (t + 1) * D));
  return out;
}

function pixelStats(frames: readonly Uint8Array[]) {
  const acc = new ImageStatsAccumulator();
  for (const png of frames) acc.add(decodePng(png).data);
  return acc.finish(frames.length);
}
