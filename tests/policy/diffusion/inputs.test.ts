import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.ts";
import {
  MinMaxNormalizer,
  PolicyNetwork,
  policyConfigSchema,
  type TrainingContext,
} from "../../../src/policy/index.ts";
import { ByteTokenizer } from "../../../src/encoders/index.ts";
import { tinyEncoder } from "../fixtures.ts";

const CAMERAS = [
  { name: "front", height: 16, width: 16 },
  { name: "left_wrist", height: 16, width: 16 },
];

/** A network with every kind of observation input. */
function everything(): PolicyNetwork {
  const config = policyConfigSchema.parse({
    encoder: { ...tinyEncoder(8), height: 16, width: 16, patch: 8 },
    observeScene: true,
    goal: { camera: "front" },
    language: { maxTokens: 16, dim: 8, depth: 1, heads: 1, featureDim: 4 },
    audio: { window: 2, patch: 4, dim: 8, depth: 1, heads: 1, featureDim: 4 },
    denoiser: { name: "unet", downDims: [16], groups: 8, stepEmbedDim: 8 },
  });
  return new PolicyNetwork(config, { stateDim: 16, actionDim: 16, cameras: CAMERAS, sceneDim: 3, audioSamples: 1600 });
}

describe("the observation-input table", () => {
  it("is the encoder graph's inputs and the training graph's observation inputs, in feature order", () => {
    const net = everything();
    const table = net.observer.inputs;
    const declared = (b: number) => table.flatMap((i) => i.tensors(b)).map((t) => [t.name, t.dims, t.dtype]);
    const graphInputs = (g: { inputs: readonly { name: string; shape: readonly number[]; dtype: string }[] }) =>
      g.inputs.map((t) => [t.name, [...t.shape], t.dtype]);
    expect(graphInputs(net.encoderGraph())).toEqual(declared(1));
    const training = graphInputs(net.trainingLoss(4).g).filter(([name]) => declared(4).some(([n]) => n === name));
    expect(training).toEqual(declared(4));
    expect(declared(1).map(([name]) => name)).toEqual([
      "state",
      "environment",
      "image_front",
      "image_left_wrist",
      "goal_image",
      "instruction_ids",
      "instruction_eos",
      "audio_spectrogram",
    ]);
    // each entry's features add up to the observation features the denoiser is conditioned on
    expect(table.reduce((n, i) => n + i.featureDim, 0)).toBe(net.obsDim);
    expect(net.obsDim).toBe(16 + 3 + 2 * 8 + 8 + 4 + 4);
  });

  it("fills training rows from a window the way it fills the run-time row from observations", () => {
    const net = everything();
    const [state, scene, front] = net.observer.inputs;
    const range = (n: number, lo: number, hi: number) => ({ min: Array(n).fill(lo), max: Array(n).fill(hi) });
    const norm = {
      state: new MinMaxNormalizer(range(16, -2, 2)),
      scene: { norm: new MinMaxNormalizer(range(4, 0, 1)), indices: [3, 0, 1] },
      audio: null,
    };
    const rng = new Rng(1);
    const states = [
      Float32Array.from({ length: 16 }, (_, j) => j / 10),
      Float32Array.from({ length: 16 }, (_, j) => -j / 10),
    ];
    const envs = [Float32Array.of(0.1, 0.2, 0.3, 0.4), Float32Array.of(0.5, 0.6, 0.7, 0.8)];
    const pixels = [new Uint8Array(16 * 16 * 3).fill(0), new Uint8Array(16 * 16 * 3).fill(255)];
    const history = [0, 1].map((k) => ({
      time: k / 10,
      state: states[k]!,
      environmentState: envs[k]!,
      images: { front: { width: 16, height: 16, data: pixels[k]! } },
    }));
    const window = {
      state: Float32Array.from([...states[0]!, ...states[1]!]),
      environment: Float32Array.from([...envs[0]!, ...envs[1]!]),
      images: { front: Uint8Array.from([...pixels[0]!, ...pixels[1]!]) },
      episode: 0,
      frame: 1,
    };
    const ctx: TrainingContext = {
      norm,
      rng,
      augment: false,
      imageShift: 2,
      stateNoise: 0.5,
      episodeLength: () => 2,
      episodeTask: () => "",
      frame: () => pixels[1]!,
    };
    const observeCtx = { norm, label: "test", stateNames: [], environmentNames: ["a", "b", "c", "d"] };
    for (const input of [state!, scene!, front!]) {
      const [one] = input.tensors(1);
      const n = one!.dims.reduce((a, d) => a * d, 1);
      const run = new Float32Array(n);
      input.observe(history, [run], observeCtx);
      const batch = new Float32Array(3 * n);
      input.fromWindow(window, [batch], 2, ctx); // row 2 of a batch of 3
      expect([...batch.subarray(2 * n)]).toEqual([...run]);
      expect(batch.subarray(0, 2 * n).every((v) => v === 0)).toBe(true);
    }
    // the scene entries the policy reads, normalized, in the order it names them
    const picked = new Float32Array(6);
    scene!.observe(history, [picked], observeCtx);
    expect([...picked].map((v) => Math.round(v * 10) / 10)).toEqual([-0.2, -0.8, -0.6, 0.6, 0, 0.2]);
  });

  it("jitters each camera's frames (and the goal) with one brightness and contrast per window, drawing nothing when off", () => {
    const net = everything();
    const [, , front, , goal] = net.observer.inputs;
    const pixels = Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => (i * 29) % 256);
    const window = {
      state: new Float32Array(32),
      environment: new Float32Array(0),
      images: { front: Uint8Array.from([...pixels, ...pixels]) }, // two identical frames
      episode: 0,
      frame: 1,
    };
    const ctx = (seed: number, colorJitter?: { brightness: number; contrast: number }): TrainingContext => ({
      norm: { state: new MinMaxNormalizer({ min: [0], max: [1] }), scene: null, audio: null },
      rng: new Rng(seed),
      augment: true,
      imageShift: 0,
      stateNoise: 0,
      ...(colorJitter && { colorJitter }),
      episodeLength: () => 2,
      episodeTask: () => "",
      frame: () => pixels,
    });
    const n = 16 * 16 * 3;
    const fill = (c: TrainingContext): [Float32Array, Float32Array] => {
      const frames = new Float32Array(2 * n);
      const picture = new Float32Array(n);
      front!.fromWindow(window, [frames], 0, c);
      goal!.fromWindow(window, [picture], 0, c);
      return [frames, picture];
    };
    const off = ctx(5);
    const [plain, plainGoal] = fill(off);
    expect(off.rng.getState()).toEqual(new Rng(5).getState()); // off: no draw, so every later draw stays as it was
    const [a, aGoal] = fill(ctx(5, { brightness: 0.4, contrast: 0.4 }));
    const [b] = fill(ctx(5, { brightness: 0.4, contrast: 0.4 }));
    expect([...a]).toEqual([...b]); // seeded
    expect([...a.subarray(0, n)]).toEqual([...a.subarray(n)]); // both steps of the window alike
    const changed = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + Math.abs(v - y[i]!), 0) / x.length;
    expect(changed(a, plain)).toBeGreaterThan(0.01);
    expect(changed(aGoal, plainGoal)).toBeGreaterThan(0.01);
    expect(a.every((v) => v >= -1 && v <= 1)).toBe(true);
  });

  it("rephrases a training window's instruction only when augmenting, with the given probability", () => {
    const net = everything();
    const instruction = net.observer.inputs[5]!;
    const rephrase = (text: string): string => `${text} now`;
    const ctx = (augment: boolean, probability: number): TrainingContext => ({
      norm: { state: new MinMaxNormalizer({ min: [0], max: [1] }), scene: null, audio: null },
      rng: new Rng(3),
      augment,
      imageShift: 0,
      stateNoise: 0,
      paraphrase: { probability, rephrase },
      episodeLength: () => 2,
      episodeTask: () => "lift it",
      frame: () => new Uint8Array(0),
    });
    const window = { state: new Float32Array(32), environment: new Float32Array(0), images: {}, episode: 0, frame: 1 };
    const tokenizer = new ByteTokenizer(16);
    /** The text row 0 holds after a fill. */
    const told = (c: TrainingContext): string => {
      const ids = new BigInt64Array(16);
      instruction.fromWindow(window, [ids, new Float32Array(16)], 0, c);
      return tokenizer.decode([...ids].map(Number));
    };
    expect(told(ctx(false, 1))).toBe("lift it"); // validation batches read the recorded instruction
    expect(told(ctx(true, 1))).toBe("lift it now");
    const c = ctx(true, 0.5);
    const seen = new Set(Array.from({ length: 40 }, () => told(c)));
    expect(seen).toEqual(new Set(["lift it", "lift it now"]));
  });
});
