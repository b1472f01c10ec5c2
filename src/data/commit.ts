// Atomic commits of several dataset files, and recovery after a crash.
//
// A commit writes every new file beside its final name (`<name>.duet-tmp`), then the journal `meta/.duet-commit.json`
// (itself through a temp file and a rename: this rename is the commit point), then renames each temp file over its
// final name, then deletes the journal. After a crash: no journal → the commit never happened and its temp files are
// garbage; a journal → the commit happened and the remaining renames are redone (roll forward). Each rename is atomic,
// so every file is always either its old or its new version.
import { dirname, join } from "node:path";
import { z } from "zod";
import { DuetError, parseWith } from "../core/index.ts";
import type { DatasetFs } from "./fs.ts";

export const TMP_SUFFIX = ".duet-tmp";
export const JOURNAL_PATH = "meta/.duet-commit.json";
export const LOCK_PATH = "meta/.duet-lock";

const journalSchema = z.object({ files: z.array(z.string().min(1)) });

/** One file of a commit: path relative to the dataset root, and its new contents. */
export interface CommitFile {
  path: string;
  data: Uint8Array | string;
}

/** Write `files` under `root` so that either all or none of them replace their old versions (after `recover`). */
export function commitFiles(fs: DatasetFs, root: string, files: readonly CommitFile[]): void {
  const dirs = new Set<string>();
  for (const f of files) {
    const abs = join(root, f.path);
    fs.mkdirp(dirname(abs));
    fs.writeFile(abs + TMP_SUFFIX, f.data);
    dirs.add(dirname(abs));
  }
  for (const d of dirs) fs.syncDir(d);
  const journal = join(root, JOURNAL_PATH);
  fs.mkdirp(dirname(journal));
  fs.writeFile(journal + TMP_SUFFIX, JSON.stringify({ files: files.map((f) => f.path) }));
  fs.rename(journal + TMP_SUFFIX, journal);
  fs.syncDir(dirname(journal));
  applyJournal(
    fs,
    root,
    files.map((f) => f.path),
  );
}

function applyJournal(fs: DatasetFs, root: string, paths: readonly string[]): void {
  const dirs = new Set<string>();
  for (const p of paths) {
    const abs = join(root, p);
    if (fs.exists(abs + TMP_SUFFIX)) fs.rename(abs + TMP_SUFFIX, abs);
    dirs.add(dirname(abs));
  }
  for (const d of dirs) fs.syncDir(d);
  fs.unlink(join(root, JOURNAL_PATH));
  fs.syncDir(join(root, "meta"));
}

/** True when a commit was started but not finished (a journal is present). */
export function commitPending(fs: DatasetFs, root: string): boolean {
  return fs.exists(join(root, JOURNAL_PATH));
}

/** Finish a commit interrupted by a crash (roll forward). Returns whether there was one. */
export function finishPendingCommit(fs: DatasetFs, root: string): boolean {
  const journal = join(root, JOURNAL_PATH);
  if (!fs.exists(journal)) return false;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(fs.readFile(journal)).toString("utf8"));
  } catch (e) {
    throw new DuetError(
      `${journal}: unreadable commit journal (${(e as Error).message}); delete it to discard that commit`,
    );
  }
  applyJournal(fs, root, parseWith(journalSchema, json, journal).files);
  return true;
}

/** Delete leftover temp files of commits that never reached their commit point. Returns their paths. */
export function removeStrayTemps(fs: DatasetFs, root: string): string[] {
  const removed: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const name of fs.list(dir)) {
      const abs = join(dir, name);
      if (name.endsWith(TMP_SUFFIX)) {
        fs.unlink(abs);
        removed.push(abs);
      } else if (depth < 4 && !name.includes(".")) {
        walk(abs, depth + 1);
      }
    }
  };
  walk(join(root, "meta"), 0);
  walk(join(root, "data"), 0);
  return removed;
}

/** The process id holding the writer lock of a dataset, if that process is alive. */
export function liveWriter(fs: DatasetFs, root: string): number | null {
  const lock = join(root, LOCK_PATH);
  if (!fs.exists(lock)) return null;
  const pid = Number(Buffer.from(fs.readFile(lock)).toString("utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (pid === process.pid) return pid;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM" ? pid : null;
  }
}

/** Take the writer lock of a dataset (one writer at a time). A lock left by a dead process is taken over. */
export function acquireLock(fs: DatasetFs, root: string): void {
  const pid = liveWriter(fs, root);
  if (pid !== null && pid !== process.pid) {
    throw new DuetError(
      `${join(root, LOCK_PATH)}: the dataset is being written by process ${pid}; wait for it or stop it`,
    );
  }
  fs.mkdirp(join(root, "meta"));
  fs.writeFile(join(root, LOCK_PATH), String(process.pid));
}

export function releaseLock(fs: DatasetFs, root: string): void {
  const lock = join(root, LOCK_PATH);
  if (fs.exists(lock)) fs.unlink(lock);
}
