// Reading parameters back out of exported graphs: float16 bits decode exactly, and a graph's initializers come back
// by parameter name with their shapes, whichever precision stored them; its nodes are counted by op type.
import { describe, expect, it } from "vitest";
import {
  GraphBuilder,
  Linear,
  ParamLayout,
  float16Bits,
  float16Value,
  inferenceModel,
  onnxOpCounts,
  readOnnxParams,
} from "../../src/nn/index.ts";

describe("readOnnxParams", () => {
  it("float16Value inverts float16Bits for every half that is not NaN", () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = float16Value(h);
      if (Number.isNaN(v)) expect(h & 0x7c00).toBe(0x7c00);
      else expect(float16Bits(v)).toBe(h);
    }
    expect(float16Value(0x3c00)).toBe(1);
    expect(float16Value(0xc000)).toBe(-2);
    expect(float16Value(0x0001)).toBe(2 ** -24);
  });

  it("reads each parameter back by name, exactly in float32 and rounded to halves in float16", () => {
    const g = new GraphBuilder();
    const x = g.input("x", [2, 3]);
    g.output("y", new Linear("fc", 3, 4).apply(g, x));
    const layout = ParamLayout.of(g);
    const values = layout.init(7);
    for (const precision of ["float32", "float16"] as const) {
      const read = readOnnxParams(inferenceModel(g, values, { precision }).bytes, "test.onnx");
      expect([...read.keys()].sort()).toEqual(layout.entries.map((e) => e.name).sort());
      for (const e of layout.entries) {
        const p = read.get(e.name);
        expect(p?.shape).toEqual(e.shape);
        const want = [...layout.view(values, e.name)];
        expect([...(p?.values ?? [])]).toEqual(
          precision === "float32" ? want.map(Math.fround) : want.map((v) => float16Value(float16Bits(v))),
        );
      }
    }
  });

  it("refuses an initializer whose bytes do not fill its shape", () => {
    const g = new GraphBuilder();
    g.output("y", new Linear("fc", 3, 4).apply(g, g.input("x", [2, 3])));
    const layout = ParamLayout.of(g);
    const bytes = inferenceModel(g, layout.init(7), { precision: "float16" }).bytes;
    // the first initializer is fc.weight/f16 (float16, [3,4]: 24 bytes), its dims packed as 0a 02 03 04: claim [3,5]
    const at = bytes.findIndex((_, i) => [0x0a, 0x02, 0x03, 0x04].every((v, j) => bytes[i + j] === v));
    expect(at).toBeGreaterThan(0);
    const bad = Uint8Array.from(bytes);
    bad[at + 3] = 5;
    expect(() => readOnnxParams(bad, "x.onnx")).toThrow(
      "x.onnx: initializer fc.weight/f16 holds 24 bytes, expected 30 for shape [3,5]",
    );
  });

  it("refuses bytes that are not an ONNX model", () => {
    expect(() => readOnnxParams(new Uint8Array([0x08, 0x01]), "x.onnx")).toThrow(
      "x.onnx: not an ONNX model (no graph)",
    );
    expect(() => readOnnxParams(new Uint8Array([0x3a, 0x09, 0x01]), "x.onnx")).toThrow("x.onnx: truncated protobuf");
  });
});

describe("onnxOpCounts", () => {
  it("counts the nodes of each op type an exported graph has", () => {
    const g = new GraphBuilder();
    const x = g.input("x", [2, 3]);
    g.output("y", g.sigmoid(new Linear("fc", 3, 4).apply(g, g.sigmoid(x))));
    const layout = ParamLayout.of(g);
    const { bytes } = inferenceModel(g, layout.init(1), { precision: "float16" });
    // the Casts widen the two float16 parameters; the last Sigmoid writes the output under its name (no Identity)
    expect(Object.fromEntries(onnxOpCounts(bytes, "test"))).toEqual({ Cast: 2, Sigmoid: 2, MatMul: 1, Add: 1 });
  });
});
