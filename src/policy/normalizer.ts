// Min-max normalization of states and actions to [−1, 1] (Diffusion Policy's "limits" mode), stored in model.json.
import { z } from "zod";
import { DuetError } from "../core/index.ts";

/** Per-element range of one feature; stored in model.json under `normalizer`. */
export const rangeSchema = z
  .object({ min: z.array(z.number()).min(1), max: z.array(z.number()).min(1) })
  .strict()
  .refine((r) => r.min.length === r.max.length, { message: "min and max of the same length" });
export type FeatureRange = z.output<typeof rangeSchema>;

/** Below this range a dimension is treated as constant: it maps to 0 and back to its min (Diffusion Policy: 1e-4). */
const MIN_RANGE = 1e-4;

/**
 * x_n = 2·(x − min)/(max − min) − 1 elementwise over a feature of D entries; vectors may hold several rows
 * (`T,D` row-major). Constant dimensions (range < 1e-4) map to 0. `normalize`/`unnormalize` allocate nothing.
 * A range may also cover whole chunks (T·D entries, one range per row: policy.actionRange "per-step"); `first`
 * says which range entry `x[0]` takes (k·D for row k of a chunk; entry indices wrap around the range's length).
 */
export class MinMaxNormalizer {
  readonly dim: number;
  private readonly scale: Float32Array;
  private readonly offset: Float32Array;

  constructor(readonly range: FeatureRange) {
    this.dim = range.min.length;
    if (range.max.length !== this.dim) {
      throw new DuetError(`normalizer: min has ${this.dim} entries, max has ${range.max.length}`);
    }
    this.scale = new Float32Array(this.dim);
    this.offset = new Float32Array(this.dim);
    for (let j = 0; j < this.dim; j++) {
      const lo = range.min[j] as number;
      const hi = range.max[j] as number;
      if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) {
        throw new DuetError(`normalizer: entry ${j} has min ${lo}, max ${hi}; expected finite min ≤ max`);
      }
      const span = hi - lo;
      this.scale[j] = span < MIN_RANGE ? 0 : 2 / span;
      this.offset[j] = span < MIN_RANGE ? 0 : -1 - (2 * lo) / span;
    }
  }

  /** `out` ← normalized `x` (both `…,D`; `out` may alias `x`). */
  normalize(x: ArrayLike<number>, out: Float32Array, outOffset = 0, first = 0): Float32Array {
    const d = this.dim;
    for (let i = 0; i < x.length; i++) {
      const j = (first + i) % d;
      out[outOffset + i] = (x[i] as number) * (this.scale[j] as number) + (this.offset[j] as number);
    }
    return out;
  }

  /** `out` ← unnormalized `x` (inverse of `normalize`; constant dimensions return their min). */
  unnormalize(x: ArrayLike<number>, out: Float32Array, first = 0): Float32Array {
    const d = this.dim;
    for (let i = 0; i < x.length; i++) {
      const j = (first + i) % d;
      const s = this.scale[j] as number;
      out[i] = s === 0 ? (this.range.min[j] as number) : ((x[i] as number) - (this.offset[j] as number)) / s;
    }
    return out;
  }
}
