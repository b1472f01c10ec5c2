// Parquet tables as LeRobot/HF `datasets` (pyarrow) write them: optional columns, 3-level LIST groups named
// list/element, UTF-8 strings, and `image` features as struct {bytes: binary, path: string}.
// The only module that imports the parquet library (hyparquet + hyparquet-writer).
import { parquetMetadata, parquetReadObjects, type FileMetaData, type SchemaElement } from "hyparquet";
import { parquetWriteBuffer, type ColumnSource, type KeyValue } from "hyparquet-writer";
import { DuetError } from "../core/index.ts";

/** Logical column kinds used by datasets. `[]` = list (fixed length by convention), `[][][]` = 3-deep nested list. */
export type ColumnKind =
  | "float32"
  | "float64"
  | "int64"
  | "bool"
  | "string"
  | "float32[]"
  | "float64[]"
  | "int64[]"
  | "string[]"
  | "float64[][][]"
  | "image";

/** A column to write: its name, kind and one value per row (lists as plain arrays, int64 as bigint). */
export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
  data: unknown[];
}

const LEAF: Record<string, Omit<SchemaElement, "name">> = {
  float32: { type: "FLOAT" },
  float64: { type: "DOUBLE" },
  int64: { type: "INT64" },
  bool: { type: "BOOLEAN" },
  string: { type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } },
};

/** Parquet schema elements (depth-first) for one column of `kind`. */
function schemaOf(name: string, kind: ColumnKind): SchemaElement[] {
  if (kind === "image") {
    return [
      { name, repetition_type: "OPTIONAL", num_children: 2 },
      { name: "bytes", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" },
      { name: "path", ...LEAF["string"], repetition_type: "OPTIONAL" },
    ];
  }
  const depth = kind.split("[]").length - 1;
  const leaf = LEAF[kind.replace(/\[\]/g, "")];
  if (leaf === undefined) throw new RangeError(`parquet: unknown column kind ${kind}`);
  const out: SchemaElement[] = [];
  let elementName = name;
  for (let i = 0; i < depth; i++) {
    out.push({ name: elementName, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 });
    out.push({ name: "list", repetition_type: "REPEATED", num_children: 1 });
    elementName = "element";
  }
  out.push({ name: elementName, ...leaf, repetition_type: "OPTIONAL" });
  return out;
}

/** Write columns (equal lengths) to parquet bytes. `rowGroups`: rows per row group in order (e.g. one per episode). */
export function writeTable(
  columns: readonly ColumnSpec[],
  options: { rowGroups?: number[]; kvMetadata?: KeyValue[] } = {},
): Uint8Array {
  const schema: SchemaElement[] = [{ name: "schema", num_children: columns.length }];
  const columnData: ColumnSource[] = [];
  for (const c of columns) {
    schema.push(...schemaOf(c.name, c.kind));
    // Images are PNG already: compressing or dictionary-encoding them again only costs time.
    const raw = c.kind === "image";
    columnData.push({
      name: c.name,
      data: c.data,
      ...(raw ? { codec: "UNCOMPRESSED" as const, encoding: "PLAIN" as const, statistics: false } : {}),
    });
  }
  const rows = columns[0]?.data.length ?? 0;
  const rowGroups = options.rowGroups?.filter((n) => n > 0);
  const buffer = parquetWriteBuffer({
    columnData,
    schema,
    codec: "SNAPPY",
    rowGroupSize: rowGroups !== undefined && rowGroups.length > 0 ? [...rowGroups, rows || 1] : Math.max(rows, 1),
    ...(options.kvMetadata ? { kvMetadata: options.kvMetadata } : {}),
    createdBy: "duet (hyparquet-writer)",
  });
  return new Uint8Array(buffer);
}

/** A parquet file read into memory: its metadata and its bytes, for repeated reads of row ranges. */
export interface ParquetFile {
  /** Path, for error messages. */
  file: string;
  bytes: ArrayBuffer;
  metadata: FileMetaData;
}

/** Parse a parquet file's footer. Any failure is a DuetError naming the file. */
export function openParquet(file: string, bytes: Uint8Array): ParquetFile {
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  try {
    return { file, bytes: copy, metadata: parquetMetadata(copy) };
  } catch (e) {
    throw new DuetError(
      `${file}: not a readable parquet file (${(e as Error).message}); it is truncated or corrupt — ` +
        `restore it, or run \`duet dataset validate\` to see which episodes it holds`,
    );
  }
}

/** Top-level columns of a parquet file with their logical kind (null when duet does not know the layout). */
export function columnKinds(pq: ParquetFile): Map<string, ColumnKind | null> {
  const schema = pq.metadata.schema;
  const out = new Map<string, ColumnKind | null>();
  let i = 1;
  const skip = (index: number): number => {
    const el = schema[index];
    let next = index + 1;
    for (let c = 0; c < (el?.num_children ?? 0); c++) next = skip(next);
    return next;
  };
  while (i < schema.length) {
    const el = schema[i] as SchemaElement;
    const next = skip(i);
    out.set(el.name, kindOf(schema.slice(i, next)));
    i = next;
  }
  return out;
}

function kindOf(elements: SchemaElement[]): ColumnKind | null {
  const [top] = elements;
  if (top === undefined) return null;
  if (top.num_children === 2 && elements[1]?.name === "bytes" && elements[2]?.name === "path") return "image";
  let depth = 0;
  let leaf = top;
  for (let k = 0; k < elements.length; k++) {
    const el = elements[k] as SchemaElement;
    if (el.repetition_type === "REPEATED") depth++;
    if (el.type !== undefined) leaf = el;
  }
  const base =
    leaf.type === "FLOAT"
      ? "float32"
      : leaf.type === "DOUBLE"
        ? "float64"
        : leaf.type === "INT64"
          ? "int64"
          : leaf.type === "BOOLEAN"
            ? "bool"
            : leaf.type === "BYTE_ARRAY" && leaf.converted_type === "UTF8"
              ? "string"
              : null;
  if (base === null) return null;
  const kind = base + "[]".repeat(depth);
  return (
    (
      [
        "float32",
        "float64",
        "int64",
        "bool",
        "string",
        "float32[]",
        "float64[]",
        "int64[]",
        "string[]",
        "float64[][][]",
      ] as const
    ).find((k) => k === kind) ?? null
  );
}

/** Rows [rowStart, rowEnd) of `columns` as objects. Failures (a damaged page) name the file. */
export async function readRows(
  pq: ParquetFile,
  columns: readonly string[],
  rowStart?: number,
  rowEnd?: number,
): Promise<Record<string, unknown>[]> {
  try {
    return await parquetReadObjects({
      file: pq.bytes,
      metadata: pq.metadata,
      columns: [...columns],
      utf8: false,
      ...(rowStart !== undefined ? { rowStart } : {}),
      ...(rowEnd !== undefined ? { rowEnd } : {}),
    });
  } catch (e) {
    const range = rowStart !== undefined ? ` rows ${rowStart}-${(rowEnd ?? 0) - 1}` : "";
    throw new DuetError(`${pq.file}:${range} cannot decode columns ${columns.join(", ")} (${(e as Error).message})`);
  }
}

/** Number of rows in the file. */
export function rowCount(pq: ParquetFile): number {
  return Number(pq.metadata.num_rows);
}

/** A key-value metadata entry of the file, if present. */
export function kvValue(pq: ParquetFile, key: string): string | undefined {
  return pq.metadata.key_value_metadata?.find((kv) => kv.key === key)?.value;
}
