// Reading a dataset's metadata (meta/): info.json, stats.json, tasks.parquet and the episodes files, each validated at
// the boundary, plus the cross-checks between them (totals, contiguous indices).
import { join } from "node:path";
import type { z } from "zod";
import { DuetError, readJsonWith, type Issue } from "../core/index.ts";
import { readEpisodesTable, readTasksTable, type EpisodeMeta } from "./episodes.ts";
import type { DatasetFs } from "./fs.ts";
import { INFO_PATH, STATS_PATH, TASKS_PATH, infoSchema, type DatasetInfo } from "./info.ts";
import { statsFileSchema, statsFromFile, type DatasetStats } from "./stats.ts";

function readJson<S extends z.ZodType>(fs: DatasetFs, file: string, schema: S): z.output<S> {
  return readJsonWith(() => Buffer.from(fs.readFile(file)).toString("utf8"), file, schema);
}

function readBytes(fs: DatasetFs, file: string): Uint8Array {
  try {
    return fs.readFile(file);
  } catch (e) {
    throw new DuetError(`${file}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

export function loadInfo(fs: DatasetFs, root: string): DatasetInfo {
  return readJson(fs, join(root, INFO_PATH), infoSchema);
}

export function loadStats(fs: DatasetFs, root: string): DatasetStats {
  return statsFromFile(readJson(fs, join(root, STATS_PATH), statsFileSchema));
}

export async function loadTasks(fs: DatasetFs, root: string): Promise<string[]> {
  const file = join(root, TASKS_PATH);
  if (!fs.exists(file)) return [];
  return readTasksTable(file, readBytes(fs, file));
}

/** Episodes files under meta/episodes, in (chunk, file) order, as paths relative to the root. */
export function episodesFiles(fs: DatasetFs, root: string): string[] {
  return listChunked(fs, root, "meta/episodes");
}

/** Data files under data/, in (chunk, file) order, relative to the root. */
export function dataFiles(fs: DatasetFs, root: string): string[] {
  return listChunked(fs, root, "data");
}

function listChunked(fs: DatasetFs, root: string, dir: string): string[] {
  const out: string[] = [];
  for (const chunk of fs
    .list(join(root, dir))
    .filter((n) => /^chunk-\d+$/.test(n))
    .sort()) {
    for (const file of fs
      .list(join(root, dir, chunk))
      .filter((n) => /^file-\d+\.parquet$/.test(n))
      .sort()) {
      out.push(`${dir}/${chunk}/${file}`);
    }
  }
  return out;
}

/** Every episode row from every episodes file, in file order. */
export async function loadEpisodes(fs: DatasetFs, root: string): Promise<EpisodeMeta[]> {
  const out: EpisodeMeta[] = [];
  for (const rel of episodesFiles(fs, root)) {
    const file = join(root, rel);
    out.push(...(await readEpisodesTable(file, readBytes(fs, file))));
  }
  return out;
}

/** Consistency of info.json totals, tasks and episode rows (indices 0..n-1, frame ranges contiguous). */
export function episodeIssues(info: DatasetInfo, tasks: readonly string[], episodes: readonly EpisodeMeta[]): Issue[] {
  const issues: Issue[] = [];
  const frames = episodes.reduce((a, e) => a + e.length, 0);
  if (info.total_episodes !== episodes.length) {
    issues.push({
      path: "total_episodes",
      expected: `${episodes.length} (rows in meta/episodes)`,
      received: String(info.total_episodes),
    });
  }
  if (info.total_frames !== frames) {
    issues.push({
      path: "total_frames",
      expected: `${frames} (sum of episode lengths)`,
      received: String(info.total_frames),
    });
  }
  if (info.total_tasks !== tasks.length) {
    issues.push({
      path: "total_tasks",
      expected: `${tasks.length} (rows in meta/tasks.parquet)`,
      received: String(info.total_tasks),
    });
  }
  let next = 0;
  episodes.forEach((e, i) => {
    if (e.episodeIndex !== i) {
      issues.push({ path: `episodes[${i}].episode_index`, expected: String(i), received: String(e.episodeIndex) });
    }
    if (e.from !== next || e.to - e.from !== e.length) {
      issues.push({
        path: `episodes[${i}].dataset_from_index`,
        expected: `[${next}, ${next + e.length})`,
        received: `[${e.from}, ${e.to})`,
      });
    }
    for (const t of e.tasks) {
      if (!tasks.includes(t))
        issues.push({
          path: `episodes[${i}].tasks`,
          expected: "tasks listed in meta/tasks.parquet",
          received: JSON.stringify(t),
        });
    }
    next = e.to;
  });
  return issues;
}
