// CLIP objective: symmetric InfoNCE is ln N when every logit is equal; the learned temperature starts at 0.07 and its
// clamp at a logit scale of 100 holds (value and gradient); multi-positive targets for repeated instructions.
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.ts";
import {
  CLIP_INIT_TEMPERATURE,
  CLIP_MAX_LOGIT_SCALE,
  GraphBuilder,
  ParamLayout,
  backward,
  infoNce,
  logitScale,
  type Tensor,
} from "../../src/nn/index.ts";
import { compile, f32, randn } from "./helpers.ts";

const N = 6;
const D = 8;

/** Loss of infoNce(a, b) with the learned scale, its gradient to the scale parameter, and the scale itself. */
async function run(
  a: Float32Array,
  b: Float32Array,
  s: number,
  positives?: Float32Array,
): Promise<{ loss: number; grad: number; scale: number }> {
  const g = new GraphBuilder();
  const scale = logitScale(g);
  const pos = positives ? g.constant(positives, [N, N]) : undefined;
  const loss = g.output(
    "loss",
    infoNce(g, g.input("a", [N, D]), g.input("b", [N, D]), { scale, ...(pos && { positives: pos }) }),
  );
  g.output("scale", scale);
  g.output("grad", backward(g, loss, g.params)[0] as Tensor);
  const layout = ParamLayout.of(g);
  const values = layout.init(0);
  layout.view(values, "logit_scale").set([s]);
  const session = await compile(g, values);
  const out = await session.run({ a: { data: a, dims: [N, D] }, b: { data: b, dims: [N, D] } });
  await session.release();
  return { loss: f32(out.loss)[0] as number, grad: f32(out.grad)[0] as number, scale: f32(out.scale)[0] as number };
}

describe("InfoNCE (CLIP)", () => {
  it("equals ln N at a uniform start (every embedding the same: all logits equal)", async () => {
    const same = new Float32Array(N * D).fill(0.3);
    const { loss, scale } = await run(same, same, Math.log(1 / CLIP_INIT_TEMPERATURE));
    expect(scale).toBeCloseTo(1 / 0.07, 4);
    expect(loss).toBeCloseTo(Math.log(N), 5);
  });

  it("the learned temperature starts at 0.07", () => {
    const g = new GraphBuilder();
    logitScale(g);
    const layout = ParamLayout.of(g);
    expect(Math.exp(layout.view(layout.init(7), "logit_scale")[0] as number)).toBeCloseTo(1 / 0.07, 4);
  });

  it("the logit scale is clamped at 100: the value stops there and no gradient pushes the parameter further", async () => {
    const rng = new Rng(3);
    const a = randn(rng, N * D);
    const b = randn(rng, N * D);
    const free = await run(a, b, Math.log(1 / CLIP_INIT_TEMPERATURE));
    expect(Math.abs(free.grad)).toBeGreaterThan(1e-4);
    const clamped = await run(a, b, Math.log(1000));
    expect(clamped.scale).toBe(CLIP_MAX_LOGIT_SCALE);
    expect(clamped.grad).toBe(0);
    const atCap = await run(a, b, Math.log(CLIP_MAX_LOGIT_SCALE));
    expect(Math.abs(clamped.loss - atCap.loss) / atCap.loss).toBeLessThan(1e-5);
  });

  it("multi-positive targets (a repeated instruction) equal the closed form: each row's target spread over its positives", async () => {
    const rng = new Rng(5);
    const a = randn(rng, N * D);
    a.copyWithin(D, 0, D); // rows 0 and 1: the same instruction
    const b = randn(rng, N * D);
    const positives = new Float32Array(N * N);
    for (let i = 0; i < N; i++) positives[i * N + i] = 1;
    positives[1] = positives[N] = 1;
    const s = Math.log(1 / CLIP_INIT_TEMPERATURE);
    const eye = positives.map((_, k) => (k % (N + 1) === 0 ? 1 : 0));
    expect((await run(a, b, s, positives)).loss).toBeCloseTo(closedForm(a, b, 1 / CLIP_INIT_TEMPERATURE, positives), 4);
    expect((await run(a, b, s)).loss).toBeCloseTo(closedForm(a, b, 1 / CLIP_INIT_TEMPERATURE, eye), 4);
  });
});

/** ½·(mean_i CE(softmax_j ℓ_ij, P_i/ΣP_i) + mean_j CE(softmax_i ℓ_ij, P_·j/ΣP_·j)), ℓ = scale·cos(a_i, b_j). */
function closedForm(a: Float32Array, b: Float32Array, scale: number, p: Float32Array): number {
  const unit = (x: Float32Array, i: number): number[] => {
    const row = Array.from(x.subarray(i * D, (i + 1) * D));
    const norm = Math.hypot(...row);
    return row.map((v) => v / norm);
  };
  const logit = (i: number, j: number): number =>
    scale * unit(a, i).reduce((s, v, k) => s + v * (unit(b, j)[k] as number), 0);
  const side = (l: (i: number, j: number) => number, t: (i: number, j: number) => number): number => {
    let total = 0;
    for (let i = 0; i < N; i++) {
      const row = Array.from({ length: N }, (_, j) => l(i, j));
      const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
      const mass = row.reduce((s, _, j) => s + t(i, j), 0);
      total -= row.reduce((s, v, j) => s + (t(i, j) / mass) * (v - lse), 0);
    }
    return total / N;
  };
  const at = (i: number, j: number): number => p[i * N + j] as number;
  return (
    0.5 *
    (side(logit, at) +
      side(
        (i, j) => logit(j, i),
        (i, j) => at(j, i),
      ))
  );
}
