// The policy runtime and model directories: ONNX inference equals the training forward pass, loading refuses bad
// directories with clear messages, observations with NaN are refused, stale actions are dropped.
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.ts";
import { ParamLayout, float16Bits } from "../../../src/nn/index.ts";
import {
  IO,
  PolicyNetwork,
  dropElapsed,
  imageInput,
  loadPolicy,
  policyConfigSchema,
  type PolicyConfigInput,
} from "../../../src/policy/index.ts";
import { trainedPolicy } from "../../../src/runner/deploy/index.ts";
import { Session } from "../../../src/runtime/index.ts";
import { createEnv } from "../../../src/sim/index.ts";
import { CAM, SHAPE, TINY, makeModel, network, observation, tempDir, tinyEncoder, tinyTubelet } from "../fixtures.ts";

function randn(rng: Rng, n: number, s = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * s);
}

describe("ONNX inference equals the training forward pass", () => {
  for (const policy of [
    { denoiser: { name: "unet", downDims: [16, 32, 64], groups: 8, stepEmbedDim: 16 } },
    { denoiser: { name: "transformer", dim: 16, heads: 2, layers: 2 } },
    { predictStates: true },
    { observeState: false, actions: "relative" },
    { encoder: tinyTubelet(2) },
  ] as PolicyConfigInput[]) {
    it(JSON.stringify(policy), async () => {
      const net = network(policy);
      const { g } = net.trainingLoss(1, false);
      const layout = ParamLayout.of(g);
      const params = layout.init(11);
      const fused = await Session.create(PolicyNetwork.compile(g, layout, params).bytes, { intraOpThreads: 1 });
      const enc = await Session.create(PolicyNetwork.compile(net.encoderGraph(), layout, params).bytes);
      const den = await Session.create(PolicyNetwork.compile(net.denoiserGraph(), layout, params).bytes);
      const rng = new Rng(2);
      const n = 10 * net.sampleDim;
      const x0 = randn(rng, n, 0.5);
      const noise = randn(rng, n);
      const t = 37;
      const ab = net.schedule.alphaBar(t);
      const images = {
        [imageInput("front")]: {
          data: Float32Array.from({ length: 2 * CAM * CAM * 3 }, () => rng.next()),
          dims: [1, 2, CAM, CAM, 3],
        },
      };
      const state = { data: randn(rng, 32, 0.5), dims: [1, 2, 16] };
      // a policy that leaves the state out has no state input (unused inputs are not exported)
      const obs = net.config.observeState ? { [IO.state]: state, ...images } : images;
      const ref = await fused.run({
        ...obs,
        [IO.target]: { data: x0, dims: [1, 10, net.sampleDim] },
        [IO.noise]: { data: noise, dims: [1, 10, net.sampleDim] },
        [IO.timestep]: { data: Float32Array.of(t), dims: [1] },
        [IO.sqrtAlphaBar]: { data: Float32Array.of(Math.sqrt(ab)), dims: [1, 1, 1] },
        [IO.sqrtOneMinusAlphaBar]: { data: Float32Array.of(Math.sqrt(1 - ab)), dims: [1, 1, 1] },
      });
      const cond = (await enc.run(obs))[IO.cond]!;
      const noisy = x0.map((v, i) => Math.sqrt(ab) * v + Math.sqrt(1 - ab) * noise[i]!);
      const out = await den.run({
        [IO.sample]: { data: noisy, dims: [1, 10, net.sampleDim] },
        [IO.timestep]: { data: Float32Array.of(t), dims: [1] },
        [IO.cond]: cond,
      });
      const a = out[IO.pred]!.data as Float32Array;
      const b = ref[IO.pred]!.data as Float32Array;
      expect(a.length).toBe(n);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst).toBeLessThan(1e-4);
      expect(Math.max(...Array.from(b, Math.abs))).toBeGreaterThan(1e-3); // not trivially zero
    });
  }
});

describe("float16 weights (the shipped models)", () => {
  it("float16Bits rounds to the nearest half, with subnormals, overflow and NaN", () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66], // 0.0999755859375
      [65504, 0x7bff], // largest half
      [65520, 0x7c00], // rounds up to Infinity
      [1e6, 0x7c00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -26, 0x0000], // below half of it: zero
      [1 + 2 ** -11, 0x3c00], // a tie rounds to even
      [1 + 3 * 2 ** -11, 0x3c02],
      [0, 0x0000],
    ];
    for (const [x, bits] of cases) expect([x, float16Bits(x)]).toEqual([x, bits]);
    expect(float16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(float16Bits(Number.NaN) & 0x3ff).not.toBe(0);
  });

  it("halve the graph files and give the float32 model's chunk to within 1e-2", async () => {
    // tokens 64 wide, so that the encoder's weights outweigh its graph (LayerNorm and friends) as the denoiser's do
    const policy: PolicyConfigInput = {
      encoder: { ...tinyEncoder(), dim: 64 },
      denoiser: { name: "unet", downDims: [32, 64], groups: 8, stepEmbedDim: 16 },
    };
    const full = makeModel(policy);
    const half = makeModel(policy, "float16");
    for (const f of ["encoder.onnx", "denoiser.onnx", "sampler.onnx"]) {
      const ratio = statSync(join(half, f)).size / statSync(join(full, f)).size;
      expect([f, ratio > 0.45 && ratio < 0.6]).toEqual([f, true]); // weights halve; the graph itself does not
    }
    const chunks = [];
    for (const dir of [full, half]) {
      const p = await loadPolicy(dir);
      p.reset(3);
      chunks.push((await p.predictChunk([observation(0, 2), observation(0, 3)])).actions);
    }
    const [a, b] = chunks as [Float32Array, Float32Array];
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(worst).toBeLessThan(1e-2); // actions span ±0.5
    expect(worst).toBeGreaterThan(0); // the weights really were rounded
  });
});

describe("loadPolicy refuses bad model directories", () => {
  it("a missing directory, a missing model.json, missing graph files", async () => {
    await expect(loadPolicy("/nonexistent/model")).rejects.toThrow(/\/nonexistent\/model: no such model directory/);
    const empty = tempDir();
    await expect(loadPolicy(empty)).rejects.toThrow(/not a policy model directory: model.json is missing/);
    const dir = makeModel();
    rmSync(join(dir, "denoiser.onnx"));
    rmSync(join(dir, "sampler.onnx"));
    await expect(loadPolicy(dir)).rejects.toThrow(/model files missing: denoiser.onnx, sampler.onnx/);
  });

  it("a corrupt model.json and a wrong config field", async () => {
    const dir = makeModel();
    const file = join(dir, "model.json");
    const good = readFileSync(file, "utf8");
    writeFileSync(file, good.slice(0, 100));
    await expect(loadPolicy(dir)).rejects.toThrow(/model.json: invalid JSON/);
    const m = JSON.parse(good) as { config: { predSteps: unknown; denoiser: { name: string } }; fps: unknown };
    m.config.predSteps = "ten";
    m.config.denoiser.name = "resnet";
    m.fps = -1;
    writeFileSync(file, JSON.stringify(m));
    const err = String(await loadPolicy(dir).catch((e: Error) => e));
    expect(err).toMatch(/model.json: 3 invalid fields/);
    expect(err).toMatch(/config.predSteps: expected number, received "ten"/);
    expect(err).toMatch(/config.denoiser.name: expected .*'unet' \| 'transformer', received "resnet"/);
    expect(err).toMatch(/fps: expected > 0, received -1/);
  });

  it("a model made for another robot, cameras or rate", async () => {
    const dir = makeModel();
    const err = String(
      await loadPolicy(dir, {
        expect: { robotType: "panda_pair", actionDim: 14, cameras: [{ name: "left_wrist" }], controlHz: 20 },
      }).catch((e: Error) => e),
    );
    expect(err).toMatch(/made for another robot, camera setup or control rate/);
    expect(err).toMatch(/robotType: expected "panda_pair", received "test_pair"/);
    expect(err).toMatch(/actionNames: expected 14 names, received 16/);
    expect(err).toMatch(/cameras.0.name: expected one of the environment's cameras \(left_wrist\), received "front"/);
    expect(err).toMatch(/fps: expected 20/);
  });

  it("relative actions without one state entry per action entry", async () => {
    expect(
      () =>
        new PolicyNetwork(
          policyConfigSchema.parse({ ...TINY, actions: "relative" }),
          { ...SHAPE, stateDim: 14 },
          "c.json",
        ),
    ).toThrow(/c.json: policy.actions "relative" pairs state and action entries, but there are 14 state and 16 action/);
    const dir = makeModel();
    const file = join(dir, "model.json");
    const m = JSON.parse(readFileSync(file, "utf8")) as { config: { actions: string }; actionNames: string[] };
    m.config.actions = "relative";
    m.actionNames = m.actionNames.slice(0, 14);
    writeFileSync(file, JSON.stringify(m));
    await expect(loadPolicy(dir)).rejects.toThrow(
      /actionNames: expected 16 entries \(config.actions \\?"relative\\?": one per state name\); found 14/,
    );
  });

  it("per-step action ranges without one range per chunk step", async () => {
    const dir = makeModel();
    const file = join(dir, "model.json");
    const m = JSON.parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    Object.assign(m.config, { actions: "relative", actionRange: "per-step" }); // the 16 ranges of a shared model
    writeFileSync(file, JSON.stringify(m));
    await expect(loadPolicy(dir)).rejects.toThrow(
      /normalizer.action.min: expected 160 entries \(one per chunk step and action name\); found 16/,
    );
  });

  it("graphs that do not match model.json (horizon, action size)", async () => {
    const dir = makeModel();
    const file = join(dir, "model.json");
    const m = JSON.parse(readFileSync(file, "utf8")) as { config: { predSteps: number } };
    m.config.predSteps = 12;
    writeFileSync(file, JSON.stringify(m));
    await expect(loadPolicy(dir)).rejects.toThrow(
      /graphs do not match model.json[\s\S]*denoiser.onnx: input sample: expected \[1,12,16\], received \[1,10,16\]/,
    );
    const other = makeModel();
    writeFileSync(join(other, "encoder.onnx"), "not onnx");
    await expect(loadPolicy(other)).rejects.toThrow(/encoder.onnx: onnxruntime could not load the model/);
  });
});

describe("DiffusionPolicy at run time", () => {
  it("refuses an observation with NaN or a missing camera, and takes no action", async () => {
    const policy = await loadPolicy(makeModel());
    policy.reset(0);
    const bad = observation(0, 3);
    bad.state[5] = Number.NaN;
    await expect(policy.predictChunk([observation(0, 2), bad])).rejects.toThrow(
      /observation t-0 state\[5\] \(left_joint6\) is NaN; no action taken/,
    );
    const blind = { ...observation(0, 3), images: {} };
    await expect(policy.predictChunk([blind])).rejects.toThrow(/has no image from camera "front" \(has: none\)/);
    const chunk = await policy.predictChunk([observation(0, 3)]); // one observation: repeated to To
    expect(chunk.actions.every((v) => v >= -0.5 && v <= 0.5)).toBe(true);
  });

  it("drops the actions whose time has passed when inference is slow", async () => {
    const chunk = { actions: Float32Array.from({ length: 30 }, (_, i) => i), horizon: 10, dim: 3 };
    expect(dropElapsed(chunk, 0.05, 10)).toBe(chunk);
    const late = dropElapsed(chunk, 0.25, 10);
    expect(late.horizon).toBe(8);
    expect(late.actions[0]).toBe(6);
    expect(dropElapsed(chunk, 99, 10).horizon).toBe(1);
    let now = 0;
    const policy = await loadPolicy(makeModel(), { clock: () => now });
    now = observation(0, 3).time + 0.31;
    expect((await policy.predictChunk([observation(0, 3)])).horizon).toBe(7);
  });

  it("noiseScale 0 starts every chunk from zero noise, so the seed no longer matters", async () => {
    const dir = makeModel();
    const chunk = async (seed: number, noiseScale?: number): Promise<number[]> => {
      const p = await loadPolicy(dir, noiseScale === undefined ? {} : { noiseScale });
      p.reset(seed);
      return [...(await p.predictChunk([observation(0, 3)])).actions];
    };
    expect(await chunk(1, 0)).toEqual(await chunk(2, 0));
    expect(await chunk(1)).not.toEqual(await chunk(2));
    expect(await chunk(1, 1)).toEqual(await chunk(1)); // 1 is the default
  });

  it("the unrolled sampler graph gives the per-step loop's chunk", async () => {
    for (const policy of [
      {},
      { denoiser: { name: "transformer", dim: 16, heads: 2, layers: 2 } },
    ] as PolicyConfigInput[]) {
      const dir = makeModel(policy);
      const chunk = async (mode: "loop" | "unrolled"): Promise<Float32Array> => {
        const p = await loadPolicy(dir, { mode });
        p.reset(7);
        return (await p.predictChunk([observation(0, 2), observation(0, 3)])).actions;
      };
      const loop = await chunk("loop");
      const unrolled = await chunk("unrolled");
      expect(unrolled.length).toBe(loop.length);
      let worst = 0;
      for (let i = 0; i < loop.length; i++) worst = Math.max(worst, Math.abs(loop[i]! - unrolled[i]!));
      expect(worst).toBeLessThan(1e-4);
      expect(Math.max(...Array.from(loop, Math.abs))).toBeGreaterThan(1e-3);
    }
  });

  it("samples with the unrolled graph by default, the loop for another step count or on request", async () => {
    const dir = makeModel();
    expect((await loadPolicy(dir)).mode).toBe("unrolled");
    expect((await loadPolicy(dir, { inferenceSteps: 5 })).mode).toBe("loop");
    expect((await loadPolicy(dir, { mode: "loop" })).mode).toBe("loop");
    await expect(loadPolicy(dir, { mode: "unrolled", inferenceSteps: 5 })).rejects.toThrow(
      /runs the trained 2 DDIM steps, not 5; use mode "loop"/,
    );
    expect((await loadPolicy(makeModel({ objective: "regression" }))).mode).toBe("loop");
  });

  it("ensembling blends each chunk with the previous one's actions for the same times, and reset forgets it", async () => {
    const dir = makeModel();
    const plain = await loadPolicy(dir);
    const blended = await loadPolicy(dir, { ensemble: 0.25 });
    const at = (t: number) => [observation(0, t - 1), observation(0, t)];
    const run = async (p: typeof plain, ts: number[]) => {
      p.reset(7);
      const out: Float32Array[] = [];
      for (const t of ts) out.push(Float32Array.from((await p.predictChunk(at(t))).actions));
      return out;
    };
    const [a1, a2] = (await run(plain, [2, 5])) as [Float32Array, Float32Array];
    const [b1, b2] = (await run(blended, [2, 5])) as [Float32Array, Float32Array];
    expect(Array.from(b1)).toEqual(Array.from(a1)); // nothing before the first chunk
    const da = 16;
    let worst = 0;
    for (let i = 0; i < b2.length; i++) {
      // chunk 2 starts 3 steps after chunk 1: its step j meets chunk 1's step j + 3 (steps 7–9 have no earlier plan)
      const want = i < 7 * da ? 0.75 * a2[i]! + 0.25 * a1[i + 3 * da]! : a2[i]!;
      worst = Math.max(worst, Math.abs(b2[i]! - want));
    }
    expect(worst).toBeLessThan(1e-6);
    expect(Math.max(...Array.from(b2, (v, i) => Math.abs(v - a2[i]!)))).toBeGreaterThan(1e-4);
    expect(Array.from((await run(blended, [5]))[0]!)).toEqual(Array.from((await run(plain, [5]))[0]!));
  });

  it("episodeNoise starts every chunk of an episode from one draw: the same observation gives the same chunk", async () => {
    const dir = makeModel();
    const history = [observation(0, 2), observation(0, 3)];
    const twice = async (episodeNoise: boolean, seed: number) => {
      const p = await loadPolicy(dir, { episodeNoise });
      p.reset(seed);
      const a = Array.from((await p.predictChunk(history)).actions);
      return [a, Array.from((await p.predictChunk(history)).actions)] as const;
    };
    const [a, b] = await twice(true, 7);
    expect(b).toEqual(a);
    const [c, d] = await twice(false, 7);
    expect(c).toEqual(a); // the episode's draw is the first chunk's
    expect(d).not.toEqual(c);
    expect((await twice(true, 8))[0]).not.toEqual(a); // another episode, another draw
  });

  it("a Ta override longer than the model's chunk is refused before anything loads", () => {
    const env = createEnv("scenarios/bottle-cap.json", { cameras: false });
    expect(() => trainedPolicy(makeModel(), env, { actionSteps: 11 })).toThrow(
      /Ta 11 exceeds the model's chunk of 10 steps \(config.predSteps\)/,
    );
    expect(() => trainedPolicy(makeModel(), env, { actionSteps: 10 })).not.toThrow();
  });

  it("more DDIM steps run more denoiser passes; regression runs one", async () => {
    expect((await loadPolicy(makeModel(), { inferenceSteps: 16 })).denoisingSteps).toBe(16);
    expect((await loadPolicy(makeModel({ objective: "regression" }))).denoisingSteps).toBe(1);
  });
});
