// Per-episode metadata (meta/episodes/chunk-XXX/file-XXX.parquet) and tasks (meta/tasks.parquet), LeRobot v3.0 columns
// plus duet's own: success, mode (which arm held the bottle) and the seed the episode was recorded with.
import { z } from "zod";
import { DuetError, parseWith } from "../core/index.ts";
import { columnKinds, openParquet, readRows, writeTable, type ColumnSpec, type ParquetFile } from "./parquet.ts";
import { STAT_KEYS, type DatasetFeatureStats, type DatasetStats } from "./stats.ts";

/** One committed episode: where its frames are, what it did, and its statistics. */
export interface EpisodeMeta {
  episodeIndex: number;
  /** Task descriptions (natural language). */
  tasks: string[];
  /** Frames. */
  length: number;
  /** Data file holding the frames. */
  dataChunk: number;
  dataFile: number;
  /** Global frame `index` range [from, to). */
  from: number;
  to: number;
  /** Episodes file holding this row. */
  metaChunk: number;
  metaFile: number;
  /** Task solved at the end. */
  success: boolean;
  /** Which solution the demonstration took (e.g. "left"/"right": the arm that held the bottle); "" if unknown. */
  mode: string;
  /** Seed the environment was reset with. */
  seed: number;
  /** Statistics of this episode's frames, per feature. */
  stats: DatasetStats;
}

/** Convert parquet values to JSON-like ones: bigint → number, nested arrays kept. */
export function plain(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

function flatNumbers(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flatNumbers) : [value as number];
}

const rowSchema = z.looseObject({
  episode_index: z.int().nonnegative(),
  tasks: z.array(z.string()),
  length: z.int().positive(),
  "data/chunk_index": z.int().nonnegative(),
  "data/file_index": z.int().nonnegative(),
  dataset_from_index: z.int().nonnegative(),
  dataset_to_index: z.int().nonnegative(),
  "meta/episodes/chunk_index": z.int().nonnegative(),
  "meta/episodes/file_index": z.int().nonnegative(),
  success: z.boolean(),
  mode: z.string(),
  seed: z.int(),
});

/** Columns of an episodes file for `episodes` (all in the same file), stats columns for `featureKeys`. */
export function writeEpisodesTable(
  episodes: readonly EpisodeMeta[],
  featureKeys: readonly string[],
  imageKeys: ReadonlySet<string>,
): Uint8Array {
  const col = (name: string, kind: ColumnSpec["kind"], f: (e: EpisodeMeta) => unknown): ColumnSpec => ({
    name,
    kind,
    data: episodes.map(f),
  });
  const columns: ColumnSpec[] = [
    col("episode_index", "int64", (e) => BigInt(e.episodeIndex)),
    col("tasks", "string[]", (e) => e.tasks),
    col("length", "int64", (e) => BigInt(e.length)),
    col("data/chunk_index", "int64", (e) => BigInt(e.dataChunk)),
    col("data/file_index", "int64", (e) => BigInt(e.dataFile)),
    col("dataset_from_index", "int64", (e) => BigInt(e.from)),
    col("dataset_to_index", "int64", (e) => BigInt(e.to)),
    col("meta/episodes/chunk_index", "int64", (e) => BigInt(e.metaChunk)),
    col("meta/episodes/file_index", "int64", (e) => BigInt(e.metaFile)),
    col("success", "bool", (e) => e.success),
    col("mode", "string", (e) => e.mode),
    col("seed", "int64", (e) => BigInt(e.seed)),
  ];
  for (const key of featureKeys) {
    const image = imageKeys.has(key);
    for (const stat of STAT_KEYS) {
      columns.push(
        col(`stats/${key}/${stat}`, image ? "float64[][][]" : "float64[]", (e) => {
          const v = statsOf(e, key)[stat];
          return image ? v.map((x) => [[x]]) : v;
        }),
      );
    }
    columns.push(col(`stats/${key}/count`, "int64[]", (e) => [BigInt(statsOf(e, key).count)]));
  }
  return writeTable(columns);
}

function statsOf(e: EpisodeMeta, key: string): DatasetFeatureStats {
  const s = e.stats[key];
  if (s === undefined) throw new RangeError(`episode ${e.episodeIndex} has no statistics for ${key}`);
  return s;
}

/** Read and validate an episodes file. Every bad field is named as `<file>: row <i>.<column>`. */
export async function readEpisodesTable(file: string, bytes: Uint8Array): Promise<EpisodeMeta[]> {
  const pq: ParquetFile = openParquet(file, bytes);
  const rows = await readRows(pq, [...columnKinds(pq).keys()]);
  return rows.map((raw, i) => {
    const row = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, plain(v)]));
    const r = parseWith(rowSchema, row, `${file}: row ${i}`);
    const stats: DatasetStats = {};
    for (const [name, value] of Object.entries(row)) {
      const m = /^stats\/(.+)\/(\w+)$/.exec(name);
      if (m === null) continue;
      const [, key, stat] = m as unknown as [string, string, string];
      const entry = (stats[key] ??= { count: 0 } as DatasetFeatureStats);
      const numbers = flatNumbers(value);
      if (numbers.some((x) => typeof x !== "number" || Number.isNaN(x))) {
        throw new DuetError(
          `${file}: row ${i}.${name}: expected numbers, received ${JSON.stringify(value).slice(0, 60)}`,
        );
      }
      if (stat === "count") entry.count = numbers[0] ?? 0;
      else if ((STAT_KEYS as readonly string[]).includes(stat)) entry[stat as (typeof STAT_KEYS)[number]] = numbers;
    }
    return {
      episodeIndex: r.episode_index,
      tasks: r.tasks,
      length: r.length,
      dataChunk: r["data/chunk_index"],
      dataFile: r["data/file_index"],
      from: r.dataset_from_index,
      to: r.dataset_to_index,
      metaChunk: r["meta/episodes/chunk_index"],
      metaFile: r["meta/episodes/file_index"],
      success: r.success,
      mode: r.mode,
      seed: r.seed,
      stats,
    };
  });
}

// ---- meta/tasks.parquet --------------------------------------------------------------------------------------------

/** pandas metadata so that `pd.read_parquet` restores the `task` index, as LeRobot's `load_tasks` expects. */
const PANDAS_TASKS_METADATA = JSON.stringify({
  index_columns: ["task"],
  column_indexes: [
    { name: null, field_name: null, pandas_type: "unicode", numpy_type: "object", metadata: { encoding: "UTF-8" } },
  ],
  columns: [
    { name: "task_index", field_name: "task_index", pandas_type: "int64", numpy_type: "int64", metadata: null },
    { name: "task", field_name: "task", pandas_type: "unicode", numpy_type: "object", metadata: null },
  ],
  creator: { library: "duet", version: "0.1.0" },
  pandas_version: "2.2.0",
});

/** tasks.parquet: one row per task, `task_index` (int64) and `task` (string, the pandas index). */
export function writeTasksTable(tasks: readonly string[]): Uint8Array {
  return writeTable(
    [
      { name: "task_index", kind: "int64", data: tasks.map((_, i) => BigInt(i)) },
      { name: "task", kind: "string", data: [...tasks] },
    ],
    { kvMetadata: [{ key: "pandas", value: PANDAS_TASKS_METADATA }] },
  );
}

const taskRowSchema = z.object({ task_index: z.int().nonnegative(), task: z.string() });

/** Tasks in task_index order. */
export async function readTasksTable(file: string, bytes: Uint8Array): Promise<string[]> {
  const pq = openParquet(file, bytes);
  const rows = await readRows(pq, ["task_index", "task"]);
  const tasks: string[] = [];
  rows.forEach((raw, i) => {
    const r = parseWith(
      taskRowSchema,
      { task_index: plain(raw["task_index"]), task: raw["task"] },
      `${file}: row ${i}`,
    );
    tasks[r.task_index] = r.task;
  });
  for (let i = 0; i < tasks.length; i++) {
    if (tasks[i] === undefined) throw new DuetError(`${file}: task_index ${i} is missing (indices must be 0..n-1)`);
  }
  return tasks;
}
