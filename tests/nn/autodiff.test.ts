// Finite-difference check of every gradient rule (the case table is typed over OpType, so a new op needs a case).
// Directional check in float32: d = random unit-scale direction, ε = 1e-2, central difference
// (L(x+εd) − L(x−εd)) / 2ε compared with Σ ∇L·d; tolerance |fd − an| ≤ 2e-3 + 1e-2·|an|.
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.ts";
import { GraphBuilder, backward, type OpType, type Tensor } from "../../src/nn/index.ts";
import { compile, f32, randn } from "./helpers.ts";

interface Case {
  /** Shapes of the float inputs; `positive` keeps them in (0.5, 2); `awayFromZero` keeps |x| ≥ 0.2;
   * `halfInteger` keeps them within 0.1 of k + ½. */
  shapes: number[][];
  domain?: "positive" | "awayFromZero" | "halfInteger";
  build: (g: GraphBuilder, xs: Tensor[]) => Tensor;
}

const at = (xs: Tensor[], i: number): Tensor => xs[i] as Tensor;
const un = (f: (g: GraphBuilder, x: Tensor) => Tensor, domain?: Case["domain"]): Case[] => [
  { shapes: [[2, 3]], ...(domain ? { domain } : {}), build: (g, xs) => f(g, at(xs, 0)) },
];

const cases: { [K in OpType]: Case[] } = {
  Add: [
    {
      shapes: [
        [3, 1],
        [1, 4],
      ],
      build: (g, xs) => g.add(at(xs, 0), at(xs, 1)),
    },
    { shapes: [[2, 3, 4], [4]], build: (g, xs) => g.add(at(xs, 0), at(xs, 1)) },
  ],
  Sub: [{ shapes: [[2, 3], [3]], build: (g, xs) => g.sub(at(xs, 0), at(xs, 1)) }],
  Mul: [
    {
      shapes: [
        [2, 3, 4],
        [3, 1],
      ],
      build: (g, xs) => g.mul(at(xs, 0), at(xs, 1)),
    },
    { shapes: [[2, 3]], build: (g, xs) => g.mul(at(xs, 0), at(xs, 0)) },
  ],
  Div: [
    {
      shapes: [
        [2, 3],
        [2, 1],
      ],
      domain: "positive",
      build: (g, xs) => g.div(at(xs, 0), at(xs, 1)),
    },
  ],
  Min: [{ shapes: [[2, 3], [3]], build: (g, xs) => g.min(at(xs, 0), g.mul(at(xs, 1), 2)) }],
  Neg: un((g, x) => g.neg(x)),
  Exp: un((g, x) => g.exp(x)),
  Log: un((g, x) => g.log(x), "positive"),
  Pow: [...un((g, x) => g.pow(x, 2)), ...un((g, x) => g.pow(x, 3)), ...un((g, x) => g.pow(x, -0.5), "positive")],
  Sqrt: un((g, x) => g.sqrt(x), "positive"),
  Reciprocal: un((g, x) => g.reciprocal(x), "positive"),
  Tanh: un((g, x) => g.tanh(x)),
  Sigmoid: un((g, x) => g.sigmoid(x)),
  Relu: un((g, x) => g.relu(x), "awayFromZero"),
  Erf: un((g, x) => g.erf(x)),
  Sin: un((g, x) => g.sin(x)),
  Cos: un((g, x) => g.cos(x)),
  Floor: un((g, x) => g.add(g.floor(x), g.mul(x, x)), "halfInteger"),
  MatMul: [
    {
      shapes: [
        [3, 4],
        [4, 2],
      ],
      build: (g, xs) => g.matmul(at(xs, 0), at(xs, 1)),
    },
    {
      shapes: [
        [2, 3, 4],
        [4, 5],
      ],
      build: (g, xs) => g.matmul(at(xs, 0), at(xs, 1)),
    },
    {
      shapes: [
        [1, 3, 4],
        [2, 4, 5],
      ],
      build: (g, xs) => g.matmul(at(xs, 0), at(xs, 1)),
    },
  ],
  Transpose: [{ shapes: [[2, 3, 4]], build: (g, xs) => g.transpose(at(xs, 0), [2, 0, 1]) }],
  Reshape: [{ shapes: [[2, 6]], build: (g, xs) => g.reshape(at(xs, 0), [3, -1]) }],
  Slice: [{ shapes: [[4, 5]], build: (g, xs) => g.slice(at(xs, 0), [0, 1], [1, 2], [3, 5]) }],
  Concat: [
    {
      shapes: [
        [2, 3],
        [2, 2],
      ],
      build: (g, xs) => g.concat([at(xs, 0), at(xs, 1), at(xs, 0)], 1),
    },
  ],
  Pad: [{ shapes: [[2, 3]], build: (g, xs) => g.pad(at(xs, 0), [1, 0, 0, 2]) }],
  Expand: [{ shapes: [[3, 1]], build: (g, xs) => g.expand(at(xs, 0), [2, 3, 4]) }],
  ReduceSum: [{ shapes: [[2, 3, 4]], build: (g, xs) => g.reduceSum(at(xs, 0), [0, 2]) }],
  ReduceMean: [{ shapes: [[2, 3, 4]], build: (g, xs) => g.reduceMean(at(xs, 0), [1], true) }],
  Softmax: [{ shapes: [[2, 5]], build: (g, xs) => g.softmax(at(xs, 0), -1) }],
  LogSoftmax: [{ shapes: [[3, 4]], build: (g, xs) => g.logSoftmax(at(xs, 0), 1) }],
  Gather: [
    {
      shapes: [[5, 3]],
      build: (g, xs) => g.gather(at(xs, 0), g.constant(BigInt64Array.from([1n, 4n, 1n, 0n]), [2, 2], "int64")),
    },
  ],
  Equal: [
    {
      shapes: [[2, 3]],
      build: (g, xs) =>
        g.mul(
          g.cast(g.equal(g.constant([0, 1, 2], [3], "int64"), g.constant([1], [1], "int64")), "float32"),
          at(xs, 0),
        ),
    },
  ],
  Less: [
    {
      shapes: [[2, 3]],
      domain: "awayFromZero",
      build: (g, xs) => g.where(g.less(at(xs, 0), 0), g.mul(at(xs, 0), at(xs, 0)), at(xs, 0)),
    },
  ],
  Cast: [{ shapes: [[2, 3]], build: (g, xs) => g.cast(at(xs, 0), "float32") }],
  Where: [
    {
      shapes: [[2, 3], [3]],
      build: (g, xs) => g.where(g.less(g.constant([-1, 1, -1], [3]), 0), at(xs, 0), at(xs, 1)),
    },
  ],
  Identity: un((g, x) => g.identity(x)),
};

async function check(op: string, c: Case, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const g = new GraphBuilder();
  const xs = c.shapes.map((s, i) => g.input(`x${i}`, s, { batchAxis: null }));
  const y = c.build(g, xs);
  const size = y.shape.reduce((p, q) => p * q, 1);
  const r = g.constant(randn(rng, size), y.shape);
  const loss = g.reduceSum(
    g.mul(y, r),
    y.shape.map((_, i) => i),
  );
  g.output("loss", loss);
  const grads = backward(g, loss, xs);
  grads.forEach((gr, i) => {
    if (!gr) throw new Error(`${op}: no gradient for input ${i}`);
    g.output(`g${i}`, gr);
  });
  const session = await compile(g);
  const values = c.shapes.map((s) => {
    const n = s.reduce((p, q) => p * q, 1);
    const v = randn(rng, n);
    for (let i = 0; i < n; i++) {
      const x = v[i] as number;
      if (c.domain === "positive") v[i] = 0.5 + 1.5 * rng.next();
      if (c.domain === "halfInteger") v[i] = Math.round(x) + 0.5 + 0.2 * (rng.next() - 0.5);
      if (c.domain === "awayFromZero") v[i] = Math.sign(x || 1) * (0.2 + Math.abs(x));
    }
    return v;
  });
  const dirs = values.map((v) => randn(rng, v.length));
  const run = async (eps: number): Promise<Record<string, Float32Array>> => {
    const feeds = Object.fromEntries(
      values.map((v, i) => [
        `x${i}`,
        { data: v.map((x, j) => x + eps * (dirs[i]?.[j] ?? 0)), dims: c.shapes[i] ?? [] },
      ]),
    );
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, f32(t)]));
  };
  const base = await run(0);
  const eps = 1e-2;
  const fd = ((await run(eps)).loss?.[0] as number) - ((await run(-eps)).loss?.[0] as number);
  let analytic = 0;
  values.forEach((_, i) => {
    const gi = base[`g${i}`] as Float32Array;
    const d = dirs[i] as Float32Array;
    for (let j = 0; j < d.length; j++) analytic += (gi[j] as number) * (d[j] as number);
  });
  const numeric = fd / (2 * eps);
  expect(Math.abs(numeric - analytic), `${op}: fd ${numeric} vs analytic ${analytic}`).toBeLessThanOrEqual(
    2e-3 + 1e-2 * Math.abs(analytic),
  );
  await session.release();
}

describe("gradient rules (finite differences)", () => {
  for (const [op, list] of Object.entries(cases)) {
    list.forEach((c, k) => {
      it(`${op} #${k}`, async () => {
        await check(op, c, 100 + k);
      });
    });
  }
});
