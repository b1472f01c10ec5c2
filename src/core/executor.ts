// What runs a graph: named dense tensors in, named dense tensors out. Declared here, once, because two layers that may
// not import each other meet at it: nn's TrainingGraph runs its training graph through an `Executor`, and runtime's
// `Session` (onnxruntime-node) is the real one. Both layers re-export these types; neither declares its own.

/** A dense tensor: data plus dimensions (row-major). */
export interface TensorData {
  data: Float32Array | BigInt64Array | Uint8Array;
  dims: readonly number[];
}

/** Anything that runs a graph on named tensors (runtime's `Session`; a test's fake). */
export interface Executor {
  run(feeds: Readonly<Record<string, TensorData>>): Promise<Record<string, TensorData>>;
}
