// Re-exporting a model directory with this version's graph code, its weights read back out of its own graphs: the
// chunks do not change, float16 weights stay float16, run settings (guidance too) are rewritten, and a model.json that
// does not describe the stored weights, or a missing graph, is refused before anything is written.
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPolicy, reexportPolicy } from "../../../src/policy/index.ts";
import { makeModel, observation, tempDir } from "../fixtures.ts";

async function chunk(dir: string): Promise<Float32Array> {
  const p = await loadPolicy(dir);
  p.reset(3);
  return (await p.predictChunk([observation(0, 2), observation(0, 3)])).actions;
}

describe("reexportPolicy", () => {
  it("rewrites the graphs with the same chunk, model.json and weight precision", async () => {
    const dir = makeModel({}, "float16");
    const out = join(tempDir(), "again");
    const model = reexportPolicy(dir, out);
    expect(readdirSync(out).sort()).toEqual(["denoiser.onnx", "encoder.onnx", "model.json", "sampler.onnx"]);
    const before = JSON.parse(readFileSync(join(dir, "model.json"), "utf8")) as { provenance: object };
    const rewritten = { time: expect.any(String), settings: {} };
    expect(model).toEqual({ ...before, provenance: { ...before.provenance, rewritten } });
    for (const f of ["encoder.onnx", "denoiser.onnx", "sampler.onnx"]) {
      const ratio = statSync(join(out, f)).size / statSync(join(dir, f)).size;
      expect([f, ratio > 0.9 && ratio < 1.1]).toEqual([f, true]); // float16 weights, not widened to float32
    }
    const [a, b] = [await chunk(dir), await chunk(out)];
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it("changes how chunks run (Ta, ensembling), recording what each setting was trained with", () => {
    const dir = makeModel();
    const once = reexportPolicy(dir, dir, { actionSteps: 1, ensemble: 0.5 });
    expect([once.config.inference.actionSteps, once.config.inference.ensemble]).toEqual([1, 0.5]);
    const twice = reexportPolicy(dir, dir, { ensemble: 0.75 });
    expect(twice.config.inference.actionSteps).toBe(1);
    expect(twice.provenance.rewritten).toEqual({
      time: expect.any(String),
      settings: { actionSteps: [8, 1], ensemble: [0, 0.75] },
    });
    expect(() => reexportPolicy(dir, dir, { actionSteps: 11 })).toThrow(
      /inference.actionSteps: expected ≤ predSteps \(10\)/,
    );
  });

  it("writes the sampler graph guided with inference.guidance, refused for a policy without language", async () => {
    const dir = makeModel({ language: { maxTokens: 16, dim: 8, depth: 1, heads: 2, featureDim: 8 } });
    const m = reexportPolicy(dir, dir, { guidance: 2 });
    expect(m.config.inference.guidance).toBe(2);
    expect(m.provenance.rewritten).toEqual({ time: expect.any(String), settings: { guidance: [undefined, 2] } });
    const policy = await loadPolicy(dir);
    expect([policy.mode, policy.guidance]).toEqual(["unrolled", 2]);
    expect(() => reexportPolicy(makeModel(), undefined, { guidance: 2 })).toThrow(
      /inference.guidance: expected unset or 1 for a policy without language/,
    );
  });

  it("refuses weights that do not fit model.json, naming each parameter, and writes nothing", () => {
    const dir = makeModel();
    const file = join(dir, "model.json");
    const m = JSON.parse(readFileSync(file, "utf8")) as { config: { denoiser: { downDims: number[] } } };
    m.config.denoiser.downDims = [16, 48];
    writeFileSync(file, JSON.stringify(m));
    const before = statSync(join(dir, "sampler.onnx")).mtimeMs;
    expect(() => reexportPolicy(dir)).toThrow(/the stored weights do not fit the network .*model.json describes/);
    expect(() => reexportPolicy(dir)).toThrow(
      /denoiser\.down1\.res0\.block0\.conv\.weight: expected \[80,48\], received \[80,32\]/,
    );
    expect(statSync(join(dir, "sampler.onnx")).mtimeMs).toBe(before);
  });

  it("refuses a model whose denoiser graph is missing", () => {
    const dir = makeModel();
    rmSync(join(dir, "denoiser.onnx"));
    expect(() => reexportPolicy(dir)).toThrow(/denoiser.onnx is missing \(listed in model.json\)/);
  });
});
