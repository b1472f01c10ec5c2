// Emit a GraphBuilder's graph as ONNX ModelProto bytes (opset 18, IR version 8).
import { DuetError } from "../core/index.ts";
import type { GraphBuilder } from "./graph.ts";
import type { ParamLayout } from "./params.ts";
import { ProtoWriter } from "./proto.ts";
import { ONNX_DTYPE, type DType, type Node, type Tensor } from "./tensor.ts";

export const OPSET = 18;
export const BATCH_DIM = "batch";

/** How parameters reach the graph. */
export type ParamSource =
  /**
   * Embedded initializers with values taken from `values` (exported inference graphs). `float16` stores each
   * parameter as an IEEE half initializer followed by a Cast to float32: half the file, and onnxruntime folds the Cast
   * into a float32 constant when the session starts, so inference runs in float32 at unchanged speed.
   */
  | { mode: "initializers"; layout: ParamLayout; values: Float32Array; precision?: WeightPrecision }
  /** One flat graph input `input` [P]; each parameter is a Slice + Reshape of it (training graphs). */
  | { mode: "flat"; layout: ParamLayout; input: Tensor };

export interface EmitOptions {
  /** Graph name (default "duet"). */
  name?: string;
  /** Output names to emit, in order (default: every `g.output`). */
  outputs?: readonly string[];
  params: ParamSource;
  /** Keep each tensor's batch axis symbolic (`batch`) in the exported graph (default false). */
  symbolicBatch?: boolean;
}

/** How exported inference graphs store their parameters. */
export type WeightPrecision = "float32" | "float16";

/** ONNX TensorProto code of float16 (the builder's graphs never compute in it; only stored weights use it). */
export const ONNX_FLOAT16 = 10;

/** Name suffix of a parameter's float16 initializer (NAME/f16, cast to NAME). */
export const F16_SUFFIX = "/f16";

/** IEEE 754 half-precision bits of `x`, rounded to nearest even (overflow → ±Infinity, underflow → subnormal / 0). */
export function float16Bits(x: number): number {
  const f32 = new Float32Array([x]);
  const u = new Uint32Array(f32.buffer)[0] as number;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000; // implicit leading 1
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let out = m >>> shift;
    if (rest > half || (rest === half && out & 1)) out++;
    return sign | out;
  }
  let out = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && out & 1)) out++; // may carry into the exponent: still correct
  return sign | out;
}

function float16Bytes(a: Float32Array): Uint8Array {
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = float16Bits(a[i] as number);
  return new Uint8Array(out.buffer);
}

/** Declared graph input or output (what runtime validation checks against). */
export interface ValueSpec {
  name: string;
  dtype: DType;
  /** Dimensions; the string `batch` marks the symbolic batch dimension. */
  shape: (number | string)[];
}

export interface OnnxModel {
  bytes: Uint8Array;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
}

function specOf(name: string, t: Tensor, symbolic: boolean): ValueSpec {
  const shape: (number | string)[] = [...t.shape];
  if (symbolic && t.batchAxis !== null) shape[t.batchAxis] = BATCH_DIM;
  return { name, dtype: t.dtype, shape };
}

function writeValueInfo(w: ProtoWriter, field: number, spec: ValueSpec): void {
  w.message(field, (vi) => {
    vi.string(1, spec.name);
    vi.message(2, (tp) =>
      tp.message(1, (tt) => {
        tt.int(1, ONNX_DTYPE[spec.dtype]);
        tt.message(2, (sh) => {
          for (const d of spec.shape)
            sh.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)));
        });
      }),
    );
  });
}

function writeTensor(
  w: ProtoWriter,
  field: number,
  name: string,
  dtype: DType | "float16",
  shape: readonly number[],
  raw: Uint8Array,
): void {
  w.message(field, (t) => {
    if (shape.length > 0) t.packedInts(1, shape);
    t.int(2, dtype === "float16" ? ONNX_FLOAT16 : ONNX_DTYPE[dtype]);
    t.string(8, name);
    t.bytes(9, raw);
  });
}

function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

type Attr = { name: string } & ({ i: number } | { ints: readonly number[] });

/** Serialize the part of `g` that the requested outputs depend on. */
export function toOnnx(g: GraphBuilder, options: EmitOptions): OnnxModel {
  const symbolic = options.symbolicBatch ?? false;
  const outNames = options.outputs ?? [...g.outputs.keys()];
  const outs = outNames.map((n) => {
    const t = g.outputs.get(n);
    if (!t) throw new DuetError(`toOnnx: no output named '${n}' (have ${[...g.outputs.keys()].join(", ")})`);
    return [n, t] as const;
  });

  // Reachability from the outputs.
  const needed = new Set<number>();
  const stack = outs.map(([, t]) => t);
  while (stack.length > 0) {
    const t = stack.pop() as Tensor;
    if (needed.has(t.id)) continue;
    needed.add(t.id);
    if (t.node) stack.push(...t.node.inputs);
  }
  if (options.params.mode === "flat") needed.add(options.params.input.id);
  const nodes = g.nodes.filter((n) => needed.has(n.output.id));
  if (symbolic) {
    const lost = nodes.filter((n) => n.batchLost).map((n) => n.name);
    if (lost.length > 0) {
      throw new DuetError(`toOnnx: cannot keep the batch dimension symbolic through: ${lost.join(", ")}`);
    }
  }

  const gw = new ProtoWriter();
  let constId = 0;
  const int64Const = (values: readonly number[]): string => {
    const name = `c${constId++}`;
    writeTensor(gw, 5, name, "int64", [values.length], bytesOf(BigInt64Array.from(values, (v) => BigInt(v))));
    return name;
  };
  const writeNode = (op: string, name: string, inputs: readonly string[], output: string, attrs: Attr[] = []): void => {
    gw.message(1, (nw) => {
      for (const i of inputs) nw.string(1, i);
      nw.string(2, output);
      nw.string(3, name);
      nw.string(4, op);
      for (const a of attrs) {
        nw.message(5, (aw) => {
          aw.string(1, a.name);
          if ("i" in a) {
            aw.int(3, a.i);
            aw.int(20, 2);
          } else {
            aw.packedInts(8, a.ints);
            aw.int(20, 7);
          }
        });
      }
    });
  };
  // A node's tensor that is an output takes the output's name, so no Identity copies it (a copy per step of every
  // training state vector); a tensor exported under two names gets an Identity for the second.
  const outputName = new Map<number, string>();
  for (const [name, t] of outs) if (t.kind === "node" && !outputName.has(t.id)) outputName.set(t.id, name);
  const tname = (t: Tensor): string => outputName.get(t.id) ?? t.name;

  // Leaves: parameters, constants.
  const params = options.params;
  for (const p of g.params) {
    if (!needed.has(p.id)) continue;
    const e = params.layout.entry(p.name);
    if (params.mode === "initializers") {
      const values = params.values.subarray(e.offset, e.offset + e.size);
      if ((params.precision ?? "float32") === "float16") {
        writeTensor(gw, 5, p.name + F16_SUFFIX, "float16", p.shape, float16Bytes(values));
        writeNode("Cast", `${p.name}/Cast`, [p.name + F16_SUFFIX], p.name, [{ name: "to", i: ONNX_DTYPE.float32 }]);
      } else {
        writeTensor(gw, 5, p.name, "float32", p.shape, bytesOf(values));
      }
    } else {
      const sliced = `${p.name}/flat`;
      writeNode(
        "Slice",
        `${p.name}/Slice`,
        [params.input.name, int64Const([e.offset]), int64Const([e.offset + e.size]), int64Const([0])],
        sliced,
      );
      writeNode("Reshape", `${p.name}/Reshape`, [sliced, int64Const(p.shape)], p.name);
    }
  }
  const consts = new Map<number, Tensor>();
  for (const n of nodes) for (const i of n.inputs) if (i.kind === "const") consts.set(i.id, i);
  for (const c of consts.values()) writeTensor(gw, 5, c.name, c.dtype, c.shape, bytesOf(c.data as Float32Array));

  const batchShape = (shape: readonly number[], axis: number | null, fill: number): number[] => {
    const s = [...shape];
    if (symbolic && axis !== null) s[axis] = fill;
    return s;
  };
  for (const n of nodes) emitNode(n);
  function emitNode(n: Node): void {
    const ins = n.inputs.map(tname);
    const out = tname(n.output);
    const a = n.args;
    switch (n.op) {
      case "Transpose":
        return writeNode(n.op, n.name, ins, out, [{ name: "perm", ints: a.perm ?? [] }]);
      case "Reshape":
        return writeNode(n.op, n.name, [...ins, int64Const(batchShape(a.shape ?? [], n.output.batchAxis, -1))], out);
      case "Expand":
        return writeNode(n.op, n.name, [...ins, int64Const(batchShape(a.shape ?? [], n.output.batchAxis, 1))], out);
      case "Slice":
        return writeNode(
          n.op,
          n.name,
          [...ins, int64Const(a.starts ?? []), int64Const(a.ends ?? []), int64Const(a.axes ?? [])],
          out,
        );
      case "Pad":
        return writeNode(n.op, n.name, [...ins, int64Const(a.pads ?? [])], out);
      case "ReduceSum":
      case "ReduceMean":
        return writeNode(n.op, n.name, [...ins, int64Const(a.axes ?? [])], out, [
          { name: "keepdims", i: a.keepdims ? 1 : 0 },
        ]);
      case "Concat":
      case "Softmax":
      case "LogSoftmax":
      case "Gather":
        return writeNode(n.op, n.name, ins, out, [{ name: "axis", i: a.axis ?? 0 }]);
      case "Cast":
        return writeNode(n.op, n.name, ins, out, [{ name: "to", i: ONNX_DTYPE[a.to ?? "float32"] }]);
      default:
        return writeNode(n.op, n.name, ins, out);
    }
  }

  // Outputs (Identity where the output name differs from the tensor's).
  const outputs: ValueSpec[] = [];
  for (const [name, t] of outs) {
    if (tname(t) !== name) writeNode("Identity", `${name}/Identity`, [tname(t)], name);
    outputs.push(specOf(name, t, symbolic));
  }
  const inputs = g.inputs.filter((t) => needed.has(t.id)).map((t) => specOf(t.name, t, symbolic));
  gw.string(2, options.name ?? "duet");
  for (const s of inputs) writeValueInfo(gw, 11, s);
  for (const s of outputs) writeValueInfo(gw, 12, s);

  const mw = new ProtoWriter();
  mw.int(1, 8);
  mw.string(2, "duet");
  mw.bytes(7, gw.finish());
  mw.message(8, (ow) => {
    ow.string(1, "");
    ow.int(2, OPSET);
  });
  return { bytes: mw.finish(), inputs, outputs };
}
