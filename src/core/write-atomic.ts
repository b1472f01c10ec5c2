// Whole-file writes that a crash cannot leave half done: the bytes go to a temp file beside the target, which is then
// renamed over it, so readers see the previous file or the new one, never a part. (Datasets have their own journaled
// commits with fsync, src/data/commit.ts; this is for single files: checkpoints, model graphs, model.json.)
import { closeSync, openSync, renameSync, writeFileSync, writeSync } from "node:fs";

/**
 * Write `data` to `path` atomically: into `<path>.tmp-<pid>`, then renamed to `path` (the previous file stays intact
 * until the rename). `data` given as parts is written part after part, without joining them in memory first.
 */
export function writeAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  if (typeof data === "string" || data instanceof Uint8Array) writeFileSync(tmp, data);
  else {
    const fd = openSync(tmp, "w");
    try {
      for (const part of data) writeSync(fd, part);
    } finally {
      closeSync(fd);
    }
  }
  renameSync(tmp, path);
}
