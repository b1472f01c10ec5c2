// GraphBuilder: records ONNX operators with static shape inference at build time (errors name the node and shapes).
// Over 400 lines because it is one method per ONNX operator, each with its shape rule: one table read top to bottom.
import { DuetError } from "../core/index.ts";
import { numel, shapeStr, type DType, type Node, type NodeArgs, type OpType, type Tensor } from "./tensor.ts";

/** A graph that cannot be built: names the node and the shapes involved. */
export class ShapeError extends DuetError {
  override name = "ShapeError";
}

/** How a parameter is initialized (seeded; see params.ts). */
export type ParamInit =
  { kind: "uniform"; bound: number } | { kind: "normal"; std: number } | { kind: "const"; value: number };

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: ParamInit;
  /** Decoupled weight decay applies to this parameter (default: rank ≥ 2). */
  readonly decay: boolean;
}

export interface InputOptions {
  dtype?: DType;
  /** Axis that becomes the symbolic batch dimension in exported graphs; null = none. Default 0 for rank ≥ 1. */
  batchAxis?: number | null;
}

/** Either a tensor or a number (a float32 scalar constant). */
export type Operand = Tensor | number;

function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * Records a computation as ONNX nodes. Every op infers its output shape now, so a mismatch fails at build time.
 * Names are scoped: `g.scope("enc.block0", () => ...)` prefixes node and parameter names.
 */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly params: Tensor[] = [];
  readonly paramSpecs = new Map<string, ParamSpec>();
  readonly outputs = new Map<string, Tensor>();
  /** True while building the training graph: dropout is active. */
  training = false;
  /**
   * True while building a graph that is only exported for inference, never differentiated: modules may then take
   * forms that onnxruntime fuses into fewer kernels (GroupNorm through LayerNormalization) at the cost of extra nodes
   * that a gradient would have to pass through. The function computed is the same up to float rounding.
   */
  inference = false;
  private nextId = 0;
  private seedInput: Tensor | null = null;
  /** Size of the batch axis of the first batched input (every batch axis is a multiple of it). */
  private batchSize: number | null = null;
  private scopes: string[] = [];
  private scalars = new Map<number, Tensor>();
  private paramByName = new Map<string, Tensor>();

  private prefixed(name: string): string {
    return this.scopes.length === 0 ? name : `${this.scopes.join(".")}.${name}`;
  }

  /** Run `body` with `name` appended to the naming scope (parameters become `scope.name`). */
  scope<T>(name: string, body: () => T): T {
    this.scopes.push(name);
    try {
      return body();
    } finally {
      this.scopes.pop();
    }
  }

  private leaf(
    name: string,
    shape: readonly number[],
    dtype: DType,
    kind: Tensor["kind"],
    batchAxis: number | null,
    data: Tensor["data"],
  ): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 1) throw new ShapeError(`${kind} '${name}': invalid shape ${shapeStr(shape)}`);
    }
    return { id: this.nextId++, name, shape: [...shape], dtype, kind, batchAxis, node: null, data };
  }

  /** A graph input. Batch axis defaults to 0 (symbolic in exported graphs) for rank ≥ 1. */
  input(name: string, shape: readonly number[], options: InputOptions = {}): Tensor {
    if (this.inputs.some((t) => t.name === name)) throw new ShapeError(`input '${name}' declared twice`);
    const batchAxis = options.batchAxis === undefined ? (shape.length > 0 ? 0 : null) : options.batchAxis;
    const t = this.leaf(name, shape, options.dtype ?? "float32", "input", batchAxis, null);
    if (batchAxis !== null) this.batchSize ??= shape[batchAxis] ?? null;
    this.inputs.push(t);
    return t;
  }

  /**
   * The scalar float input `noise_seed` that drives in-graph noise (dropout), created on first use. Feed a phase in
   * [0, 2π) that changes every step (TrainingGraph derives it from the step number, so resume is exact).
   */
  noiseSeed(): Tensor {
    this.seedInput ??= this.input("noise_seed", [], { batchAxis: null });
    return this.seedInput;
  }

  /** A trainable float32 parameter named within the current scope; the same name returns the same tensor. */
  param(name: string, shape: readonly number[], init: ParamInit, decay?: boolean): Tensor {
    const full = this.prefixed(name);
    const existing = this.paramByName.get(full);
    if (existing) {
      if (shapeStr(existing.shape) !== shapeStr(shape)) {
        throw new ShapeError(`param '${full}': reused with shape ${shapeStr(shape)}, was ${shapeStr(existing.shape)}`);
      }
      return existing;
    }
    const t = this.leaf(full, shape, "float32", "param", null, null);
    this.params.push(t);
    this.paramByName.set(full, t);
    this.paramSpecs.set(full, { name: full, shape: [...shape], init, decay: decay ?? shape.length >= 2 });
    return t;
  }

  /** A constant tensor (embedded in the ONNX model). */
  constant(data: Float32Array | BigInt64Array | readonly number[], shape: readonly number[], dtype?: DType): Tensor {
    const dt: DType = dtype ?? (data instanceof BigInt64Array ? "int64" : "float32");
    const arr =
      dt === "int64"
        ? data instanceof BigInt64Array
          ? data
          : BigInt64Array.from(Array.from(data as ArrayLike<number>, (v) => BigInt(v)))
        : data instanceof Float32Array
          ? data
          : Float32Array.from(data as ArrayLike<number>);
    if (arr.length !== numel(shape)) {
      throw new ShapeError(`constant: ${arr.length} values for shape ${shapeStr(shape)}`);
    }
    return this.leaf(`const_${this.nextId}`, shape, dt, "const", null, arr);
  }

  /** A float32 scalar constant (cached per value). */
  scalar(value: number): Tensor {
    let t = this.scalars.get(value);
    if (!t) {
      t = this.constant([value], []);
      this.scalars.set(value, t);
    }
    return t;
  }

  private operand(x: Operand): Tensor {
    return typeof x === "number" ? this.scalar(x) : x;
  }

  /** Mark `t` as a graph output named `name`. */
  output(name: string, t: Tensor): Tensor {
    this.outputs.set(name, t);
    return t;
  }

  /** Low-level: append a node whose output shape/dtype/batch axis were already inferred. */
  private emit(
    op: OpType,
    inputs: readonly Tensor[],
    args: NodeArgs,
    shape: readonly number[],
    dtype: DType,
    batchAxis: number | null,
    batchLost = false,
  ): Tensor {
    const id = this.nextId++;
    const name = this.prefixed(`${op}_${id}`);
    const node: Node = { op, name, inputs, args, batchLost, output: undefined as unknown as Tensor };
    const out: Tensor = { id, name: `t${id}`, shape: [...shape], dtype, kind: "node", batchAxis, node, data: null };
    node.output = out;
    this.nodes.push(node);
    return out;
  }

  private fail(op: OpType, message: string): never {
    throw new ShapeError(`${op} node '${this.prefixed(`${op}_${this.nextId}`)}': ${message}`);
  }

  private binary(op: OpType, a0: Operand, b0: Operand, outDtype?: DType): Tensor {
    const a = this.operand(a0);
    const b = this.operand(b0);
    if (a.dtype !== b.dtype) this.fail(op, `dtypes ${a.dtype} and ${b.dtype} differ`);
    const shape = broadcastShapes(a.shape, b.shape);
    if (!shape) this.fail(op, `shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} do not broadcast`);
    const r = shape.length;
    const batchAxis =
      a.batchAxis !== null
        ? r - a.shape.length + a.batchAxis
        : b.batchAxis !== null
          ? r - b.shape.length + b.batchAxis
          : null;
    return this.emit(op, [a, b], {}, shape, outDtype ?? a.dtype, batchAxis);
  }

  add(a: Operand, b: Operand): Tensor {
    return this.binary("Add", a, b);
  }
  sub(a: Operand, b: Operand): Tensor {
    return this.binary("Sub", a, b);
  }
  mul(a: Operand, b: Operand): Tensor {
    return this.binary("Mul", a, b);
  }
  div(a: Operand, b: Operand): Tensor {
    return this.binary("Div", a, b);
  }
  /**
   * x^p for a constant exponent. `pow(centered, 2)` in a norm's variance (instead of `mul(centered, centered)`) is the
   * pattern onnxruntime's LayerNormFusion turns into one LayerNormalization node.
   */
  pow(x: Tensor, p: number): Tensor {
    return this.binary("Pow", x, p);
  }
  /** Elementwise minimum (gradient flows to the smaller operand; ties go to `a`). */
  min(a: Operand, b: Operand): Tensor {
    return this.binary("Min", a, b);
  }
  equal(a: Operand, b: Operand): Tensor {
    return this.binary("Equal", a, b, "bool");
  }
  less(a: Operand, b: Operand): Tensor {
    return this.binary("Less", a, b, "bool");
  }

  private unary(op: OpType, x: Tensor): Tensor {
    if (x.dtype !== "float32") this.fail(op, `expects float32, got ${x.dtype}`);
    return this.emit(op, [x], {}, x.shape, x.dtype, x.batchAxis);
  }
  neg(x: Tensor): Tensor {
    return this.unary("Neg", x);
  }
  exp(x: Tensor): Tensor {
    return this.unary("Exp", x);
  }
  log(x: Tensor): Tensor {
    return this.unary("Log", x);
  }
  sqrt(x: Tensor): Tensor {
    return this.unary("Sqrt", x);
  }
  reciprocal(x: Tensor): Tensor {
    return this.unary("Reciprocal", x);
  }
  tanh(x: Tensor): Tensor {
    return this.unary("Tanh", x);
  }
  sigmoid(x: Tensor): Tensor {
    return this.unary("Sigmoid", x);
  }
  relu(x: Tensor): Tensor {
    return this.unary("Relu", x);
  }
  erf(x: Tensor): Tensor {
    return this.unary("Erf", x);
  }
  sin(x: Tensor): Tensor {
    return this.unary("Sin", x);
  }
  cos(x: Tensor): Tensor {
    return this.unary("Cos", x);
  }
  /** Round down (gradient zero). */
  floor(x: Tensor): Tensor {
    return this.unary("Floor", x);
  }
  identity(x: Tensor): Tensor {
    return this.emit("Identity", [x], {}, x.shape, x.dtype, x.batchAxis);
  }

  cast(x: Tensor, to: DType): Tensor {
    return this.emit("Cast", [x], { to }, x.shape, to, x.batchAxis);
  }

  /** where(cond, a, b) with broadcasting. */
  where(cond: Tensor, a0: Operand, b0: Operand): Tensor {
    const a = this.operand(a0);
    const b = this.operand(b0);
    if (cond.dtype !== "bool") this.fail("Where", `condition must be bool, got ${cond.dtype}`);
    const ab = broadcastShapes(a.shape, b.shape);
    const shape = ab && broadcastShapes(cond.shape, ab);
    if (!shape) {
      this.fail("Where", `shapes ${shapeStr(cond.shape)}, ${shapeStr(a.shape)}, ${shapeStr(b.shape)} do not broadcast`);
    }
    const src = [cond, a, b].find((t) => t.batchAxis !== null);
    const batchAxis = src ? shape.length - src.shape.length + (src.batchAxis as number) : null;
    return this.emit("Where", [cond, a, b], {}, shape, a.dtype, batchAxis);
  }

  /** Batched matrix product (both operands rank ≥ 2; leading dims broadcast). */
  matmul(a: Tensor, b: Tensor): Tensor {
    if (a.shape.length < 2 || b.shape.length < 2) {
      this.fail("MatMul", `operands must have rank ≥ 2, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
    }
    const [m, k1] = a.shape.slice(-2) as [number, number];
    const [k2, n] = b.shape.slice(-2) as [number, number];
    if (k1 !== k2) {
      this.fail(
        "MatMul",
        `shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)}: inner dimensions ${k1} and ${k2} differ`,
      );
    }
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (!batch) this.fail("MatMul", `batch dims of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} do not broadcast`);
    const shape = [...batch, m, n];
    const r = shape.length;
    const batchAxis =
      a.batchAxis !== null
        ? r - a.shape.length + a.batchAxis
        : b.batchAxis !== null && b.batchAxis < b.shape.length - 2
          ? r - b.shape.length + b.batchAxis
          : null;
    return this.emit("MatMul", [a, b], {}, shape, a.dtype, batchAxis);
  }

  transpose(x: Tensor, perm: readonly number[]): Tensor {
    const sorted = [...perm].sort((p, q) => p - q);
    if (perm.length !== x.shape.length || sorted.some((p, i) => p !== i)) {
      this.fail("Transpose", `perm [${perm.join(",")}] does not fit shape ${shapeStr(x.shape)}`);
    }
    const shape = perm.map((p) => x.shape[p] as number);
    const batchAxis = x.batchAxis === null ? null : perm.indexOf(x.batchAxis);
    return this.emit("Transpose", [x], { perm }, shape, x.dtype, batchAxis);
  }

  /** Reshape to `shape` (one entry may be -1). */
  reshape(x: Tensor, shape0: readonly number[]): Tensor {
    const known = shape0.filter((d) => d !== -1);
    const total = numel(x.shape);
    const shape = [...shape0];
    const free = shape0.indexOf(-1);
    if (free >= 0) shape[free] = total / numel(known);
    if (shape.some((d) => !Number.isInteger(d) || d < 1) || numel(shape) !== total) {
      this.fail("Reshape", `cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape0)}`);
    }
    let batchAxis: number | null = null;
    let lost = false;
    if (x.batchAxis !== null) {
      const prefix = numel(x.shape.slice(0, x.batchAxis));
      let p = 1;
      batchAxis = -1;
      for (let j = 0; j < shape.length; j++) {
        if (p === prefix && (shape[j] as number) % (this.batchSize ?? 1) === 0) {
          batchAxis = j;
          break;
        }
        p *= shape[j] as number;
      }
      if (batchAxis < 0) {
        batchAxis = null;
        lost = true;
      }
    }
    return this.emit("Reshape", [x], { shape }, shape, x.dtype, batchAxis, lost);
  }

  /** Slice `[start, end)` along each of `axes` (step 1; negative indices count from the end). */
  slice(x: Tensor, axes: readonly number[], starts: readonly number[], ends: readonly number[]): Tensor {
    const shape = [...x.shape];
    const ax: number[] = [];
    const st: number[] = [];
    const en: number[] = [];
    axes.forEach((a0, i) => {
      const a = a0 < 0 ? a0 + x.shape.length : a0;
      const dim = x.shape[a];
      if (dim === undefined) this.fail("Slice", `axis ${a0} out of range for ${shapeStr(x.shape)}`);
      const norm = (v: number): number => Math.min(dim, Math.max(0, v < 0 ? v + dim : v));
      const s = norm(starts[i] as number);
      const e = norm(ends[i] as number);
      if (e <= s) this.fail("Slice", `empty slice [${starts[i]}, ${ends[i]}) on axis ${a0} of ${shapeStr(x.shape)}`);
      shape[a] = e - s;
      ax.push(a);
      st.push(s);
      en.push(e);
    });
    const lost = x.batchAxis !== null && ax.includes(x.batchAxis) && shape[x.batchAxis] !== x.shape[x.batchAxis];
    return this.emit("Slice", [x], { axes: ax, starts: st, ends: en }, shape, x.dtype, lost ? null : x.batchAxis, lost);
  }

  concat(xs: readonly Tensor[], axis0: number): Tensor {
    const first = xs[0];
    if (!first) this.fail("Concat", "no inputs");
    const axis = axis0 < 0 ? axis0 + first.shape.length : axis0;
    const shape = [...first.shape];
    shape[axis] = 0;
    for (const x of xs) {
      const ok = x.shape.length === first.shape.length && x.shape.every((d, i) => i === axis || d === first.shape[i]);
      if (!ok) this.fail("Concat", `shapes ${shapeStr(first.shape)} and ${shapeStr(x.shape)} differ off axis ${axis0}`);
      shape[axis] = (shape[axis] as number) + (x.shape[axis] as number);
    }
    const src = xs.find((t) => t.batchAxis !== null);
    return this.emit("Concat", xs, { axis }, shape, first.dtype, src ? src.batchAxis : null);
  }

  /** Constant zero padding; `pads` = [begin_0..begin_{r-1}, end_0..end_{r-1}], all ≥ 0. */
  pad(x: Tensor, pads: readonly number[]): Tensor {
    const r = x.shape.length;
    if (pads.length !== 2 * r || pads.some((p) => p < 0 || !Number.isInteger(p))) {
      this.fail("Pad", `pads [${pads.join(",")}] do not fit shape ${shapeStr(x.shape)}`);
    }
    const shape = x.shape.map((d, i) => d + (pads[i] as number) + (pads[i + r] as number));
    const lost = x.batchAxis !== null && shape[x.batchAxis] !== x.shape[x.batchAxis];
    return this.emit("Pad", [x], { pads }, shape, x.dtype, lost ? null : x.batchAxis, lost);
  }

  /** Broadcast `x` to `shape`. */
  expand(x: Tensor, shape: readonly number[]): Tensor {
    const out = broadcastShapes(x.shape, shape);
    if (!out || shapeStr(out) !== shapeStr(shape)) {
      this.fail("Expand", `cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
    }
    const batchAxis = x.batchAxis === null ? null : shape.length - x.shape.length + x.batchAxis;
    return this.emit("Expand", [x], { shape }, shape, x.dtype, batchAxis);
  }

  private reduce(op: "ReduceSum" | "ReduceMean", x: Tensor, axes0: readonly number[], keepdims: boolean): Tensor {
    const r = x.shape.length;
    const axes = axes0.map((a) => (a < 0 ? a + r : a));
    if (axes.some((a) => a < 0 || a >= r))
      this.fail(op, `axes [${axes0.join(",")}] out of range for ${shapeStr(x.shape)}`);
    const shape: number[] = [];
    let batchAxis: number | null = null;
    x.shape.forEach((d, i) => {
      if (axes.includes(i)) {
        if (keepdims) shape.push(1);
      } else {
        if (i === x.batchAxis) batchAxis = shape.length;
        shape.push(d);
      }
    });
    if (keepdims && x.batchAxis !== null && !axes.includes(x.batchAxis)) batchAxis = x.batchAxis;
    return this.emit(op, [x], { axes: [...axes].sort((p, q) => p - q), keepdims }, shape, x.dtype, batchAxis);
  }

  reduceSum(x: Tensor, axes: readonly number[], keepdims = false): Tensor {
    return this.reduce("ReduceSum", x, axes, keepdims);
  }
  reduceMean(x: Tensor, axes: readonly number[], keepdims = false): Tensor {
    return this.reduce("ReduceMean", x, axes, keepdims);
  }

  private softmaxLike(op: "Softmax" | "LogSoftmax", x: Tensor, axis0: number): Tensor {
    const axis = axis0 < 0 ? axis0 + x.shape.length : axis0;
    if (axis < 0 || axis >= x.shape.length) this.fail(op, `axis ${axis0} out of range for ${shapeStr(x.shape)}`);
    return this.emit(op, [x], { axis }, x.shape, x.dtype, x.batchAxis);
  }
  softmax(x: Tensor, axis = -1): Tensor {
    return this.softmaxLike("Softmax", x, axis);
  }
  logSoftmax(x: Tensor, axis = -1): Tensor {
    return this.softmaxLike("LogSoftmax", x, axis);
  }

  /** Rows of `data` [V, ...] picked by int64 `indices` (axis 0): indices.shape ++ data.shape[1:]. */
  gather(data: Tensor, indices: Tensor): Tensor {
    if (indices.dtype !== "int64") this.fail("Gather", `indices must be int64, got ${indices.dtype}`);
    const shape = [...indices.shape, ...data.shape.slice(1)];
    return this.emit("Gather", [data, indices], { axis: 0 }, shape, data.dtype, indices.batchAxis);
  }
}
