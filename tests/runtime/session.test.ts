// Session: real onnxruntime sessions; inputs validated against the declared inputs, every problem in one error.
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/core/index.ts";
import { GraphBuilder, inferenceModel } from "../../src/nn/index.ts";
import { Session } from "../../src/runtime/index.ts";

async function model(): Promise<Session> {
  const g = new GraphBuilder();
  const x = g.input("x", [4, 3]);
  const ids = g.input("ids", [4], { dtype: "int64" });
  const y = g.add(x, g.cast(g.reshape(ids, [4, 1]), "float32"));
  g.output("y", y);
  return Session.create(inferenceModel(g, new Float32Array(0)).bytes, { intraOpThreads: 1, label: "toy.onnx" });
}

describe("Session", () => {
  it("declares a symbolic batch dimension and runs any batch size", async () => {
    const s = await model();
    expect(s.inputs).toEqual([
      { name: "x", dtype: "float32", shape: ["batch", 3] },
      { name: "ids", dtype: "int64", shape: ["batch"] },
    ]);
    const out = await s.run({
      x: { data: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [2, 3] },
      ids: { data: BigInt64Array.from([10n, 20n]), dims: [2] },
    });
    expect(Array.from(out.y?.data as Float32Array)).toEqual([11, 12, 13, 24, 25, 26]);
  });

  it("lists every missing, extra, mis-typed and mis-shaped input in one error", async () => {
    const s = await model();
    const err = await s
      .run({
        x: { data: new Float32Array(8), dims: [2, 4] },
        extra: { data: new Float32Array(1), dims: [1] },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const issues = (err as ValidationError).issues.map((i) => `${i.path}: ${i.expected} / ${i.received}`);
    expect(issues).toEqual([
      "x: float32 [batch,3] / float32 [2,4] with 8 values",
      "ids: int64 [batch] / nothing (missing)",
      "extra: no such input / an extra input",
    ]);
    expect((err as Error).message).toMatch(/^toy\.onnx inputs: 3 invalid fields/);
    const mismatch = s.check({
      x: { data: new Float32Array(6), dims: [2, 3] },
      ids: { data: BigInt64Array.from([1n, 2n, 3n]), dims: [3] },
    });
    expect(mismatch.map((i) => i.path)).toEqual(["ids"]);
  });

  it("returns only the fetched outputs and writes a preallocated one into the caller's array", async () => {
    const g = new GraphBuilder();
    const x = g.input("x", [2, 3]);
    g.output("y", g.mul(x, 2));
    g.output("z", g.reduceSum(x, [0, 1]));
    const s = await Session.create(inferenceModel(g, new Float32Array(0)).bytes, { intraOpThreads: 1 });
    const feeds = { x: { data: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [2, 3] } };
    const y = { data: new Float32Array(6), dims: [2, 3] };
    const out = await s.run(feeds, { y });
    expect(Object.keys(out)).toEqual(["y"]);
    expect(out.y).toBe(y);
    expect(Array.from(y.data)).toEqual([2, 4, 6, 8, 10, 12]);
    const z = await s.run(feeds, { z: null });
    expect(Object.keys(z)).toEqual(["z"]);
    expect(Array.from(z.z?.data as Float32Array)).toEqual([21]);
  });

  it("lists every unknown or mis-shaped fetch, and an empty fetch list, as issues", async () => {
    const s = await model();
    const feeds = {
      x: { data: new Float32Array(6), dims: [2, 3] },
      ids: { data: BigInt64Array.from([1n, 2n]), dims: [2] },
    };
    const issues = s
      .check(feeds, { y: { data: new Float32Array(9), dims: [3, 3] }, w: null })
      .map((i) => `${i.path}: ${i.expected} / ${i.received}`);
    expect(issues).toEqual([
      "fetches.y: float32 [batch,3] / float32 [3,3] with 9 values",
      "fetches.w: an output of the model / no such output",
    ]);
    expect(s.check(feeds, {}).map((i) => i.path)).toEqual(["fetches"]);
    await expect(s.run(feeds, { w: null })).rejects.toThrow(/toy\.onnx inputs: 1 invalid field[\s\S]*fetches\.w/);
  });

  it("reports a model onnxruntime cannot load, naming it", async () => {
    await expect(Session.create(new Uint8Array([1, 2, 3]), { label: "broken.onnx" })).rejects.toThrow(
      /broken\.onnx: onnxruntime could not load the model/,
    );
  });

  it("profiles every run and node when asked, hands the events back and removes the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "duet-profile-"));
    const g = new GraphBuilder();
    g.output(
      "y",
      g.scope("block", () => g.sqrt(g.input("x", [2, 3]))),
    );
    const s = await Session.create(inferenceModel(g, new Float32Array(0)).bytes, {
      intraOpThreads: 1,
      profilePrefix: join(dir, "toy"),
    });
    for (let i = 0; i < 3; i++) await s.run({ x: { data: new Float32Array(6).fill(4), dims: [2, 3] } });
    const events = s.endProfiling();
    expect(events.filter((e) => e.cat === "Session" && e.name === "model_run")).toHaveLength(3);
    const kernels = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
    expect(kernels.map((e) => e.name)).toEqual(Array(3).fill(expect.stringMatching(/^block\.Sqrt_\d+_kernel_time$/)));
    expect(kernels.every((e) => e.args?.op_name === "Sqrt" && e.dur >= 0)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    await expect(model().then((m) => m.endProfiling())).rejects.toThrow(/toy\.onnx: endProfiling\(\) needs a session/);
  });
});
