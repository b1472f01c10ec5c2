// Merging datasets (shards recorded by several workers) into one LeRobot v3.0 dataset. The episodes go through the one
// writer, as a recording's do: episode and frame indices are renumbered, tasks unified (one task table, indices
// remapped), per-episode statistics recomputed where they depend on the indices and kept where they do not (pixels),
// and the dataset's statistics aggregated exactly from the episodes' (count-weighted means, variances combined with the
// spread of the means), as for a recording of the same episodes. Camera frames are copied as stored, never re-encoded.
import { join, resolve } from "node:path";
import { DuetError } from "../core/index.ts";
import { Dataset } from "./dataset.ts";
import type { EpisodeRecord } from "./episode.ts";
import type { EpisodeMeta } from "./episodes.ts";
import { nodeFs, type DatasetFs } from "./fs.ts";
import { INFO_PATH, compareFeatures, type DatasetScenario } from "./info.ts";
import { formatProblem, type Problem } from "./validate.ts";
import { DatasetWriter } from "./writer.ts";

/** Options of `mergeDatasets`. */
export interface MergeOptions {
  /**
   * Episode order in the merged dataset. "shards" (default): each shard's episodes in turn, shards in the order given.
   * "seed": by seed; a seed found in several shards is taken once, and its copies must be the same episode (a queue
   * job retried after its worker committed the episode but died before reporting it): copies that differ are refused.
   */
  order?: "shards" | "seed";
  /** Each episode as it is merged: how many so far, of how many. */
  onEpisode?: (done: number, total: number) => void;
  /** File system. Default: node:fs. */
  fs?: DatasetFs;
}

/** What `mergeDatasets` made. */
export interface MergeResult {
  out: string;
  episodes: number;
  frames: number;
  /** Per shard, in the order given: its folder and how many of its episodes the merged dataset holds. */
  shards: { root: string; episodes: number }[];
  /** Episodes left out as copies of a seed already taken (order "seed"). */
  duplicates: number;
  /** The scenario every shard names, stored in the merged info.json; null when none does or when they differ. */
  scenario: DatasetScenario | null;
  /** The scenarios the shards named when they differ (the merged dataset then names none). */
  scenarios: DatasetScenario[];
}

/** One episode to take: from which shard, which episode there. */
interface Pick {
  shard: number;
  meta: EpisodeMeta;
}

/** Data bytes of episodes held before they are committed together: about one data file. */
function batchBytes(dataFileSizeMb: number): number {
  return dataFileSizeMb * 1024 * 1024;
}

/**
 * Merge `shards` (datasets with the same features, fps and robot type) into a new dataset at `out`. Refuses, before
 * writing anything, shards that differ from the first, naming each field of each one.
 */
export async function mergeDatasets(
  out: string,
  shards: readonly string[],
  options: MergeOptions = {},
): Promise<MergeResult> {
  const fs = options.fs ?? nodeFs();
  if (shards.length === 0) throw new DuetError("dataset merge: name at least one dataset to merge");
  if (fs.exists(join(out, INFO_PATH))) {
    throw new DuetError(`${out}: a dataset already exists here; merge into a new folder`);
  }
  const repeated = shards.filter((s, i) => shards.findIndex((t) => resolve(t) === resolve(s)) !== i);
  if (repeated.length > 0) throw new DuetError(`dataset merge: ${repeated.join(", ")} named more than once`);
  const sets = await Promise.all(shards.map((root) => Dataset.open(root, { fs })));
  const first = sets[0] as Dataset;
  const problems: Problem[] = [];
  for (const ds of sets.slice(1)) {
    const file = join(ds.root, INFO_PATH);
    const issues = compareFeatures(first.info.features, ds.info.features);
    if (ds.info.fps !== first.info.fps)
      issues.push({ path: "fps", expected: String(first.info.fps), received: String(ds.info.fps) });
    if (ds.info.robot_type !== first.info.robot_type) {
      issues.push({
        path: "robot_type",
        expected: JSON.stringify(first.info.robot_type),
        received: JSON.stringify(ds.info.robot_type),
      });
    }
    for (const issue of issues) problems.push({ file, ...issue });
  }
  if (problems.length > 0) {
    throw new DuetError(
      `dataset merge: the datasets must record the same features at the same fps as the first, ` +
        `${join(first.root, INFO_PATH)} (expected: what it has):\n${problems.map(formatProblem).join("\n")}`,
    );
  }
  const named = sets.map((ds) => ds.info.scenario);
  const distinct = [...new Map(named.filter((s) => s !== undefined).map((s) => [s.sha256, s])).values()];
  const scenario =
    distinct.length === 1 && named.every((s) => s !== undefined) ? (distinct[0] as DatasetScenario) : null;

  const picks = plan(sets, options.order ?? "shards");
  const taken = new Array<number>(sets.length).fill(0);
  const writer = await DatasetWriter.open(out, {
    spec: first.spec,
    dataFileSizeMb: first.info.data_files_size_in_mb,
    fs,
    ...(scenario !== null && { scenario }),
  });
  const limit = batchBytes(first.info.data_files_size_in_mb);
  /** Per shard, the data file its episodes were last read from: one file per shard is held in memory. */
  const loaded = new Array<string>(sets.length).fill("");
  const read = async (p: Pick): Promise<EpisodeRecord> => {
    const ds = sets[p.shard] as Dataset;
    const file = ds.dataFileOf(p.meta.episodeIndex);
    if (loaded[p.shard] !== file) {
      ds.release();
      loaded[p.shard] = file;
    }
    return ds.record(p.meta.episodeIndex);
  };
  let batch: EpisodeRecord[] = [];
  let bytes = 0;
  let done = 0;
  let duplicates = 0;
  const flush = (): void => {
    if (batch.length > 0) writer.addEpisodes(batch);
    batch = [];
    bytes = 0;
  };
  try {
    let kept: { pick: Pick; record: EpisodeRecord } | null = null;
    for (const pick of picks) {
      const record = await read(pick);
      if (options.order === "seed" && kept !== null && kept.pick.meta.seed === pick.meta.seed) {
        sameEpisode(kept, { pick, record }, sets);
        duplicates++;
        options.onEpisode?.(++done, picks.length);
        continue;
      }
      kept = { pick, record };
      batch.push(record);
      taken[pick.shard] = (taken[pick.shard] as number) + 1;
      bytes += sizeOf(record);
      if (bytes >= limit) flush();
      options.onEpisode?.(++done, picks.length);
    }
    flush();
    return {
      out,
      episodes: writer.totalEpisodes,
      frames: writer.totalFrames,
      shards: sets.map((ds, i) => ({ root: ds.root, episodes: taken[i] as number })),
      duplicates,
      scenario,
      scenarios: scenario === null && distinct.length > 1 ? distinct : [],
    };
  } finally {
    writer.close();
  }
}

/** The episodes to take, in the order of `order`. */
function plan(sets: readonly Dataset[], order: "shards" | "seed"): Pick[] {
  const picks = sets.flatMap((ds, shard) => ds.episodes.map((meta) => ({ shard, meta })));
  // a stable sort: copies of a seed stay in shard order, so the first shard's copy is the one kept
  return order === "seed" ? picks.sort((a, b) => a.meta.seed - b.meta.seed) : picks;
}

/** Bytes an episode adds to a data file: its PNG frames and its vectors. */
function sizeOf(ep: EpisodeRecord): number {
  let n = 4 * (ep.state.length + ep.action.length + (ep.environment?.length ?? 0) + (ep.audio?.length ?? 0));
  for (const frames of Object.values(ep.images)) for (const f of frames) n += f.length;
  return n;
}

/** Refuse two copies of a seed that are not the same episode. */
function sameEpisode(
  a: { pick: Pick; record: EpisodeRecord },
  b: { pick: Pick; record: EpisodeRecord },
  sets: readonly Dataset[],
): void {
  const x = a.record;
  const y = b.record;
  const equal = (p?: ArrayLike<number>, q?: ArrayLike<number>): boolean =>
    p === undefined || q === undefined
      ? p === q
      : p.length === q.length && Array.prototype.every.call(p, (v, i) => v === q[i]);
  const differs = [
    x.length !== y.length && "length",
    x.task !== y.task && "task",
    x.success !== y.success && "success",
    !equal(x.state, y.state) && "observation.state",
    !equal(x.action, y.action) && "action",
    !equal(x.environment, y.environment) && "observation.environment_state",
    !equal(x.audio, y.audio) && "observation.audio",
    ...Object.entries(x.images).map(([cam, frames]) => {
      const other = y.images[cam] ?? [];
      return (
        (frames.length !== other.length || !frames.every((f, t) => equal(f, other[t]))) && `observation.images.${cam}`
      );
    }),
  ].filter((d): d is string => d !== false);
  if (differs.length === 0) return;
  const where = (p: Pick): string => `${(sets[p.shard] as Dataset).root} (episode ${p.meta.episodeIndex})`;
  throw new DuetError(
    `dataset merge by seed: seed ${a.pick.meta.seed} is in ${where(a.pick)} and in ${where(b.pick)}, with a ` +
      `different ${differs.join(", ")}: these are not shards of one recording; merge them in shard order instead`,
  );
}
