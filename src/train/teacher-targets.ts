// The teacher's samples a student is distilled on, computed ahead and kept on disk: for every window of a part of the
// dataset (training or validation) and each of its N starting noises, the chunk the teacher's own graphs sample. Row
// r = window·N + j; its noise is what the teacher policy draws after `reset(base + r)`, so a row is exactly a chunk
// the teacher would act on. Written window block by window block with the count done beside it, so an interrupted
// run picks up where it stopped (`--resume`).
//
//   OUT/train/targets-<part>.f32    rows × Tp·Dx float32 (normalized samples)
//   OUT/train/targets-<part>.json   what they were computed from, and how many windows are done
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { DuetError, Rng, writeAtomic } from "../core/index.ts";
import type { TensorData } from "../runtime/index.ts";
import type { Teacher } from "./teacher.ts";

/** Windows computed between two writes to disk. */
const BLOCK_WINDOWS = 32;

/** What a part's targets are computed from: a part on disk is used only when all of it is the same. */
export interface TargetsIdentity {
  teacher: string;
  /** SHA-256 of the teacher's model.json contents: another model under the same path is another teacher. */
  teacherModel: string;
  dataset: string;
  episodes: readonly number[];
  windows: number;
  noisesPerWindow: number;
  /** The first row's noise seed. */
  seedBase: number;
}

/** The first noise seed of `part` for a run of seed `seed`: the two parts' rows draw from disjoint seed ranges. */
export function targetSeedBase(seed: number, part: "train" | "val"): number {
  return (seed * 16_777_216 + (part === "val" ? 2_147_483_648 : 0)) >>> 0;
}

export class TeacherTargets {
  /** Window–noise pairs. */
  readonly rows: number;

  private constructor(
    private readonly data: Float32Array,
    /** Tp·Dx numbers per row. */
    private readonly rowSize: number,
    readonly noisesPerWindow: number,
    private readonly seedBase: number,
    private readonly noiseScale: number,
  ) {
    this.rows = data.length / rowSize;
  }

  /** The window of row `row`. */
  window(row: number): number {
    return Math.floor(row / this.noisesPerWindow);
  }

  /** Row `row`'s starting noise (at the teacher's noise scale) into `dst` at `offset`. */
  noise(row: number, dst: Float32Array, offset: number): void {
    noiseOf(this.seedBase + row, this.noiseScale, dst, offset, this.rowSize);
  }

  /** The teacher's sample of row `row` (normalized) into `dst` at `offset`. */
  target(row: number, dst: Float32Array, offset: number): void {
    dst.set(this.data.subarray(row * this.rowSize, (row + 1) * this.rowSize), offset);
  }

  /**
   * The targets of `part` in `dir` (the run's `train/` folder): read back where they are complete, continued where an
   * interrupted run left them, computed otherwise. `inputsOf(window)` fills the teacher's observation inputs (batch
   * one) from one of the part's windows. A part on disk computed from anything else than `identity` is refused.
   * `onProgress(done, total)` in windows.
   */
  static async load(options: {
    dir: string;
    part: "train" | "val";
    teacher: Teacher;
    inputsOf: (window: number) => Record<string, TensorData>;
    identity: TargetsIdentity;
    onProgress?: (done: number, total: number) => void;
  }): Promise<TeacherTargets> {
    const { teacher, identity } = options;
    const n = identity.noisesPerWindow;
    const c = teacher.model.config;
    const rowSize = c.predSteps * teacher.sampleDim;
    const dataFile = join(options.dir, `targets-${options.part}.f32`);
    const metaFile = join(options.dir, `targets-${options.part}.json`);
    const rowBytes = rowSize * 4;
    const data = new Float32Array(identity.windows * n * rowSize);
    let done = 0;
    if (existsSync(metaFile)) {
      const meta = JSON.parse(readFileSync(metaFile, "utf8")) as { identity: unknown; windowsDone: number };
      const was = JSON.stringify(meta.identity);
      if (was !== JSON.stringify(identity)) {
        throw new DuetError(
          `${metaFile}: these teacher targets were computed from another teacher, dataset, split or ` +
            `train.distill.noisesPerWindow (${was.slice(0, 200)}); choose another --out`,
        );
      }
      done = Math.min(meta.windowsDone, identity.windows);
      const bytes = done * n * rowBytes;
      if (!existsSync(dataFile) || statSync(dataFile).size < bytes)
        throw new DuetError(`${dataFile}: shorter than ${metaFile} says (${done} windows); choose another --out`);
      truncateSync(dataFile, bytes); // a block cut short by the interruption
      const read = readFileSync(dataFile);
      new Uint8Array(data.buffer).set(read.subarray(0, bytes));
    } else {
      mkdirSync(options.dir, { recursive: true });
      writeAtomic(dataFile, new Uint8Array(0));
    }
    const noise = new Float32Array(rowSize);
    const fd = openSync(dataFile, "a");
    try {
      while (done < identity.windows) {
        const end = Math.min(identity.windows, done + BLOCK_WINDOWS);
        for (let w = done; w < end; w++) {
          const cond = await teacher.cond(options.inputsOf(w));
          for (let j = 0; j < n; j++) {
            const row = w * n + j;
            noiseOf(identity.seedBase + row, teacher.noiseScale, noise, 0, rowSize);
            data.set(await teacher.sample(noise, cond), row * rowSize);
          }
        }
        writeSync(fd, new Uint8Array(data.buffer, done * n * rowBytes, (end - done) * n * rowBytes));
        fsyncSync(fd);
        done = end;
        writeAtomic(metaFile, `${JSON.stringify({ identity, windowsDone: done })}\n`);
        options.onProgress?.(done, identity.windows);
      }
    } finally {
      closeSync(fd);
    }
    return new TeacherTargets(data, rowSize, n, identity.seedBase, teacher.noiseScale);
  }
}

/** The noise a policy draws for a chunk after `reset(seed)`: `scale`·N(0, 1), `size` numbers into `dst` at `offset`. */
function noiseOf(seed: number, scale: number, dst: Float32Array, offset: number, size: number): void {
  const rng = new Rng(seed >>> 0);
  for (let i = 0; i < size; i++) dst[offset + i] = scale * rng.normal();
}
