// Golden gradients: loss and every parameter gradient equal PyTorch's (tests/golden/golden.json, made by
// tests/golden/make_golden.py) within 1e-4 relative, elementwise: |ours − torch| ≤ 1e-4·(|torch| + 0.01·G), G = the
// largest |gradient| in the model (the floor keeps float32 noise on gradients that are exactly zero in theory — the
// key-projection biases — from counting as relative error).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  Conv1d,
  Film,
  GraphBuilder,
  GroupNorm,
  LayerNorm,
  Mlp,
  MultiHeadAttention,
  ParamLayout,
  backward,
  mish,
  mseLoss,
  toOnnx,
  Upsample1d,
  PatchEmbed,
  Embedding,
  sinusoidalEmbedding,
  infoNce,
  type Tensor,
} from "../../src/nn/index.ts";
import { Session } from "../../src/runtime/index.ts";
import { f32 } from "./helpers.ts";

interface GoldenCase {
  loss: number;
  params: { name: string; shape: number[] }[];
  grads: Record<string, number[]>;
}
const golden = JSON.parse(readFileSync(new URL("../golden/golden.json", import.meta.url), "utf8")) as {
  cases: Record<string, GoldenCase>;
};

/** The formula make_golden.py uses for every parameter and input. */
function det(shape: readonly number[], seed: number, scale: number): Float32Array {
  const n = shape.reduce((p, q) => p * q, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.sin(0.7 * i + 1.3 * seed) * scale);
}

/** `pred` is compared by MSE with det(shape, 102, 1) unless `loss` is given. */
type Build = (g: GraphBuilder) => { pred: Tensor; loss?: Tensor; feeds: Record<string, Float32Array> };

const builds: Record<string, Build> = {
  mlp: (g) => {
    const x = g.input("x", [16, 8]);
    return { pred: new Mlp("mlp", [8, 32, 32, 4], "gelu").apply(g, x), feeds: { x: det([16, 8], 101, 1) } };
  },
  conv_block: (g) => {
    const x = g.input("x", [4, 12, 16]);
    const cond = g.input("cond", [4, 24]);
    const pred = g.scope("block", () => {
      let h = mish(g, new GroupNorm("norm0", 8, 32).apply(g, new Conv1d("conv0", 16, 32, 5).apply(g, x)));
      h = new Film("film", 24, 32).apply(g, h, mish(g, cond));
      h = mish(g, new GroupNorm("norm1", 8, 32).apply(g, new Conv1d("conv1", 32, 32, 5).apply(g, h)));
      return g.add(h, new Conv1d("residual", 16, 32, 1).apply(g, x));
    });
    return { pred, feeds: { x: det([4, 12, 16], 101, 1), cond: det([4, 24], 103, 1) } };
  },
  transformer_block: (g) => {
    const x = g.input("x", [2, 6, 32]);
    const ctx = g.input("ctx", [2, 3, 16]);
    const pred = g.scope("tf", () => {
      const a = new LayerNorm("ln1", 32).apply(g, x);
      let h = g.add(x, new MultiHeadAttention("self", 32, 4, { causal: true }).apply(g, a));
      const c = new LayerNorm("ln2", 32).apply(g, h);
      h = g.add(h, new MultiHeadAttention("cross", 32, 4, { contextDim: 16 }).apply(g, c, ctx));
      const m = new LayerNorm("ln3", 32).apply(g, h);
      return g.add(h, new Mlp("mlp", [32, 64, 32], "gelu").apply(g, m));
    });
    return { pred, feeds: { x: det([2, 6, 32], 101, 1), ctx: det([2, 3, 16], 104, 1) } };
  },
  unet_parts: (g) => {
    const x = g.input("x", [2, 8, 6]);
    const h = new Conv1d("down", 6, 8, 3, { stride: 2 }).apply(g, x);
    return { pred: new Upsample1d("up", 8, 6).apply(g, h), feeds: { x: det([2, 8, 6], 101, 1) } };
  },
  vision_parts: (g) => {
    const img = g.input("img", [2, 4, 4, 3]);
    const tokens = new PatchEmbed("patch", 2, 3, 8).apply(g, img);
    const ids = g.constant(BigInt64Array.from([0n, 1n, 2n, 3n, 4n, 3n, 2n, 1n]), [2, 4], "int64");
    const sinus = sinusoidalEmbedding(g, g.constant([3, 17], [2]), 8);
    const sum = g.add(g.add(tokens, new Embedding("tok", 5, 8).apply(g, ids)), g.reshape(sinus, [2, 1, 8]));
    const pooled = g.reduceMean(sum, [1]);
    const other = g.input("other", [2, 8]);
    const loss = infoNce(g, pooled, other, { temperature: 0.1 });
    return { pred: pooled, loss, feeds: { img: det([2, 4, 4, 3], 101, 1), other: det([2, 8], 105, 1) } };
  },
};

describe("golden gradients vs PyTorch", () => {
  for (const [name, build] of Object.entries(builds)) {
    it(`${name}: loss and every parameter gradient within 1e-4 relative`, async () => {
      const ref = golden.cases[name] as GoldenCase;
      const g = new GraphBuilder();
      const built = build(g);
      const { pred, feeds } = built;
      const loss = g.output("loss", built.loss ?? mseLoss(g, pred, g.input("target", pred.shape)));
      backward(g, loss, g.params).forEach((gr, i) => g.output(`grad${i}`, gr as Tensor));
      const layout = ParamLayout.of(g);
      expect(layout.entries.map((e) => ({ name: e.name, shape: e.shape }))).toEqual(ref.params);
      const values = new Float32Array(layout.total);
      layout.entries.forEach((e, i) => values.set(det(e.shape, i, 0.3), e.offset));
      const model = toOnnx(g, { params: { mode: "initializers", layout, values } });
      const session = await Session.create(model.bytes, { intraOpThreads: 1 });
      const all: Record<string, Float32Array> = { ...feeds, target: det(pred.shape, 102, 1) };
      const out = await session.run(
        Object.fromEntries(g.inputs.map((t) => [t.name, { data: all[t.name] as Float32Array, dims: t.shape }])),
      );
      expect(Math.abs((f32(out.loss)[0] as number) - ref.loss)).toBeLessThanOrEqual(1e-4 * Math.abs(ref.loss));
      const failures: string[] = [];
      const scale = Math.max(...Object.values(ref.grads).flatMap((v) => v.map(Math.abs)));
      layout.entries.forEach((e, i) => {
        const ours = f32(out[`grad${i}`]);
        const theirs = ref.grads[e.name] ?? [];
        let worst = 0;
        theirs.forEach((t, j) => {
          worst = Math.max(worst, Math.abs((ours[j] as number) - t) / (Math.abs(t) + 0.01 * scale));
        });
        if (!(worst <= 1e-4) || ours.length !== theirs.length)
          failures.push(`${e.name}: worst relative error ${worst}`);
      });
      expect(failures).toEqual([]);
    });
  }
});
