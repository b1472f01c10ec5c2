// What runs a graph: named dense tensors in, named dense tensors out. Declared here, once, because two layers that may
// not import each other meet at it: nn's TrainingGraph runs its training graph through an `Executor`, and runtime's
// `Session` (onnxruntime-node) is the real one. Both layers re-export these types; neither declares its own.

/** A dense tensor: data plus dimensions (row-major). */
export interface TensorData {
  data: Float32Array | BigInt64Array | Uint8Array;
  dims: readonly number[];
}

/**
 * Which outputs a run returns, by name: `null` for a new array, or a tensor of the output's type and dims whose array
 * the run writes in place (a training step's state written into arrays the caller keeps).
 */
export type Fetches = Readonly<Record<string, TensorData | null>>;

/** Anything that runs a graph on named tensors (runtime's `Session`; a test's fake). */
export interface Executor {
  /** Every output, or only those named in `fetches` (a preallocated one comes back as the caller's own tensor). */
  run(feeds: Readonly<Record<string, TensorData>>, fetches?: Fetches): Promise<Record<string, TensorData>>;
}
