// The file system behind a dataset: a small synchronous interface with one real implementation (node:fs), so tests
// can inject faults (a crash between two renames) and the product uses the real thing.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { DuetError } from "../core/index.ts";

/** File operations a dataset needs. Paths are absolute or relative to the process's working directory. */
export interface DatasetFs {
  /** Whole file contents. Throws (ENOENT …) like node:fs. */
  readFile(path: string): Uint8Array;
  /** Create or replace `path` with `data` and flush it to disk (fsync) before returning. */
  writeFile(path: string, data: Uint8Array | string): void;
  /** Atomic replace of `to` by `from` (POSIX rename). */
  rename(from: string, to: string): void;
  unlink(path: string): void;
  exists(path: string): boolean;
  /** mkdir -p. */
  mkdirp(path: string): void;
  /** Names (not paths) in a directory; empty when it does not exist. */
  list(dir: string): string[];
  /** Size in bytes. */
  size(path: string): number;
  /** Flush a directory's entries (renames, creations) to disk. */
  syncDir(dir: string): void;
}

/** The real file system (node:fs), with fsync on every write so a commit survives power loss, not just a crash. */
export function nodeFs(): DatasetFs {
  return {
    readFile: (path) => readFileSync(path),
    writeFile(path, data) {
      const fd = openSync(path, "w");
      try {
        const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
    rename: (from, to) => renameSync(from, to),
    unlink: (path) => unlinkSync(path),
    exists: (path) => existsSync(path),
    mkdirp(path) {
      try {
        mkdirSync(path, { recursive: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === "ENOTDIR" || code === "EEXIST" ? "a file is in the way" : (e as Error).message;
        throw new DuetError(`${path}: cannot create this folder (${code ?? "error"}: ${why}); name a dataset folder`);
      }
    },
    list(dir) {
      if (!existsSync(dir)) return [];
      if (!statSync(dir).isDirectory()) {
        throw new DuetError(`${dir}: is a file, not a folder; name a dataset folder (new, empty, or a dataset)`);
      }
      return readdirSync(dir);
    },
    size: (path) => statSync(path).size,
    syncDir(dir) {
      let fd: number | undefined;
      try {
        fd = openSync(dir, "r");
        fsyncSync(fd);
      } catch {
        // Some file systems refuse fsync on directories; the rename is still atomic there.
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
  };
}
