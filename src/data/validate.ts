// `duet dataset validate`: check every file of a dataset against the LeRobot v3.0 layout and against each other,
// collecting every problem (file, field, expected, received) instead of stopping at the first.
import { join } from "node:path";
import { AUDIO_KEY, DuetError, STATE_KEY, ValidationError, type Issue } from "../core/index.ts";
import { commitPending, finishPendingCommit, liveWriter } from "./commit.ts";
import { DamagedDataFile, Dataset } from "./dataset.ts";
import type { EpisodeMeta } from "./episodes.ts";
import { nodeFs, type DatasetFs } from "./fs.ts";
import {
  INFO_PATH,
  STATS_PATH,
  TASKS_PATH,
  compareFeatures,
  featuresFromSpec,
  formatPath,
  specFromInfo,
  type DatasetInfo,
  type DatasetSpec,
} from "./info.ts";
import { dataFiles, episodeIssues, episodesFiles, loadInfo, loadStats, loadTasks } from "./meta.ts";
import { readEpisodesTable } from "./episodes.ts";
import { openParquet, readRows } from "./parquet.ts";
import { EPISODE_INDEX_KEY, FRAME_INDEX_KEY, TIMESTAMP_KEY } from "./info.ts";
import { aggregateStats, STAT_KEYS, type DatasetStats } from "./stats.ts";
import { dataFileIssues, imageKeysOf } from "./datafile.ts";

/** One problem: which file, which field, what was expected, what was found. */
export interface Problem extends Issue {
  file: string;
}

/** One line of a report: the file, the field, what was expected and what was found. */
export function formatProblem(p: Problem): string {
  return `  - ${p.file}: ${p.path}: expected ${p.expected}, received ${p.received}`;
}

export interface ValidationReport {
  ok: boolean;
  root: string;
  episodes: number;
  frames: number;
  problems: Problem[];
  /**
   * Things that do not make the dataset invalid but are probably wrong: frame-to-frame jumps of observation.state far
   * beyond a robot's speed (see `jumpWarnings`).
   */
  warnings: Problem[];
  /**
   * Episodes with damaged frames: those whose rows hold bad values, or every episode of a data file that cannot be
   * read at all. A data file loads as a whole, so training refuses its sound episodes too until it is repaired.
   */
  damagedEpisodes: number[];
  /**
   * Each data file that failed to load: its path (relative to the dataset), its damaged episodes, and the sound
   * episodes it also holds, which cannot be loaded either until the file is repaired.
   */
  damagedFiles: { file: string; damaged: number[]; sound: number[] }[];
  /** Data files that meta/episodes points at (damaged or not). */
  dataFiles: number;
  /** True when an interrupted commit was finished (rolled forward) before checking. */
  finishedCommit: boolean;
}

export interface ValidateOptions {
  fs?: DatasetFs;
  /** Also require these features (the robot and cameras a consumer expects). */
  expect?: DatasetSpec;
  /** Speed limits for the jump warning (default DEFAULT_SPEED_LIMITS). */
  speedLimits?: SpeedLimits;
}

/** Speed limits of a robot's state slots: arm joints (rad/s) and grippers (m/s per finger). */
export interface SpeedLimits {
  joint: number;
  gripper: number;
}

/**
 * duet's Panda pair (robots/panda-pair.json, the robot the shipped scenarios and interfaces describe): its fastest arm
 * joint and its gripper. A dataset does not name its robot description, so these are the defaults.
 */
export const DEFAULT_SPEED_LIMITS: SpeedLimits = { joint: 2.61, gripper: 0.1 };

/** A state change bigger than this many times (speed limit / fps) between two frames is warned about. */
export const JUMP_FACTOR = 2;

/** Timestamps must be frame_index / fps within this many seconds. */
export const TIMESTAMP_TOLERANCE_S = 1e-4;

/** Check a dataset folder; never throws for a bad dataset (problems are returned), only for a bug. */
export async function validateDataset(root: string, options: ValidateOptions = {}): Promise<ValidationReport> {
  const fs = options.fs ?? nodeFs();
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const report = (): ValidationReport => ({
    ok: problems.length === 0,
    root,
    episodes: info?.total_episodes ?? 0,
    frames: info?.total_frames ?? 0,
    problems,
    warnings,
    damagedEpisodes: [...damaged].sort((a, b) => a - b),
    damagedFiles,
    dataFiles: byFile.size,
    finishedCommit,
  });
  const damaged = new Set<number>();
  const damagedFiles: ValidationReport["damagedFiles"] = [];
  let byFile = new Map<string, EpisodeMeta[]>();
  let finishedCommit = false;
  /** The episodes with bad rows in the data file `attempt` failed on last (DamagedDataFile), else null. */
  let damagedRows: readonly number[] | null = null;
  /** Run `f`; record what it throws as problems of `file`. */
  const attempt = async <T>(file: string, f: () => T | Promise<T>): Promise<T | undefined> => {
    damagedRows = null;
    try {
      return await f();
    } catch (e) {
      if (e instanceof DamagedDataFile) damagedRows = e.episodes;
      if (e instanceof ValidationError) {
        for (const i of e.issues) problems.push({ file: e.source, ...i });
      } else if (e instanceof DuetError) {
        problems.push({ file, path: "(file)", expected: "a readable, valid file", received: e.message });
      } else {
        throw e;
      }
      return undefined;
    }
  };

  if (commitPending(fs, root) && liveWriter(fs, root) === null) {
    finishedCommit = (await attempt(join(root, "meta"), () => finishPendingCommit(fs, root))) ?? false;
  }
  const info = await attempt(join(root, INFO_PATH), () => loadInfo(fs, root));
  if (info === undefined) return report();
  const infoFile = join(root, INFO_PATH);
  const { issues: specIssues } = specFromInfo(info);
  for (const i of specIssues) problems.push({ file: infoFile, ...i });
  if (options.expect) {
    const diff = compareFeatures(featuresFromSpec(options.expect), info.features);
    if (info.fps !== options.expect.fps)
      diff.push({ path: "fps", expected: String(options.expect.fps), received: String(info.fps) });
    for (const i of diff) problems.push({ file: infoFile, ...i });
  }
  if (info.total_episodes > 0 && !fs.exists(join(root, TASKS_PATH))) {
    problems.push({
      file: join(root, TASKS_PATH),
      path: "(file)",
      expected: "a tasks table",
      received: "nothing (missing)",
    });
  }
  const tasks = (await attempt(join(root, TASKS_PATH), () => loadTasks(fs, root))) ?? [];
  const episodes: EpisodeMeta[] = [];
  let episodesReadable = true;
  for (const rel of episodesFiles(fs, root)) {
    const file = join(root, rel);
    const rows = await attempt(file, () => readEpisodesTable(file, fs.readFile(file)));
    if (rows === undefined) episodesReadable = false;
    else episodes.push(...rows);
  }
  for (const i of episodeIssues(info, tasks, episodes)) problems.push({ file: join(root, "meta"), ...i });
  // Up to here, problems make the dataset unreadable; stats problems below do not stop training from reading frames.
  const metaSound = problems.length === 0;
  const stats = await attempt(join(root, STATS_PATH), () => loadStats(fs, root));
  if (stats !== undefined) statsProblems(join(root, STATS_PATH), info, stats, episodes, problems);
  if (specIssues.length > 0) return report();

  // Data files: each one the episodes point at, and no others.
  byFile = new Map<string, EpisodeMeta[]>();
  for (const e of episodes) {
    const rel = formatPath(info.data_path, { chunk_index: e.dataChunk, file_index: e.dataFile });
    byFile.set(rel, [...(byFile.get(rel) ?? []), e]);
  }
  for (const rel of episodesReadable ? dataFiles(fs, root) : []) {
    if (!byFile.has(rel)) {
      problems.push({
        file: join(root, rel),
        path: "(file)",
        expected: "a data file referenced by meta/episodes",
        received: "an unreferenced file",
      });
    }
  }
  // With sound metadata, load each file as training would (schema, rows, indices, PNG headers); else check schema only.
  const ds =
    metaSound && stats !== undefined
      ? await attempt(root, () => Dataset.open(root, { fs, imageCacheMb: 1 }))
      : undefined;
  for (const [rel, list] of byFile) {
    const ok = await attempt(join(root, rel), async () => {
      if (ds === undefined) {
        const file = join(root, rel);
        const schema = dataFileIssues(openParquet(file, fs.readFile(file)), (info as DatasetInfo).features);
        if (schema.length > 0) throw new ValidationError(file, schema);
      } else {
        await ds.load([(list[0] as EpisodeMeta).episodeIndex]);
      }
      await timestampProblems(fs, join(root, rel), info as DatasetInfo, problems);
      await jumpWarnings(
        fs,
        join(root, rel),
        info as DatasetInfo,
        options.speedLimits ?? DEFAULT_SPEED_LIMITS,
        warnings,
      );
      return true;
    });
    // a file whose rows were read names its damaged episodes; one that could not be read at all loses them all
    if (ok !== true) {
      const bad = [...(damagedRows ?? list.map((m) => m.episodeIndex))].sort((a, b) => a - b);
      for (const e of bad) damaged.add(e);
      const sound = list.map((m) => m.episodeIndex).filter((e) => !bad.includes(e));
      damagedFiles.push({ file: rel, damaged: bad, sound: sound.sort((a, b) => a - b) });
    }
  }
  return report();
}

async function timestampProblems(fs: DatasetFs, file: string, info: DatasetInfo, problems: Problem[]): Promise<void> {
  const pq = openParquet(file, fs.readFile(file));
  const rows = await readRows(pq, [TIMESTAMP_KEY, FRAME_INDEX_KEY]);
  let reported = 0;
  rows.forEach((row, r) => {
    const ts = row[TIMESTAMP_KEY] as number;
    const want = Number(row[FRAME_INDEX_KEY]) / info.fps;
    if (!(Math.abs(ts - want) <= TIMESTAMP_TOLERANCE_S) && reported++ < 10) {
      problems.push({
        file,
        path: `row ${r}.${TIMESTAMP_KEY}`,
        expected: `${want} (frame_index / fps) ± ${TIMESTAMP_TOLERANCE_S}`,
        received: String(ts),
      });
    }
  });
}

/**
 * Frame-to-frame jumps of observation.state far beyond the robot's speed (more than JUMP_FACTOR × limit / fps, per
 * slot; a slot whose name contains "gripper" is a gripper): what a recording with a hidden gap looks like (steps
 * skipped, timestamps kept even). Warnings, at most 10 per file plus a count: the frames are still readable.
 */
async function jumpWarnings(
  fs: DatasetFs,
  file: string,
  info: DatasetInfo,
  limits: SpeedLimits,
  warnings: Problem[],
): Promise<void> {
  const feature = info.features[STATE_KEY];
  if (!feature) return;
  const names = Array.isArray(feature.names) ? feature.names : [];
  const bound = (j: number): number =>
    (JUMP_FACTOR * (/gripper/.test(names[j] ?? "") ? limits.gripper : limits.joint)) / info.fps;
  const pq = openParquet(file, fs.readFile(file));
  const rows = await readRows(pq, [STATE_KEY, EPISODE_INDEX_KEY, FRAME_INDEX_KEY]);
  let found = 0;
  let prev: { episode: number; frame: number; state: ArrayLike<number> } | undefined;
  for (const row of rows) {
    const cur = {
      episode: Number(row[EPISODE_INDEX_KEY]),
      frame: Number(row[FRAME_INDEX_KEY]),
      state: row[STATE_KEY] as ArrayLike<number>,
    };
    if (prev && prev.episode === cur.episode && cur.frame === prev.frame + 1) {
      for (let j = 0; j < cur.state.length; j++) {
        const d = Math.abs((cur.state[j] as number) - (prev.state[j] as number));
        if (!(d > bound(j))) continue;
        if (found++ < 10)
          warnings.push({
            file,
            path: `episode ${cur.episode} frame ${cur.frame} ${STATE_KEY}.${names[j] ?? j}`,
            expected:
              `a change of at most ${bound(j).toFixed(4)} from the previous frame (${JUMP_FACTOR} × the robot's ` +
              `${/gripper/.test(names[j] ?? "") ? `${limits.gripper} m/s` : `${limits.joint} rad/s`} at ${info.fps} fps)`,
            received: `${d.toFixed(4)}: a gap in the recording, or a robot faster than this one`,
          });
      }
    }
    prev = cur;
  }
  if (found > 10)
    warnings.push({ file, path: STATE_KEY, expected: "no such jumps", received: `${found - 10} more jumps` });
}

function statsProblems(
  file: string,
  info: DatasetInfo,
  stats: DatasetStats,
  episodes: readonly EpisodeMeta[],
  problems: Problem[],
): void {
  const imageKeys = new Set(imageKeysOf(info.features));
  for (const [key, f] of Object.entries(info.features)) {
    if (f.dtype === "video" || f.dtype === "string") continue;
    const s = stats[key];
    if (episodes.length === 0) continue;
    if (s === undefined) {
      problems.push({ file, path: key, expected: "statistics for every feature", received: "nothing (missing)" });
      continue;
    }
    // Images: per RGB channel; audio: its one mono channel (see audioStats); vectors: per entry.
    const d = imageKeys.has(key) ? 3 : key === AUDIO_KEY ? 1 : f.shape.reduce((a, b) => a * b, 1);
    for (const k of STAT_KEYS) {
      if (s[k].length !== d)
        problems.push({ file, path: `${key}.${k}`, expected: `${d} numbers`, received: `${s[k].length} numbers` });
      else if (s[k].some((v) => !Number.isFinite(v)))
        problems.push({
          file,
          path: `${key}.${k}`,
          expected: "finite numbers",
          received: JSON.stringify(s[k]).slice(0, 60),
        });
    }
  }
  if (episodes.length === 0 || episodes.some((e) => Object.keys(e.stats).length === 0)) return;
  const agg = aggregateStats(episodes.map((e) => e.stats));
  for (const [key, want] of Object.entries(agg)) {
    const have = stats[key];
    if (have === undefined) continue;
    if (have.count !== want.count)
      problems.push({
        file,
        path: `${key}.count`,
        expected: `${want.count} (sum over episodes)`,
        received: String(have.count),
      });
    for (const k of ["min", "max", "mean", "std"] as const) {
      const diff = want[k].some((v, j) => Math.abs(v - (have[k][j] ?? NaN)) > 1e-6 * (1 + Math.abs(v)));
      if (diff) {
        problems.push({
          file,
          path: `${key}.${k}`,
          expected: `${JSON.stringify(want[k]).slice(0, 50)} (aggregated from meta/episodes)`,
          received: JSON.stringify(have[k]).slice(0, 50),
        });
      }
    }
  }
}
