// The teacher's samples a student is distilled on, computed ahead and kept on disk: for every window of a part of the
// dataset (training or validation) and each of its N starting noises, the chunk the teacher's own graphs sample. Row
// r = window·N + j; its noise is what the teacher policy draws after `reset(base + r)`, so a row is the chunk the
// teacher would act on (to float rounding: the teacher samples them in batches). Written block by block with the count
// of rows done beside it, so an interrupted run picks up where it stopped (`--resume`).
//
//   OUT/train/targets-<part>.f32    rows × Tp·Dx float32 (normalized samples)
//   OUT/train/targets-<part>.json   what they were computed from, and how many rows are done
import { join } from "node:path";
import { DuetError, Rng } from "../core/index.ts";
import type { TensorData } from "../runtime/index.ts";
import { RowFile } from "./row-file.ts";
import { TEACHER_BATCH, type Teacher } from "./teacher.ts";

/** Teacher runs between two writes to disk. */
const BLOCK_BATCHES = 4;

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
   * interrupted run left them, computed otherwise, TEACHER_BATCH pairs a run. `inputsOf(windows)` fills the teacher's
   * observation inputs, row i from window `windows[i]`. A part on disk computed from anything else than `identity`
   * is refused. `onProgress(done, total)` in windows.
   */
  static async load(options: {
    dir: string;
    part: "train" | "val";
    teacher: Teacher;
    inputsOf: (windows: readonly number[]) => Record<string, TensorData>;
    identity: TargetsIdentity;
    onProgress?: (done: number, total: number) => void;
  }): Promise<TeacherTargets> {
    const { teacher, identity } = options;
    const n = identity.noisesPerWindow;
    const rowSize = teacher.model.config.predSteps * teacher.sampleDim;
    const rows = identity.windows * n;
    const file = RowFile.open({
      path: join(options.dir, `targets-${options.part}`),
      identity,
      rows,
      rowSize,
      otherIdentity: (_differs, metaFile, was) =>
        new DuetError(
          `${metaFile}: these teacher targets were computed from another teacher, dataset, split or ` +
            `train.distill.noisesPerWindow (${JSON.stringify(was).slice(0, 200)}); choose another --out`,
        ),
    });
    const { data } = file;
    const b = TEACHER_BATCH;
    const noise = new Float32Array(b * rowSize);
    const windows: number[] = [];
    while (file.done < rows) {
      const end = Math.min(rows, file.done + BLOCK_BATCHES * b);
      for (let first = file.done; first < end; first += b) {
        windows.length = 0;
        // a last, short batch repeats its last pair
        for (let i = 0; i < b; i++) {
          const row = Math.min(first + i, end - 1);
          windows.push(Math.floor(row / n));
          noiseOf(identity.seedBase + row, teacher.noiseScale, noise, i * rowSize, rowSize);
        }
        const x = await teacher.sample(options.inputsOf(windows), noise);
        data.set(x.subarray(0, Math.min(b, end - first) * rowSize), first * rowSize);
      }
      file.commit(end);
      options.onProgress?.(Math.floor(end / n), identity.windows);
    }
    return new TeacherTargets(data, rowSize, n, identity.seedBase, teacher.noiseScale);
  }
}

/** The noise a policy draws for a chunk after `reset(seed)`: `scale`·N(0, 1), `size` numbers into `dst` at `offset`. */
function noiseOf(seed: number, scale: number, dst: Float32Array, offset: number, size: number): void {
  const rng = new Rng(seed >>> 0);
  for (let i = 0; i < size; i++) dst[offset + i] = scale * rng.normal();
}
