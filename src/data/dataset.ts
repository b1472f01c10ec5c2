// Reading a LeRobot v3.0 dataset for training: validated metadata, frames loaded per data file (a damaged file only
// makes its own episodes unreadable), decoded camera frames kept in a bounded LRU cache.
// Over 400 lines because it is the reader of one format: metadata, per-file loading, frames and their cache, the
// validation of each, which share the loaded state.
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
  pngHeader,
  type CameraFrame,
  type Issue,
} from "../core/index.ts";
import { commitPending, finishPendingCommit, liveWriter } from "./commit.ts";
import { dataFileIssues } from "./datafile.ts";
import type { EpisodeRecord } from "./episode.ts";
import type { EpisodeMeta } from "./episodes.ts";
import { nodeFs, type DatasetFs } from "./fs.ts";
import {
  EPISODE_INDEX_KEY,
  FRAME_INDEX_KEY,
  INDEX_KEY,
  INFO_PATH,
  TIMESTAMP_KEY,
  compareFeatures,
  featuresFromSpec,
  formatPath,
  specFromInfo,
  type DatasetInfo,
  type DatasetSpec,
} from "./info.ts";
import { episodeIssues, loadEpisodes, loadInfo, loadStats, loadTasks } from "./meta.ts";
import { openParquet, readRows, rowCount } from "./parquet.ts";
import type { DatasetFeatureStats, DatasetStats } from "./stats.ts";

/** Bad values listed one by one in a damaged data file's error; the rest are counted. */
const LISTED_ISSUES = 20;

/**
 * A data file whose rows hold bad values (images that are not PNG, vectors of the wrong size, wrong indices): the
 * first values listed, then their count and, per episode, how many of its rows are bad. `episodes`: the episodes with
 * bad rows (the file's other episodes are sound, though the file loads as a whole).
 */
export class DamagedDataFile extends ValidationError {
  constructor(
    file: string,
    issues: readonly Issue[],
    readonly episodes: readonly number[],
  ) {
    super(file, issues);
  }
}

export interface OpenDatasetOptions {
  /** File system. Default: node:fs. */
  fs?: DatasetFs;
  /** Refuse a dataset whose features differ from these (another robot, other cameras or sizes). */
  expect?: DatasetSpec;
  /** Budget of the decoded-frame cache in MB. Default 256. */
  imageCacheMb?: number;
}

/** Frames of one data file, in memory. Vectors row-major over the file's rows. */
interface FileFrames {
  /** Global `index` of the file's first row. */
  start: number;
  /**
   * `state: R,Ds`, `action: R,Da`, `environment: R,De` (empty without environment state), `audio: R,S` (empty without
   * audio), `timestamp: R`.
   */
  state: Float32Array;
  action: Float32Array;
  environment: Float32Array;
  audio: Float32Array;
  timestamp: Float32Array;
  /** Camera name → R PNG frames. */
  png: Record<string, Uint8Array[]>;
}

/** One episode's frames. Vectors are views into the loaded file (do not modify). */
export interface EpisodeFrames {
  meta: EpisodeMeta;
  /** `state: T,Ds`. */
  state: Float32Array;
  /** `action: T,Da`. */
  action: Float32Array;
  /** `environment: T,De`: privileged scene state; present exactly when the dataset records it. */
  environment?: Float32Array;
  /** `audio: T,S`: each frame's mono sound at AUDIO_SAMPLE_RATE; present exactly when the dataset records it. */
  audio?: Float32Array;
  /** `timestamp: T` seconds from the episode start. */
  timestamp: Float32Array;
  /** Camera name → T decoded RGB frames. */
  images: Record<string, CameraFrame[]>;
}

const WAIT_FOR_COMMIT_MS = 3000;

/** A dataset opened for reading. Metadata is loaded and checked at `open`; frames on demand. */
export class Dataset {
  private readonly files = new Map<string, Promise<FileFrames>>();
  private readonly cache: FrameCache;
  private readonly camIndex: Map<string, number>;
  /** Per episode, once its file is loaded: the file's frames and the episode's first row in it. */
  private readonly epFile: (FileFrames | undefined)[] = [];
  private readonly epOffset: number[] = [];

  private constructor(
    readonly root: string,
    readonly info: DatasetInfo,
    readonly spec: DatasetSpec,
    readonly tasks: readonly string[],
    readonly episodes: readonly EpisodeMeta[],
    private readonly statsValue: DatasetStats,
    private readonly fs: DatasetFs,
    imageCacheMb: number,
  ) {
    this.cache = new FrameCache(imageCacheMb * 1024 * 1024);
    this.camIndex = new Map(spec.cameras.map((c, i) => [c.name, i]));
  }

  /** Open and check a dataset's metadata. Errors name the file and field. */
  static async open(root: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
    const fs = options.fs ?? nodeFs();
    if (!fs.exists(join(root, INFO_PATH))) {
      throw new DuetError(`${join(root, INFO_PATH)}: cannot read file (ENOENT); ${root} is not a dataset`);
    }
    await settlePendingCommit(fs, root);
    const info = loadInfo(fs, root);
    const { spec, issues } = specFromInfo(info);
    if (issues.length > 0) throw new ValidationError(join(root, INFO_PATH), issues);
    if (options.expect) {
      const diff = compareFeatures(featuresFromSpec(options.expect), info.features);
      if (info.fps !== options.expect.fps)
        diff.push({ path: "fps", expected: String(options.expect.fps), received: String(info.fps) });
      if (diff.length > 0) {
        throw new ValidationError(
          `${join(root, INFO_PATH)} (recorded with other features than expected — another robot or camera setup?)`,
          diff,
        );
      }
    }
    const stats = loadStats(fs, root);
    const tasks = await loadTasks(fs, root);
    const episodes = await loadEpisodes(fs, root);
    const metaIssues = episodeIssues(info, tasks, episodes);
    if (metaIssues.length > 0) throw new ValidationError(join(root, "meta"), metaIssues);
    return new Dataset(root, info, spec, tasks, episodes, stats, fs, options.imageCacheMb ?? 256);
  }

  /**
   * Normalization statistics from meta/stats.json (computed at write time, never recomputed here), by feature key:
   * `STATE_KEY`, `ACTION_KEY`, `ENVIRONMENT_KEY` (when `spec.environmentNames` is set), `AUDIO_KEY` (when
   * `spec.audioSamples` is set: one entry per statistic, over all samples — see `audioStats`), image keys, ….
   */
  stats(): DatasetStats {
    return this.statsValue;
  }

  get totalFrames(): number {
    return this.info.total_frames;
  }

  /** Path (relative to the root) of the data file holding an episode. */
  dataFileOf(episode: number): string {
    const e = this.episodeMeta(episode);
    return formatPath(this.info.data_path, { chunk_index: e.dataChunk, file_index: e.dataFile });
  }

  private episodeMeta(episode: number): EpisodeMeta {
    const e = this.episodes[episode];
    if (e === undefined)
      throw new RangeError(`${this.root}: episode ${episode} does not exist (${this.episodes.length} episodes)`);
    return e;
  }

  /** Load the data files of `episodes` (default: all) into memory. Needed before the synchronous accessors. */
  async load(episodes: readonly number[] = this.episodes.map((e) => e.episodeIndex)): Promise<void> {
    for (const rel of new Set(episodes.map((e) => this.dataFileOf(e)))) await this.loadFile(rel);
  }

  private loadFile(rel: string): Promise<FileFrames> {
    let p = this.files.get(rel);
    if (p === undefined) {
      p = this.readFile(rel).then((f) => {
        for (const e of this.episodes) {
          if (this.dataFileOf(e.episodeIndex) !== rel) continue;
          this.epFile[e.episodeIndex] = f;
          this.epOffset[e.episodeIndex] = e.from - f.start;
        }
        return f;
      });
      // A failed load is not cached: the next access reports the error again.
      p.catch(() => this.files.delete(rel));
      this.files.set(rel, p);
    }
    return p;
  }

  private async readFile(rel: string): Promise<FileFrames> {
    const file = join(this.root, rel);
    const inFile = this.episodes.filter((e) => this.dataFileOf(e.episodeIndex) === rel);
    const start = inFile[0]?.from ?? 0;
    const rows = inFile.reduce((a, e) => a + e.length, 0);
    let bytes: Uint8Array;
    try {
      bytes = this.fs.readFile(file);
    } catch (e) {
      throw new DuetError(
        `${file}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)}); episodes ${range(inFile)} are unreadable`,
      );
    }
    const pq = openParquet(file, bytes);
    const schemaIssues = dataFileIssues(pq, this.info.features);
    if (schemaIssues.length > 0) throw new ValidationError(file, schemaIssues);
    if (rowCount(pq) !== rows) {
      throw new ValidationError(file, [
        { path: "rows", expected: `${rows} (episodes ${range(inFile)})`, received: String(rowCount(pq)) },
      ]);
    }
    const ds = this.spec.stateNames.length;
    const da = this.spec.actionNames.length;
    const de = this.spec.environmentNames?.length ?? 0;
    const ns = this.spec.audioSamples ?? 0;
    const cams = this.spec.cameras;
    const keys = [
      STATE_KEY,
      ACTION_KEY,
      ...(de > 0 ? [ENVIRONMENT_KEY] : []),
      ...(ns > 0 ? [AUDIO_KEY] : []),
      TIMESTAMP_KEY,
      INDEX_KEY,
      EPISODE_INDEX_KEY,
      FRAME_INDEX_KEY,
      ...cams.map((c) => imageKey(c.name)),
    ];
    const data = await readRows(pq, keys);
    const out: FileFrames = {
      start,
      state: new Float32Array(rows * ds),
      action: new Float32Array(rows * da),
      environment: new Float32Array(rows * de),
      audio: new Float32Array(rows * ns),
      timestamp: new Float32Array(rows),
      png: Object.fromEntries(cams.map((c) => [c.name, new Array<Uint8Array>(rows)])),
    };
    const issues: Issue[] = [];
    /** Per damaged episode: its rows with at least one bad value, and its length. */
    const damaged = new Map<number, { rows: number; length: number }>();
    let badValues = 0;
    let badRow = -1;
    let episode: EpisodeMeta | undefined;
    const bad = (r: number, column: string, expected: string, received: unknown) => {
      badValues++;
      if (issues.length < LISTED_ISSUES)
        issues.push({ path: `row ${r}.${column}`, expected, received: String(received) });
      if (badRow === r || episode === undefined) return;
      badRow = r;
      const d = damaged.get(episode.episodeIndex) ?? { rows: 0, length: episode.length };
      d.rows++;
      damaged.set(episode.episodeIndex, d);
    };
    let r = 0;
    for (const e of inFile) {
      episode = e;
      for (let t = 0; t < e.length; t++, r++) {
        const row = data[r] as Record<string, unknown>;
        const state = row[STATE_KEY];
        const action = row[ACTION_KEY];
        if (!Array.isArray(state) || state.length !== ds)
          bad(r, STATE_KEY, `${ds} numbers`, Array.isArray(state) ? `${state.length} numbers` : state);
        else out.state.set(state as number[], r * ds);
        if (!Array.isArray(action) || action.length !== da)
          bad(r, ACTION_KEY, `${da} numbers`, Array.isArray(action) ? `${action.length} numbers` : action);
        else out.action.set(action as number[], r * da);
        if (de > 0) {
          const env = row[ENVIRONMENT_KEY];
          if (!Array.isArray(env) || env.length !== de)
            bad(r, ENVIRONMENT_KEY, `${de} numbers`, Array.isArray(env) ? `${env.length} numbers` : env);
          else out.environment.set(env as number[], r * de);
        }
        if (ns > 0) {
          const audio = row[AUDIO_KEY];
          if (!Array.isArray(audio) || audio.length !== ns)
            bad(r, AUDIO_KEY, `${ns} samples`, Array.isArray(audio) ? `${audio.length} samples` : audio);
          else out.audio.set(audio as number[], r * ns);
        }
        out.timestamp[r] = row[TIMESTAMP_KEY] as number;
        if (Number(row[INDEX_KEY]) !== e.from + t) bad(r, INDEX_KEY, String(e.from + t), row[INDEX_KEY]);
        if (Number(row[EPISODE_INDEX_KEY]) !== e.episodeIndex)
          bad(r, EPISODE_INDEX_KEY, String(e.episodeIndex), row[EPISODE_INDEX_KEY]);
        if (Number(row[FRAME_INDEX_KEY]) !== t) bad(r, FRAME_INDEX_KEY, String(t), row[FRAME_INDEX_KEY]);
        for (const cam of cams) {
          const key = imageKey(cam.name);
          const img = row[key] as { bytes?: unknown } | null | undefined;
          const png = img?.bytes;
          const header = png instanceof Uint8Array ? pngHeader(png) : null;
          if (header === null || !(png instanceof Uint8Array))
            bad(r, `${key}.bytes`, "PNG bytes", png === undefined || png === null ? "nothing" : "other bytes");
          else if (header.width !== cam.width || header.height !== cam.height)
            bad(r, key, `${cam.width}x${cam.height}`, `${header.width}x${header.height}`);
          else (out.png[cam.name] as Uint8Array[])[r] = png;
        }
      }
    }
    if (issues.length > 0) {
      if (badValues > issues.length) {
        issues.push({
          path: "(more rows)",
          expected: "valid values",
          received: `${badValues - issues.length} more bad values`,
        });
      }
      for (const [index, d] of damaged) {
        issues.push({
          path: `episode ${index}`,
          expected: "readable rows",
          received: `${d.rows} of its ${d.length} rows bad`,
        });
      }
      throw new DamagedDataFile(file, issues, [...damaged.keys()]);
    }
    return out;
  }

  private fileOf(episode: number): FileFrames {
    const f = this.epFile[episode];
    if (f === undefined) {
      this.episodeMeta(episode);
      throw new DuetError(`${this.root}: episode ${episode} is not loaded; call load() first`);
    }
    return f;
  }

  /** One episode's frames, images decoded. Loads its data file if needed. */
  async episode(episode: number): Promise<EpisodeFrames> {
    await this.loadFile(this.dataFileOf(episode));
    const f = this.fileOf(episode);
    const offset = this.epOffset[episode] as number;
    const meta = this.episodeMeta(episode);
    const ds = this.spec.stateNames.length;
    const da = this.spec.actionNames.length;
    const de = this.spec.environmentNames?.length ?? 0;
    const ns = this.spec.audioSamples ?? 0;
    const T = meta.length;
    const images: Record<string, CameraFrame[]> = {};
    for (const cam of this.spec.cameras) {
      images[cam.name] = Array.from({ length: T }, (_, t) => ({
        width: cam.width,
        height: cam.height,
        data: this.frame(cam.name, episode, t),
      }));
    }
    return {
      meta,
      state: f.state.subarray(offset * ds, (offset + T) * ds),
      action: f.action.subarray(offset * da, (offset + T) * da),
      ...(de > 0 ? { environment: f.environment.subarray(offset * de, (offset + T) * de) } : {}),
      ...(ns > 0 ? { audio: f.audio.subarray(offset * ns, (offset + T) * ns) } : {}),
      timestamp: f.timestamp.subarray(offset, offset + T),
      images,
    };
  }

  /**
   * One episode as a writer takes it (`DatasetWriter.addEpisodes`), to commit it into another dataset: its vectors
   * copied, its camera frames as the PNG bytes stored (not decoded), its pixel statistics as stored. Loads its data
   * file if needed.
   */
  async record(episode: number): Promise<EpisodeRecord> {
    await this.loadFile(this.dataFileOf(episode));
    const f = this.fileOf(episode);
    const offset = this.epOffset[episode] as number;
    const meta = this.episodeMeta(episode);
    const T = meta.length;
    const task = meta.tasks[0];
    if (task === undefined || meta.tasks.length > 1) {
      throw new DuetError(
        `${this.root}: episode ${episode} has ${meta.tasks.length} tasks (${JSON.stringify(meta.tasks)}); duet ` +
          "writes episodes with exactly one",
      );
    }
    const rows = (values: Float32Array, d: number): Float32Array => values.slice(offset * d, (offset + T) * d);
    const de = this.spec.environmentNames?.length ?? 0;
    const ns = this.spec.audioSamples ?? 0;
    const images: Record<string, Uint8Array[]> = {};
    const imageStats: Record<string, DatasetFeatureStats> = {};
    for (const cam of this.spec.cameras) {
      images[cam.name] = (f.png[cam.name] as Uint8Array[]).slice(offset, offset + T);
      const stats = meta.stats[imageKey(cam.name)];
      if (stats !== undefined) imageStats[cam.name] = stats;
    }
    return {
      length: T,
      state: rows(f.state, this.spec.stateNames.length),
      action: rows(f.action, this.spec.actionNames.length),
      ...(de > 0 ? { environment: rows(f.environment, de) } : {}),
      ...(ns > 0 ? { audio: rows(f.audio, ns) } : {}),
      images,
      imageStats,
      task,
      success: meta.success,
      mode: meta.mode,
      seed: meta.seed,
    };
  }

  /** Forget every loaded data file and decoded frame (reading a dataset larger than memory file by file). */
  release(): void {
    this.files.clear();
    this.epFile.length = 0;
    this.epOffset.length = 0;
    this.cache.clear();
  }

  /** `out: Ds` ← state of frame t of an (already loaded) episode. Allocates nothing. */
  readState(episode: number, t: number, out: Float32Array, outOffset = 0): void {
    const f = this.fileOf(episode);
    const offset = this.epOffset[episode] as number;
    const ds = this.spec.stateNames.length;
    const src = f.state;
    for (let j = 0, k = (offset + t) * ds; j < ds; j++, k++) out[outOffset + j] = src[k] as number;
  }

  /** `out: Da` ← action of frame t of an (already loaded) episode. Allocates nothing. */
  readAction(episode: number, t: number, out: Float32Array, outOffset = 0): void {
    const f = this.fileOf(episode);
    const offset = this.epOffset[episode] as number;
    const da = this.spec.actionNames.length;
    const src = f.action;
    for (let j = 0, k = (offset + t) * da; j < da; j++, k++) out[outOffset + j] = src[k] as number;
  }

  /**
   * `out: De` ← environment state of frame t of an (already loaded) episode. Allocates nothing. Throws when the
   * dataset records no environment state (`spec.environmentNames` undefined).
   */
  readEnvironment(episode: number, t: number, out: Float32Array, outOffset = 0): void {
    const names = this.spec.environmentNames;
    if (names === undefined) {
      throw new DuetError(
        `${this.root}: the dataset has no ${ENVIRONMENT_KEY} (recorded without environment state); ` +
          `train without the environment-state target, or record the dataset again from a simulator that provides it`,
      );
    }
    const f = this.fileOf(episode);
    const offset = this.epOffset[episode] as number;
    const de = names.length;
    const src = f.environment;
    for (let j = 0, k = (offset + t) * de; j < de; j++, k++) out[outOffset + j] = src[k] as number;
  }

  /**
   * `out: S` ← the sound of frame t of an (already loaded) episode: the S mono samples (AUDIO_SAMPLE_RATE) of the
   * control period that ended at that frame's observation. Allocates nothing. Throws when the dataset records no audio
   * (`spec.audioSamples` undefined).
   */
  readAudio(episode: number, t: number, out: Float32Array, outOffset = 0): void {
    const ns = this.spec.audioSamples;
    if (ns === undefined) {
      throw new DuetError(
        `${this.root}: the dataset has no ${AUDIO_KEY} (recorded without sound); ` +
          `train without audio, or record the dataset again with \`duet record --audio\``,
      );
    }
    const f = this.fileOf(episode);
    const offset = this.epOffset[episode] as number;
    const src = f.audio;
    for (let j = 0, k = (offset + t) * ns; j < ns; j++, k++) out[outOffset + j] = src[k] as number;
  }

  /**
   * Decoded RGB frame (`H,W,3` uint8) of camera `camera` at frame t of an (already loaded) episode, from the LRU
   * cache or decoded now. The returned array is shared with the cache: copy it, do not modify it.
   */
  frame(camera: string, episode: number, t: number): Uint8Array {
    const cam = this.camIndex.get(camera);
    if (cam === undefined)
      throw new RangeError(`${this.root}: no camera ${camera} (cameras: ${[...this.camIndex.keys()].join(", ")})`);
    const f = this.fileOf(episode);
    const offset = this.epOffset[episode] as number;
    const key = (f.start + offset + t) * this.camIndex.size + cam;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const png = (f.png[camera] as Uint8Array[])[offset + t] as Uint8Array;
    const data = decodePng(png, `${this.root}: episode ${episode} camera ${camera} frame ${t}`).data;
    this.cache.set(key, data);
    return data;
  }
}

function range(episodes: readonly EpisodeMeta[]): string {
  const first = episodes[0]?.episodeIndex;
  const last = episodes.at(-1)?.episodeIndex;
  return first === undefined ? "(none)" : first === last ? String(first) : `${first}-${last}`;
}

/** Wait out a commit in flight by a live writer; finish one a crashed writer left. */
async function settlePendingCommit(fs: DatasetFs, root: string): Promise<void> {
  if (!commitPending(fs, root)) return;
  if (liveWriter(fs, root) === null) {
    finishPendingCommit(fs, root);
    return;
  }
  const deadline = Date.now() + WAIT_FOR_COMMIT_MS;
  while (commitPending(fs, root)) {
    if (Date.now() > deadline)
      throw new DuetError(`${root}: a commit by the writing process did not finish within ${WAIT_FOR_COMMIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Least-recently-used cache of decoded frames, bounded in bytes. */
class FrameCache {
  private readonly map = new Map<number, Uint8Array>();
  private bytes = 0;
  constructor(private readonly budget: number) {}

  get(key: number): Uint8Array | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  set(key: number, value: Uint8Array): void {
    this.map.set(key, value);
    this.bytes += value.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.budget || k === key) break;
      this.map.delete(k);
      this.bytes -= v.length;
    }
  }
}
