// FiLM with its conditioning vector in two parts (what the unrolled sampler graph uses): the same function as with
// the whole vector, and the fixed part (the observation) is projected once per graph however many calls read it.
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.ts";
import { Film, GraphBuilder, ParamLayout, type FilmCondition, type Tensor } from "../../src/nn/index.ts";
import { closeness, compile, f32, feed, randn } from "./helpers.ts";

const CALLS = 3;
const DV = 4;
const DF = 12;
const C = 16;

/** x `1,6,C` through CALLS FiLM calls of one layer, each with its own constant varying part and the fixed input. */
function chain(split: boolean): { g: GraphBuilder; x: Tensor; fixed: Tensor } {
  const g = new GraphBuilder();
  const x = g.input("x", [1, 6, C]);
  const fixed = g.input("fixed", [1, DF]);
  const rng = new Rng(5);
  let h = x;
  for (let k = 0; k < CALLS; k++) {
    const varying = g.constant(randn(rng, DV), [1, DV]);
    const cond: FilmCondition = split ? { varying, fixed } : g.concat([varying, fixed], 1);
    h = new Film("film", DV + DF, C).apply(g, h, cond);
  }
  g.output("y", h);
  return { g, x, fixed };
}

/** Whether `t` depends on a graph input (else onnxruntime folds it into a constant). */
function dependsOnInput(t: Tensor): boolean {
  if (t.kind === "input") return true;
  return t.node !== null && t.node.inputs.some(dependsOnInput);
}

describe("FiLM on a conditioning vector in two parts", () => {
  it("gives the whole vector's output with the same weights", async () => {
    const whole = chain(false);
    const split = chain(true);
    const layout = ParamLayout.of(whole.g);
    expect(ParamLayout.of(split.g).entries.map((e) => `${e.name} ${e.shape.join("x")}`)).toEqual(
      layout.entries.map((e) => `${e.name} ${e.shape.join("x")}`),
    );
    const values = layout.init(2);
    const rng = new Rng(1);
    const xs = randn(rng, 6 * C);
    const fs = randn(rng, DF);
    const out = [];
    for (const { g, x, fixed } of [whole, split]) {
      const s = await compile(g, values);
      out.push(f32((await s.run({ x: feed(x, xs), fixed: feed(fixed, fs) })).y));
    }
    expect(closeness(out[1] as Float32Array, out[0] as Float32Array, 1e-5, 1e-6)).toBeLessThanOrEqual(1);
  });

  it("projects the fixed part once per graph; the constant varying parts fold away", () => {
    const projections = (split: boolean) =>
      chain(split).g.nodes.filter((n) => n.op === "MatMul" && dependsOnInput(n.output)).length;
    expect(projections(false)).toBe(CALLS);
    expect(projections(true)).toBe(1);
  });
});
