// Read the parameters back out of an exported inference graph (initializers, float32 or float16), by parameter name:
// what lets a shipped model's weights be reused where its training checkpoint is not shipped (train --observer-from);
// and count its nodes by op type.
import { DuetError, type Issue } from "../core/index.ts";
import { F16_SUFFIX, ONNX_FLOAT16, type WeightPrecision } from "./onnx.ts";
import type { ParamLayout } from "./params.ts";
import { ONNX_DTYPE } from "./tensor.ts";

/** float32 value of IEEE 754 half-precision bits `h`. */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** One protobuf field: a varint's value (wire type 0) or a length-delimited body (wire type 2). */
type Field = { field: number; value: number; body: null } | { field: number; value: 0; body: Uint8Array };

/** Reads varints from `buf` from `at.pos` on, advancing it. */
function varint(buf: Uint8Array, at: { pos: number }, what: string): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (at.pos >= buf.length) throw new DuetError(`${what}: truncated protobuf`);
    const b = buf[at.pos++] as number;
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v;
    mul *= 128;
  }
}

/** The fields of one protobuf message, in order; fixed-width ones (wire types 1 and 5) skipped. */
function* fields(buf: Uint8Array, what: string): Generator<Field> {
  const at = { pos: 0 };
  while (at.pos < buf.length) {
    const key = varint(buf, at, what);
    const wire = key & 7;
    const field = Math.floor(key / 8);
    if (wire === 0) yield { field, value: varint(buf, at, what), body: null };
    else if (wire === 1) at.pos += 8;
    else if (wire === 5) at.pos += 4;
    else if (wire === 2) {
      const n = varint(buf, at, what);
      if (at.pos + n > buf.length) throw new DuetError(`${what}: truncated protobuf`);
      yield { field, value: 0, body: buf.subarray(at.pos, at.pos + n) };
      at.pos += n;
    } else throw new DuetError(`${what}: not an ONNX model (protobuf wire type ${wire})`);
  }
}

/** A TensorProto's name (8), dims (1, packed or not), data_type (2) and raw_data (9). */
function tensorOf(
  t: Uint8Array,
  what: string,
): { name: string; dims: number[]; dtype: number; raw: Uint8Array | null } {
  const out = { name: "", dims: [] as number[], dtype: 0, raw: null as Uint8Array | null };
  for (const f of fields(t, what)) {
    if (f.field === 1 && f.body === null) out.dims.push(f.value);
    else if (f.field === 1 && f.body !== null) {
      const at = { pos: 0 };
      while (at.pos < f.body.length) out.dims.push(varint(f.body, at, what));
    } else if (f.field === 2) out.dtype = f.value;
    else if (f.field === 8 && f.body !== null) out.name = new TextDecoder().decode(f.body);
    else if (f.field === 9 && f.body !== null) out.raw = f.body;
  }
  return out;
}

/** The GraphProto (field 7) of the ModelProto `bytes`. */
function graphOf(bytes: Uint8Array, what: string): Uint8Array {
  let graph: Uint8Array | null = null;
  for (const f of fields(bytes, what)) if (f.field === 7) graph = f.body;
  if (!graph) throw new DuetError(`${what}: not an ONNX model (no graph)`);
  return graph;
}

/** A parameter read from a graph: its shape and float32 values. */
export interface StoredParam {
  shape: number[];
  values: Float32Array;
  /** How the graph stored it. */
  precision: WeightPrecision;
}

/**
 * The float initializers of the ONNX model `bytes` by parameter name (a float16 one, `NAME/f16`, as NAME, widened to
 * float32). `what` names the file in errors. Only raw_data initializers (what duet writes) are read.
 */
export function readOnnxParams(bytes: Uint8Array, what: string): Map<string, StoredParam> {
  const out = new Map<string, StoredParam>();
  for (const f of fields(graphOf(bytes, what), what)) {
    if (f.field !== 5 || f.body === null) continue;
    const { name, dims, dtype, raw } = tensorOf(f.body, what);
    if (!raw) continue;
    const n = dims.reduce((p, q) => p * q, 1);
    const width = dtype === ONNX_DTYPE.float32 ? 4 : dtype === ONNX_FLOAT16 ? 2 : 0;
    if (width > 0 && raw.byteLength !== width * n)
      throw new DuetError(
        `${what}: initializer ${name} holds ${raw.byteLength} bytes, expected ${width * n} for shape [${dims.join(",")}]`,
      );
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (dtype === ONNX_DTYPE.float32) {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = view.getFloat32(4 * i, true);
      out.set(name, { shape: dims, values, precision: "float32" });
    } else if (dtype === ONNX_FLOAT16 && name.endsWith(F16_SUFFIX)) {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = float16Value(view.getUint16(2 * i, true));
      out.set(name.slice(0, -F16_SUFFIX.length), { shape: dims, values, precision: "float16" });
    }
  }
  return out;
}

/** How many nodes of each op type the ONNX model `bytes` has (diagnostics: scripts/graph-nodes.ts). */
export function onnxOpCounts(bytes: Uint8Array, what: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of fields(graphOf(bytes, what), what)) {
    if (f.field !== 1 || f.body === null) continue;
    for (const a of fields(f.body, what)) {
      if (a.field !== 4 || a.body === null) continue;
      const op = new TextDecoder().decode(a.body);
      out.set(op, (out.get(op) ?? 0) + 1);
    }
  }
  return out;
}

/**
 * The values of `layout`'s parameters taken by name from `stored` (readOnnxParams's map), and an issue for each one
 * missing there or of another shape (for one ValidationError naming them all).
 */
export function paramsByName(
  layout: ParamLayout,
  stored: ReadonlyMap<string, StoredParam>,
): { values: Float32Array; issues: Issue[] } {
  const values = new Float32Array(layout.total);
  const issues: Issue[] = [];
  for (const e of layout.entries) {
    const p = stored.get(e.name);
    if (p && p.shape.join(",") === e.shape.join(",")) values.set(p.values, e.offset);
    else
      issues.push({
        path: e.name,
        expected: `[${e.shape.join(",")}]`,
        received: p ? `[${p.shape.join(",")}]` : "nothing (not in the model's graphs)",
      });
  }
  return { values, issues };
}
