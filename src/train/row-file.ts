// Rows of float32 numbers computed ahead and kept on disk, with a JSON beside them saying what they were computed from
// (their identity) and how many rows are done. Rows are appended block by block, each block fsynced before the count
// says it is there, so an interrupted computation continues where it stopped and a block cut short is cut off. Rows of
// another identity are refused or replaced, as the caller decides. A distillation's teacher samples
// (teacher-targets.ts) and a frozen observer's features (frozen-observer.ts) are kept so.
//
//   PATH.f32    rows × rowSize float32
//   PATH.json   {"identity": …, "rowsDone": n}
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { DuetError, writeAtomic } from "../core/index.ts";

export interface RowFileOptions {
  /** The files' path without extension: rows in `PATH.f32`, identity and rows done in `PATH.json`. */
  path: string;
  /** What the rows are computed from (plain JSON): rows on disk are used only when every field is the same. */
  identity: object;
  rows: number;
  /** Numbers per row. */
  rowSize: number;
  /**
   * Rows on disk computed from another identity: the error to throw (`differs`: the identity's fields that differ,
   * `was`: the identity on disk), or "replace" to compute them afresh over the old ones.
   */
  otherIdentity: (differs: readonly string[], metaFile: string, was: unknown) => Error | "replace";
}

export class RowFile {
  private readonly metaFile: string;
  private readonly dataFile: string;

  private constructor(
    private readonly options: RowFileOptions,
    /** rows × rowSize: rows [0, done) as read back, the rest for the caller to fill and `commit`. */
    readonly data: Float32Array,
    private rowsDone: number,
  ) {
    this.metaFile = `${options.path}.json`;
    this.dataFile = `${options.path}.f32`;
  }

  /** Rows done (on disk, and so in `data`). */
  get done(): number {
    return this.rowsDone;
  }

  /**
   * The rows of `options.identity` at `options.path`: those done read back, an interruption's partial block cut off;
   * none where there is no file yet, or where rows of another identity are replaced.
   */
  static open(options: RowFileOptions): RowFile {
    const { rows, rowSize, identity } = options;
    const rowBytes = rowSize * 4;
    const data = new Float32Array(rows * rowSize);
    const file = new RowFile(options, data, 0);
    const { metaFile, dataFile } = file;
    if (existsSync(metaFile)) {
      const meta = JSON.parse(readFileSync(metaFile, "utf8")) as { identity: unknown; rowsDone: number };
      const differs = differences(meta.identity, identity);
      const other = differs.length > 0 ? options.otherIdentity(differs, metaFile, meta.identity) : null;
      if (other instanceof Error) throw other;
      if (other === null) {
        const done = Math.min(meta.rowsDone, rows);
        if (!existsSync(dataFile) || statSync(dataFile).size < done * rowBytes)
          throw new DuetError(
            `${dataFile}: shorter than ${metaFile} says (${done} rows); delete both to compute them afresh, or choose another --out`,
          );
        truncateSync(dataFile, done * rowBytes); // a block cut short by the interruption
        readInto(dataFile, new Uint8Array(data.buffer, 0, done * rowBytes));
        file.rowsDone = done;
        return file;
      }
      // replaced: the count says none of the new rows are done before the old rows go
      file.writeMeta();
    }
    mkdirSync(dirname(dataFile), { recursive: true });
    writeAtomic(dataFile, new Uint8Array(0));
    return file;
  }

  /** Append rows [done, end) of `data` to the file and fsync it, then record them as done. */
  commit(end: number): void {
    const rowBytes = this.options.rowSize * 4;
    const fd = openSync(this.dataFile, "a");
    try {
      writeSync(fd, new Uint8Array(this.data.buffer, this.rowsDone * rowBytes, (end - this.rowsDone) * rowBytes));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.rowsDone = end;
    this.writeMeta();
  }

  private writeMeta(): void {
    writeAtomic(this.metaFile, `${JSON.stringify({ identity: this.options.identity, rowsDone: this.rowsDone })}\n`);
  }
}

/** The fields of identity `now` whose values differ in `was` (every field, when `was` is not an object). */
function differences(was: unknown, now: object): string[] {
  const old = (was !== null && typeof was === "object" ? was : {}) as Record<string, unknown>;
  const current = now as Record<string, unknown>;
  const keys = new Set([...Object.keys(current), ...Object.keys(old)]);
  return [...keys].filter((k) => JSON.stringify(old[k]) !== JSON.stringify(current[k]));
}

/** Fill `dst` from the start of `file` (in pieces: one read returns at most 2 GiB). */
function readInto(file: string, dst: Uint8Array): void {
  const fd = openSync(file, "r");
  try {
    for (let at = 0; at < dst.length;) {
      const n = readSync(fd, dst, at, dst.length - at, at);
      if (n === 0) throw new DuetError(`${file}: ended at byte ${at} of ${dst.length} while reading it back`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}
