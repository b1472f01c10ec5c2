// Gradients reach every parameter of tiny encoders (ViT with stem, tubelet, CNN), and a finite-difference spot check
// per parameter tensor agrees with reverse-mode AD.
// Directional check in float32: d ~ N(0,1) on one parameter tensor, central difference with ε = 3e-4 on
// L = Σ features·R (R fixed random), compared with ∇L·d; tolerance |fd − an| ≤ 0.03·|an| + 0.01·‖∇‖·‖d‖.
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.ts";
import { GraphBuilder, ParamLayout, backward, toOnnx, type Tensor } from "../../src/nn/index.ts";
import { Session } from "../../src/runtime/index.ts";
import { createEncoder, type EncoderRef, type ImageEncoder } from "../../src/encoders/index.ts";
import { f32, inputDims, randn, randomImages } from "./helpers.ts";

interface Case {
  name: string;
  build: (g: GraphBuilder, n: number) => { out: Tensor; feeds: Record<string, number[]> };
}

const single = (config: EncoderRef): Case["build"] => {
  return (g, n) => {
    const enc: ImageEncoder = createEncoder(config);
    const dims = inputDims(enc, n);
    return { out: enc.apply(g, g.input("images", dims)), feeds: { images: dims } };
  };
};

const cases: Case[] = [
  {
    name: "ViT, conv stem, cls+mean",
    build: single({
      name: "vit",
      height: 16,
      width: 16,
      stem: [4],
      stemGroups: 2,
      patch: 4,
      dim: 8,
      depth: 1,
      heads: 2,
      pool: "cls+mean",
      featureDim: 4,
    }),
  },
  {
    name: "tubelet ViT, average inflation",
    build: single({
      name: "tubelet",
      height: 8,
      width: 8,
      frames: 2,
      inflation: "average",
      patch: 4,
      dim: 8,
      depth: 1,
      heads: 2,
      featureDim: 4,
    }),
  },
  {
    name: "CNN",
    build: single({ name: "cnn", height: 16, width: 16, channels: [4, 8], groups: 2, keypoints: 3, featureDim: 4 }),
  },
  {
    name: "CNN, patchify stem",
    build: single({
      name: "cnn",
      height: 16,
      width: 16,
      stemPatch: 4,
      channels: [4, 8],
      groups: 2,
      keypoints: 3,
      featureDim: 4,
    }),
  },
];

describe("gradients through tiny encoders", () => {
  for (const c of cases) {
    it(`${c.name}: every parameter gets a gradient; FD agrees per tensor`, async () => {
      const n = 2;
      const g = new GraphBuilder();
      g.training = true;
      const { out, feeds } = c.build(g, n);
      const rng = new Rng(17);
      const r = g.constant(
        randn(
          rng,
          out.shape.reduce((a, b) => a * b, 1),
        ),
        out.shape,
      );
      const loss = g.output("loss", g.reduceSum(g.mul(out, r), [0, 1]));
      const layout = ParamLayout.of(g);
      const grads = backward(g, loss, g.params);
      g.params.forEach((p, i) => {
        const gr = grads[i];
        expect(gr, `no gradient path to ${p.name}`).toBeTruthy();
        g.output(`grad:${p.name}`, gr as Tensor);
      });
      const flat = g.input("params", [layout.total], { batchAxis: null });
      const model = toOnnx(g, { params: { mode: "flat", layout, input: flat } });
      const session = await Session.create(model.bytes, { intraOpThreads: 1 });
      const data = Object.fromEntries(
        Object.entries(feeds).map(([k, dims], i) => [
          k,
          {
            data: randomImages(
              30 + i,
              dims.reduce((a, b) => a * b, 1),
            ),
            dims,
          },
        ]),
      );
      const params = layout.init(5);
      const run = async (p: Float32Array): Promise<Record<string, Float32Array>> => {
        const o = await session.run({ ...data, params: { data: p, dims: [layout.total] } });
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f32(v)]));
      };
      const base = await run(params);
      const eps = 3e-4; // small enough that ReLU units in the CNN rarely cross their kink
      for (const e of layout.entries) {
        const grad = base[`grad:${e.name}`] as Float32Array;
        let gnorm = 0;
        for (const v of grad) gnorm += v * v;
        gnorm = Math.sqrt(gnorm);
        if (e.name.endsWith("attn.k.bias")) {
          // Exactly zero in exact arithmetic: a key bias adds q·b to every score of a row, and softmax ignores that.
          expect(gnorm, `${e.name} (softmax-invariant)`).toBeLessThan(1e-6);
          continue;
        }
        expect(gnorm, `gradient of ${e.name} is zero`).toBeGreaterThan(1e-5);
        const d = randn(rng, e.size);
        let an = 0;
        let dnorm = 0;
        for (let i = 0; i < e.size; i++) {
          an += (grad[i] as number) * (d[i] as number);
          dnorm += (d[i] as number) ** 2;
        }
        const plus = params.slice();
        const minus = params.slice();
        for (let i = 0; i < e.size; i++) {
          plus[e.offset + i] = (params[e.offset + i] as number) + eps * (d[i] as number);
          minus[e.offset + i] = (params[e.offset + i] as number) - eps * (d[i] as number);
        }
        const fd = (((await run(plus)).loss?.[0] as number) - ((await run(minus)).loss?.[0] as number)) / (2 * eps);
        const tol = 0.03 * Math.abs(an) + 0.01 * gnorm * Math.sqrt(dnorm);
        expect(Math.abs(fd - an), `${e.name}: fd ${fd} vs analytic ${an}`).toBeLessThanOrEqual(tol);
      }
      await session.release();
    });
  }
});
