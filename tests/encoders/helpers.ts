// Test helpers for vision: build an encoder's forward graph, run it on real onnxruntime sessions, copy parameters
// between layouts by name.
import { Rng } from "../../src/core/index.ts";
import { GraphBuilder, ParamLayout, inferenceModel, type Tensor } from "../../src/nn/index.ts";
import { Session } from "../../src/runtime/index.ts";
import type { ImageEncoder } from "../../src/encoders/index.ts";
import { f32, randn } from "../nn/helpers.ts";

export { closeness, f32, randn } from "../nn/helpers.ts";

export function inputDims(enc: ImageEncoder, n: number): number[] {
  return enc.frames === 1 ? [n, enc.height, enc.width, 3] : [n, enc.frames, enc.height, enc.width, 3];
}

/** The forward graph of `enc` on input `images` [N,...]; output `features`. */
export function forwardGraph(enc: ImageEncoder, n: number): { g: GraphBuilder; images: Tensor; out: Tensor } {
  const g = new GraphBuilder();
  const images = g.input("images", inputDims(enc, n));
  const out = g.output("features", enc.apply(g, images));
  return { g, images, out };
}

/** Run `enc` with `params` (default: seeded init) on `data` through an exported inference model. */
export async function encode(
  enc: ImageEncoder,
  n: number,
  data: Float32Array,
  params?: Float32Array,
): Promise<{ features: Float32Array; layout: ParamLayout; params: Float32Array }> {
  const { g } = forwardGraph(enc, n);
  const layout = ParamLayout.of(g);
  const values = params ?? layout.init(3);
  const session = await Session.create(inferenceModel(g, values).bytes, { intraOpThreads: 1 });
  const out = await session.run({ images: { data, dims: inputDims(enc, n) } });
  await session.release();
  return { features: f32(out.features), layout, params: values };
}

/** Seeded images in roughly the normalised range. */
export function randomImages(seed: number, count: number): Float32Array {
  return randn(new Rng(seed), count, 0.5);
}

/** Copy every parameter of `to` that exists in `from` under `prefix + name` (others keep their value). */
export function copyByName(
  from: ParamLayout,
  fromValues: Float32Array,
  to: ParamLayout,
  toValues: Float32Array,
  prefix = "",
): number {
  let copied = 0;
  for (const e of from.entries) {
    const name = prefix + e.name;
    if (!to.entries.some((t) => t.name === name)) continue;
    to.view(toValues, name).set(from.view(fromValues, e.name));
    copied++;
  }
  return copied;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
