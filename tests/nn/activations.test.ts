// Activations against their definitions in float64, at both tails too (Mish is written through σ, so its tails must
// keep the x·σ(x) and x limits). onnxruntime's Sigmoid is a rational approximation good to about 1e-7 absolute, so
// x·σ(x) is good to about |x|·1e-7: the tolerance below.
import { describe, expect, it } from "vitest";
import { GraphBuilder, mish } from "../../src/nn/index.ts";
import { closeness, compile, f32 } from "./helpers.ts";

describe("activations", () => {
  it("mish(x) = x·tanh(softplus(x)) from −100 to 100", async () => {
    const xs = Float32Array.from([-100, -40, -17, ...Array.from({ length: 201 }, (_, i) => -10 + i / 10), 17, 40, 100]);
    const g = new GraphBuilder();
    const x = g.input("x", [xs.length], { batchAxis: null });
    g.output("y", mish(g, x));
    const y = f32((await (await compile(g)).run({ x: { data: xs, dims: [xs.length] } })).y);
    const want = Array.from(xs, (v) => v * Math.tanh(Math.log1p(Math.exp(v))));
    expect(closeness(y, want, 1e-5, 2e-6)).toBeLessThanOrEqual(1);
  });
});
