// Frame data files (data/chunk-XXX/file-XXX.parquet): one row per frame, many episodes per file, one row group per
// episode. Columns follow info.json's features: vectors as float32 lists, scalars, images as {bytes: PNG, path: null}.
import { IMAGE_KEY_PREFIX, type Issue } from "../core/index.ts";
import type { Features } from "./info.ts";
import { columnKinds, writeTable, type ColumnKind, type ColumnSpec, type ParquetFile } from "./parquet.ts";

/** The parquet column kind that stores a feature, or null when duet cannot store it. */
export function columnKindOf(dtype: string, shape: readonly number[]): ColumnKind | null {
  if (dtype === "image") return "image";
  const scalar = shape.length === 1 && shape[0] === 1;
  const vector = shape.length === 1;
  switch (dtype) {
    case "float32":
      return scalar ? "float32" : vector ? "float32[]" : null;
    case "float64":
      return scalar ? "float64" : vector ? "float64[]" : null;
    case "int64":
      return scalar ? "int64" : vector ? "int64[]" : null;
    case "bool":
      return scalar ? "bool" : null;
    case "string":
      return scalar ? "string" : null;
    default:
      return null;
  }
}

/**
 * The `huggingface` key-value metadata HF `datasets` writes, so that `load_dataset("parquet", …)` decodes images
 * and fixed-length sequences without being told the features.
 */
export function hfFeaturesMetadata(features: Features): string {
  const hf: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(features)) {
    if (f.dtype === "image") hf[key] = { _type: "Image" };
    else if (f.shape.length === 1 && f.shape[0] === 1) hf[key] = { dtype: f.dtype, _type: "Value" };
    else hf[key] = { feature: { dtype: f.dtype, _type: "Value" }, length: f.shape[0], _type: "Sequence" };
  }
  return JSON.stringify({ info: { features: hf } });
}

/** Values of one data file, column by column, in feature order. Lists are plain arrays, int64 bigint. */
export interface DataColumns {
  /** Rows per row group (one per episode). */
  rowGroups: number[];
  columns: Record<string, unknown[]>;
}

/** Encode a data file. `features` gives column order and kinds. */
export function encodeDataFile(features: Features, data: DataColumns): Uint8Array {
  const columns: ColumnSpec[] = [];
  for (const [key, f] of Object.entries(features)) {
    const kind = columnKindOf(f.dtype, f.shape);
    const values = data.columns[key];
    if (kind === null || values === undefined) throw new RangeError(`encodeDataFile: no column for feature ${key}`);
    columns.push({ name: key, kind, data: values });
  }
  return writeTable(columns, {
    rowGroups: data.rowGroups,
    kvMetadata: [{ key: "huggingface", value: hfFeaturesMetadata(features) }],
  });
}

/** Every way a data file's columns differ from the features (missing column, other type). Paths name the column. */
export function dataFileIssues(pq: ParquetFile, features: Features): Issue[] {
  const kinds = columnKinds(pq);
  const issues: Issue[] = [];
  for (const [key, f] of Object.entries(features)) {
    if (f.dtype === "video") continue;
    const want = columnKindOf(f.dtype, f.shape);
    const have = kinds.get(key);
    if (have === undefined) {
      issues.push({ path: `column ${key}`, expected: `a ${want ?? f.dtype} column`, received: "nothing (missing)" });
    } else if (want !== null && have !== want) {
      issues.push({ path: `column ${key}`, expected: want, received: have ?? "an unsupported parquet type" });
    }
  }
  for (const [name] of kinds) {
    if (!(name in features)) {
      issues.push({
        path: `column ${name}`,
        expected: "a column declared in meta/info.json features",
        received: "an extra column",
      });
    }
  }
  return issues;
}

/** Image feature keys of a feature set, in order. */
export function imageKeysOf(features: Features): string[] {
  return Object.entries(features)
    .filter(([key, f]) => f.dtype === "image" && key.startsWith(IMAGE_KEY_PREFIX))
    .map(([key]) => key);
}
