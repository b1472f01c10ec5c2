// Symbolic tensors and graph nodes: the intermediate representation that GraphBuilder records and toOnnx emits.

/** Element types the builder knows (ONNX TensorProto codes in `ONNX_DTYPE`). */
export type DType = "float32" | "int64" | "bool";

export const ONNX_DTYPE: Record<DType, number> = { float32: 1, int64: 7, bool: 9 };

/** The operator union. Adding an op here without a gradient rule in autodiff.ts is a compile error. */
export type OpType =
  | "Add"
  | "Sub"
  | "Mul"
  | "Div"
  | "Pow"
  | "Min"
  | "Neg"
  | "Exp"
  | "Log"
  | "Sqrt"
  | "Reciprocal"
  | "Tanh"
  | "Sigmoid"
  | "Relu"
  | "Erf"
  | "Sin"
  | "Cos"
  | "Floor"
  | "MatMul"
  | "Transpose"
  | "Reshape"
  | "Slice"
  | "Concat"
  | "Pad"
  | "Expand"
  | "ReduceSum"
  | "ReduceMean"
  | "Softmax"
  | "LogSoftmax"
  | "Gather"
  | "Equal"
  | "Less"
  | "Cast"
  | "Where"
  | "Identity";

/** Static arguments of a node (ONNX attributes, or constant inputs emitted as int64 initializers). */
export interface NodeArgs {
  /** Transpose permutation. */
  perm?: readonly number[];
  /** Reshape / Expand target shape. */
  shape?: readonly number[];
  /** Reduce axes; Slice axes. */
  axes?: readonly number[];
  /** Slice starts / ends (same length as axes, step 1). */
  starts?: readonly number[];
  ends?: readonly number[];
  /** Pad amounts, ONNX layout: all begins then all ends. */
  pads?: readonly number[];
  /** Concat / Softmax / LogSoftmax axis (non-negative). */
  axis?: number;
  /** Reduce keepdims. */
  keepdims?: boolean;
  /** Cast target. */
  to?: DType;
}

/** Where a tensor comes from. */
export type TensorKind = "input" | "param" | "const" | "node";

export interface Node {
  readonly op: OpType;
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly args: NodeArgs;
  /** True when the exported graph cannot keep the batch dimension symbolic through this node. */
  readonly batchLost: boolean;
  output: Tensor;
}

/** A symbolic tensor with a static shape. `batchAxis` marks the axis that becomes symbolic in exported graphs. */
export interface Tensor {
  readonly id: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly kind: TensorKind;
  readonly batchAxis: number | null;
  readonly node: Node | null;
  /** Constant data (kind "const"). */
  readonly data: Float32Array | BigInt64Array | null;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}
