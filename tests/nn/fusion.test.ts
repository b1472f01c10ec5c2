// The graphs we export are written so onnxruntime's optimizer fuses them: a LayerNorm (variance through Pow) becomes
// one LayerNormalization node. A real session writes its optimized graph to disk and we look for the fused node, and
// its outputs must equal those of the same model run without graph optimization. GroupNorm (statistics over
// non-trailing axes) must not be mistaken for a LayerNorm; in a graph built for inference only (`g.inference`) it is
// written with each group's values contiguous, so that it too runs as one LayerNormalization node.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.ts";
import { GraphBuilder, GroupNorm, LayerNorm, ParamLayout, toOnnx, type Tensor } from "../../src/nn/index.ts";
import { closeness, randn } from "./helpers.ts";

/** Run `g` (float16 weights, as shipped) optimized and unoptimized; count ops in the optimized graph. */
async function optimizeAndRun(
  g: GraphBuilder,
  x: Tensor,
): Promise<{
  fused: Float32Array;
  plain: Float32Array;
  count: (op: string) => number;
}> {
  const layout = ParamLayout.of(g);
  const values = randn(new Rng(3), layout.total, 0.5).map((v) => v + 1);
  const bytes = toOnnx(g, { params: { mode: "initializers", layout, values, precision: "float16" } }).bytes;
  const file = join(mkdtempSync(join(tmpdir(), "duet-fusion-")), "opt.onnx");
  const data = randn(
    new Rng(1),
    x.shape.reduce((p, q) => p * q, 1),
    2,
  );
  const feeds = { x: new ort.Tensor("float32", data, [...x.shape]) };
  const run = async (level: "all" | "disabled", path?: string) => {
    const s = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: level,
      intraOpNumThreads: 1,
      logSeverityLevel: 3,
      ...(path ? { optimizedModelFilePath: path } : {}),
    });
    return Object.values(await s.run(feeds))[0]?.data as Float32Array;
  };
  const fused = await run("all", file);
  const plain = await run("disabled");
  const text = Buffer.from(readFileSync(file)).toString("latin1");
  return { fused, plain, count: (op: string) => text.split(op).length - 1 };
}

describe("onnxruntime fusion of the exported norms", () => {
  it("runs each LayerNorm as one LayerNormalization node, with unchanged outputs", async () => {
    const g = new GraphBuilder();
    const x = g.input("x", [2, 6, 32]);
    g.output("y", new LayerNorm("ln2", 32).apply(g, new LayerNorm("ln1", 32).apply(g, x)));
    const { fused, plain, count } = await optimizeAndRun(g, x);
    expect(count("LayerNormalization")).toBe(2);
    expect(count("ReduceMean")).toBe(0);
    expect(closeness(fused, plain, 1e-4, 1e-5)).toBeLessThanOrEqual(1);
  });

  it("leaves GroupNorm unfused, with unchanged outputs", async () => {
    const g = new GraphBuilder();
    const x = g.input("x", [2, 6, 32]);
    g.output("y", new GroupNorm("gn", 8, 32).apply(g, x));
    const { fused, plain, count } = await optimizeAndRun(g, x);
    expect(count("LayerNormalization")).toBe(0);
    expect(closeness(fused, plain, 1e-4, 1e-5)).toBeLessThanOrEqual(1);
  });

  it("runs each GroupNorm of an inference graph as one LayerNormalization node, equal to the training form", async () => {
    const build = (inference: boolean, shape: readonly number[]) => {
      const g = new GraphBuilder();
      g.inference = inference;
      const x = g.input("x", shape);
      g.output("y", new GroupNorm("gn2", 8, 32).apply(g, new GroupNorm("gn1", 8, 32).apply(g, x)));
      return { g, x };
    };
    for (const shape of [
      [2, 6, 32],
      [1, 3, 5, 32],
    ]) {
      const infer = build(true, shape);
      const train = build(false, shape);
      const { fused, plain, count } = await optimizeAndRun(infer.g, infer.x);
      expect(count("LayerNormalization")).toBe(2);
      expect(count("ReduceMean")).toBe(0);
      expect(closeness(fused, plain, 1e-4, 1e-5)).toBeLessThanOrEqual(1);
      expect(closeness(fused, (await optimizeAndRun(train.g, train.x)).plain, 1e-4, 1e-5)).toBeLessThanOrEqual(1);
    }
  });
});
