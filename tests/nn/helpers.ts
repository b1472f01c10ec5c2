// Test helpers: compile a builder graph into a real onnxruntime session; seeded random data.
import { Rng } from "../../src/core/index.ts";
import { GraphBuilder, ParamLayout, toOnnx, type Tensor } from "../../src/nn/index.ts";
import { Session, type TensorData } from "../../src/runtime/index.ts";

/** Compile `g` with its parameters embedded as initializers (`values`, default seeded init). */
export async function compile(g: GraphBuilder, values?: Float32Array): Promise<Session> {
  const layout = ParamLayout.of(g);
  const model = toOnnx(g, { params: { mode: "initializers", layout, values: values ?? layout.init(1) } });
  return Session.create(model.bytes, { intraOpThreads: 1 });
}

export function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

export function feed(t: Tensor, data: Float32Array | BigInt64Array): TensorData {
  return { data, dims: t.shape };
}

export function f32(t: TensorData | undefined): Float32Array {
  if (!t || !(t.data instanceof Float32Array)) throw new Error("expected a float32 output");
  return t.data;
}

/** max |a-b| / (atol + rtol·|b|) ≤ 1 elementwise; returns the worst ratio. */
export function closeness(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const r = Math.abs((a[i] as number) - (b[i] as number)) / (atol + rtol * Math.abs(b[i] as number));
    worst = Math.max(worst, Number.isNaN(r) ? Infinity : r);
  }
  return a.length === b.length ? worst : Infinity;
}
