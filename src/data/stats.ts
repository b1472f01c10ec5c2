// Normalization statistics: computed per episode when it is committed, aggregated into meta/stats.json
// (LeRobot's keys: min, max, mean, std, count and the quantiles q01 … q99), read back for training and inference.
import { z } from "zod";
import type { FeatureStats, Stats } from "../core/index.ts";

/** Quantile levels LeRobot v3.0 stores, by key. */
export const QUANTILES = { q01: 0.01, q10: 0.1, q50: 0.5, q90: 0.9, q99: 0.99 } as const;
export type QuantileKey = keyof typeof QUANTILES;
const QUANTILE_KEYS = Object.keys(QUANTILES) as QuantileKey[];
/** Every per-element statistic (all but count), in file order. */
export const STAT_KEYS = ["min", "max", "mean", "std", ...QUANTILE_KEYS] as const;
export type StatKey = (typeof STAT_KEYS)[number];

/** Statistics of one feature, elementwise (D entries for a vector, 3 channels for an image, 1 for a scalar). */
export type DatasetFeatureStats = FeatureStats & Record<QuantileKey, number[]>;
/** Feature key → statistics. Compatible with core's `Stats`. */
export type DatasetStats = Record<string, DatasetFeatureStats> & Stats;

/**
 * Statistics of `values: N,D` (row-major) elementwise over the N rows. Quantiles interpolate linearly between order
 * statistics (numpy's default); std is the population std.
 */
export function vectorStats(values: ArrayLike<number>, n: number, d: number): DatasetFeatureStats {
  const stats = emptyStats(d, n);
  const column = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i * d + j] as number;
      column[i] = v;
      sum += v;
    }
    const mean = n > 0 ? sum / n : 0;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += ((column[i] as number) - mean) ** 2;
    column.sort();
    stats.min[j] = n > 0 ? (column[0] as number) : 0;
    stats.max[j] = n > 0 ? (column[n - 1] as number) : 0;
    stats.mean[j] = mean;
    stats.std[j] = n > 0 ? Math.sqrt(sq / n) : 0;
    for (const q of QUANTILE_KEYS) stats[q][j] = sortedQuantile(column, n, QUANTILES[q]);
  }
  return stats;
}

/**
 * Statistics of sound, `samples: T,S` row-major, over every sample of every frame: one entry (the one mono channel),
 * `count` = T frames. Sound is stored as S numbers per frame but, like an image's pixels, its positions are
 * interchangeable (a click may fall at any sample of a period), so per-position statistics would say nothing that the
 * overall ones do not while costing S × 9 numbers in stats.json and in every episode's row of meta/episodes (14,400
 * numbers per episode at 1600 samples). One channel's statistics are cheap and are what an audio encoder normalises
 * with; LeRobot's stats checks accept them (any array of at least one dimension, as for images' [3][1][1]) and its
 * normalisation broadcasts them over the S samples. Counting frames, as images do, weights episodes exactly by their
 * samples when aggregating, since every frame has S of them.
 */
export function audioStats(samples: ArrayLike<number>, frames: number): DatasetFeatureStats {
  return { ...vectorStats(samples, samples.length, 1), count: frames };
}

function sortedQuantile(sorted: ArrayLike<number>, n: number, q: number): number {
  if (n === 0) return 0;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  return a + ((sorted[hi] as number) - a) * (pos - lo);
}

/**
 * Accumulates per-channel statistics of RGB frames with values scaled to [0, 1] (as LeRobot does for images), exactly,
 * through one 256-bin histogram per channel.
 */
export class ImageStatsAccumulator {
  private readonly hist = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];

  /** `rgb: H,W,3` uint8. */
  add(rgb: Uint8Array): void {
    const [r, g, b] = this.hist as [Float64Array, Float64Array, Float64Array];
    for (let i = 0; i < rgb.length; i += 3) {
      (r[rgb[i] as number] as number)++;
      (g[rgb[i + 1] as number] as number)++;
      (b[rgb[i + 2] as number] as number)++;
    }
  }

  /** Statistics over every pixel added; `count` is the number of frames, as LeRobot counts. */
  finish(frames: number): DatasetFeatureStats {
    const stats = emptyStats(3, frames);
    this.hist.forEach((h, c) => {
      let n = 0;
      let sum = 0;
      let min = -1;
      let max = 0;
      for (let v = 0; v < 256; v++) {
        const k = h[v] as number;
        if (k === 0) continue;
        if (min < 0) min = v;
        max = v;
        n += k;
        sum += k * v;
      }
      const mean = n > 0 ? sum / n : 0;
      let sq = 0;
      for (let v = 0; v < 256; v++) sq += (h[v] as number) * (v - mean) ** 2;
      stats.min[c] = Math.max(min, 0) / 255;
      stats.max[c] = max / 255;
      stats.mean[c] = mean / 255;
      stats.std[c] = n > 0 ? Math.sqrt(sq / n) / 255 : 0;
      for (const q of QUANTILE_KEYS) stats[q][c] = histQuantile(h, n, QUANTILES[q]) / 255;
    });
    return stats;
  }
}

function histQuantile(hist: Float64Array, n: number, q: number): number {
  if (n === 0) return 0;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const valueAt = (rank: number): number => {
    let seen = 0;
    for (let v = 0; v < 256; v++) {
      seen += hist[v] as number;
      if (rank < seen) return v;
    }
    return 255;
  };
  const a = valueAt(lo);
  return a + (valueAt(Math.min(lo + 1, n - 1)) - a) * (pos - lo);
}

function emptyStats(d: number, count: number): DatasetFeatureStats {
  const z = () => new Array<number>(d).fill(0);
  return { min: z(), max: z(), mean: z(), std: z(), count, q01: z(), q10: z(), q50: z(), q90: z(), q99: z() };
}

/**
 * Combine per-episode statistics as LeRobot's `aggregate_stats` does: exact min, max, mean, std and count; quantiles
 * as the count-weighted mean of the episodes' quantiles (an approximation, documented by LeRobot).
 */
export function aggregateStats(parts: readonly DatasetStats[]): DatasetStats {
  const out: DatasetStats = {};
  const keys = new Set(parts.flatMap((p) => Object.keys(p)));
  for (const key of keys) {
    const list = parts.map((p) => p[key]).filter((s): s is DatasetFeatureStats => s !== undefined);
    const first = list[0];
    if (first === undefined) continue;
    const d = first.mean.length;
    const total = list.reduce((a, s) => a + s.count, 0);
    const agg = emptyStats(d, total);
    for (let j = 0; j < d; j++) {
      let min = Infinity;
      let max = -Infinity;
      let mean = 0;
      for (const s of list) {
        min = Math.min(min, s.min[j] as number);
        max = Math.max(max, s.max[j] as number);
        mean += (s.count * (s.mean[j] as number)) / (total || 1);
      }
      let variance = 0;
      for (const s of list)
        variance += (s.count * ((s.std[j] as number) ** 2 + ((s.mean[j] as number) - mean) ** 2)) / (total || 1);
      agg.min[j] = min;
      agg.max[j] = max;
      agg.mean[j] = mean;
      agg.std[j] = Math.sqrt(variance);
      for (const q of QUANTILE_KEYS) {
        agg[q][j] = list.reduce((a, s) => a + (s.count * (s[q][j] as number)) / (total || 1), 0);
      }
    }
    out[key] = agg;
  }
  return out;
}

// ---- meta/stats.json ----------------------------------------------------------------------------------------------

/** A number array, possibly nested (images store [3][1][1]). */
const nested: z.ZodType<unknown> = z.lazy(() => z.union([z.number(), z.array(nested)]));
const fileFeatureStatsSchema = z.looseObject({
  min: z.array(nested),
  max: z.array(nested),
  mean: z.array(nested),
  std: z.array(nested),
  count: z.union([z.array(z.int().nonnegative()).length(1), z.int().nonnegative()]),
  q01: z.array(nested),
  q10: z.array(nested),
  q50: z.array(nested),
  q90: z.array(nested),
  q99: z.array(nested),
});
export const statsFileSchema = z.record(z.string(), fileFeatureStatsSchema);

function flat(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flat) : [value as number];
}

/** stats.json contents (validated) → flat per-element statistics. */
export function statsFromFile(file: z.output<typeof statsFileSchema>): DatasetStats {
  const out: DatasetStats = {};
  for (const [key, s] of Object.entries(file)) {
    const entry = { count: Array.isArray(s.count) ? (s.count[0] as number) : s.count } as DatasetFeatureStats;
    for (const k of STAT_KEYS) entry[k] = flat(s[k]);
    out[key] = entry;
  }
  return out;
}

/**
 * Statistics → stats.json contents in LeRobot's shapes: vectors as [D], images per channel as [3][1][1],
 * count as [N].
 */
export function statsToFile(stats: DatasetStats, imageKeys: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(stats)) {
    const shape = (v: number[]) => (imageKeys.has(key) ? v.map((x) => [[x]]) : v);
    const entry: Record<string, unknown> = {};
    for (const k of STAT_KEYS) entry[k] = shape(s[k]);
    entry["count"] = [s.count];
    out[key] = entry;
  }
  return out;
}
