// End to end: a tiny dataset written with src/data → train a tiny U-Net policy → export → load → predict chunks.
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodePng, type Observation } from "../../src/core/index.ts";
import { loadCheckpoint, ParamLayout } from "../../src/nn/index.ts";
import { loadPolicy, PolicyNetwork, readPolicyModel } from "../../src/policy/index.ts";
import { CHECKPOINT_FILE, train, trainConfigSchema, type TrainConfig, type TrainEvent } from "../../src/train/index.ts";
import {
  CAM,
  actionAt,
  chunkErrors,
  observation,
  oneEpisodeConfig,
  tempDir,
  tinyConfig,
  writeTinyDataset,
} from "../policy/fixtures.ts";

let dataset = "";
beforeAll(async () => {
  dataset = await writeTinyDataset();
});

/** The parameter layout of the tiny fixture network for `config` (to read its checkpoints). */
function tinyLayout(config: TrainConfig): ParamLayout {
  const net = new PolicyNetwork(config.policy, {
    stateDim: 16,
    actionDim: 16,
    cameras: [{ name: "front", height: 8, width: 8 }],
  });
  return ParamLayout.of(net.trainingLoss(config.train.batchSize).g);
}

interface PolicyModelJson {
  config: { inference: { actionSteps: number; inferenceSteps: number; noiseScale?: number } };
}

describe("train", () => {
  it("trains a tiny U-Net (loss decreases), exports a policy that predicts 10×16 finite actions within limits", async () => {
    const out = tempDir("duet-model-");
    const events: TrainEvent[] = [];
    let evaluated = 0;
    const config = trainConfigSchema.parse(
      tinyConfig({ train: { steps: 100, evalEvery: 50, logEvery: 10, valEvery: 50, checkpointEvery: 50 } }),
    );
    const result = await train({
      dataset,
      config,
      out,
      onEvent: (e) => events.push(e),
      evaluate: async (dir) => {
        evaluated++;
        expect(existsSync(join(dir, "model.json"))).toBe(true);
        return { success_rate: 0.25 * evaluated };
      },
    });
    const losses = events.flatMap((e) => (e.kind === "step" ? [e.loss] : []));
    expect(losses.length).toBe(10);
    expect(losses.at(-1)!).toBeLessThan(0.8 * losses[0]!);
    expect(result.step).toBe(100);
    expect(result.valLoss).not.toBeNull();
    expect(result.curves.success).toEqual([
      [50, 0.25],
      [100, 0.5],
    ]);
    const png = decodePng(readFileSync(join(out, "train/curves.png")));
    expect(png.width).toBe(720);
    expect(readFileSync(join(out, "train/log.jsonl"), "utf8").trim().split("\n").length).toBeGreaterThan(10);

    const policy = await loadPolicy(out, {
      expect: { robotType: "test_pair", actionDim: 16, stateDim: 16, cameras: [{ name: "front" }], controlHz: 10 },
    });
    expect(policy.actionHorizon).toBe(8);
    policy.reset(1);
    const chunk = await policy.predictChunk([observation(0, 3), observation(0, 4)]);
    expect(chunk.horizon).toBe(10);
    expect(chunk.dim).toBe(16);
    expect(chunk.actions.length).toBe(160);
    const meta = JSON.parse(readFileSync(join(out, "model.json"), "utf8")) as {
      normalizer: { action: { min: number[]; max: number[] } };
      provenance: { steps: number };
    };
    expect(meta.provenance.steps).toBe(100);
    for (let i = 0; i < 160; i++) {
      const v = chunk.actions[i]!;
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(meta.normalizer.action.min[i % 16]! - 1e-5);
      expect(v).toBeLessThanOrEqual(meta.normalizer.action.max[i % 16]! + 1e-5);
    }
    // Sampling with a fixed seed is deterministic; another seed gives another sample.
    policy.reset(1);
    const again = await policy.predictChunk([observation(0, 3), observation(0, 4)]);
    expect([...again.actions]).toEqual([...chunk.actions]);
    policy.reset(2);
    const other = await policy.predictChunk([observation(0, 3), observation(0, 4)]);
    expect([...other.actions]).not.toEqual([...chunk.actions]);
    // The unrolled sampler graph gives the loop's result for the same seed.
    const unrolled = await loadPolicy(out, { mode: "unrolled" });
    unrolled.reset(1);
    const u = await unrolled.predictChunk([observation(0, 3), observation(0, 4)]);
    for (let i = 0; i < 160; i++) expect(Math.abs(u.actions[i]! - chunk.actions[i]!)).toBeLessThan(1e-4);
  });

  it("resumes exactly: 10 steps + resume to 20 equals 20 steps straight", async () => {
    const config = trainConfigSchema.parse(tinyConfig({ train: { steps: 20, valEvery: 0 } }));
    const straight = tempDir("duet-model-");
    await train({ dataset, config, out: straight });
    const split = tempDir("duet-model-");
    await train({ dataset, config, out: split, stopAtStep: 10 });
    // the step-10 export says it is unfinished
    const provenance = (dir: string) => readPolicyModel(dir).provenance;
    expect(provenance(split)).toMatchObject({ steps: 10, total_steps: 20, unfinished: true });
    // as if killed after logging step 15, past the step-10 checkpoint, mid-line
    const log = join(split, "train/log.jsonl");
    appendFileSync(log, `${JSON.stringify({ kind: "step", step: 15, loss: 1 })}\n{"kind":"st`);
    await expect(train({ dataset, config, out: split })).rejects.toThrow(/already holds a training run/);
    await train({ dataset, config, out: split, resume: true });
    expect(provenance(split)).toMatchObject({ steps: 20, total_steps: 20, unfinished: false });
    // resuming truncated the log to the checkpoint's step: every step is logged once, in order
    const steps = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; step?: number })
      .filter((e) => e.kind === "step")
      .map((e) => e.step as number);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps).toEqual([...new Set(steps)].sort((x, y) => x - y));
    expect(steps.at(-1)).toBe(20);
    const layout = tinyLayout(config);
    const a = loadCheckpoint(join(straight, CHECKPOINT_FILE), layout);
    const b = loadCheckpoint(join(split, CHECKPOINT_FILE), layout);
    expect(b.step).toBe(20);
    expect([...b.params]).toEqual([...a.params]);
    expect([...b.ema!]).toEqual([...a.ema!]);
    // resuming the finished run only re-exports it; float16 weights halve the denoiser graph
    const before = statSync(join(split, "denoiser.onnx")).size;
    const again = await train({ dataset, config, out: split, resume: true, weights: "float16" });
    expect([again.step, again.trainedSteps]).toEqual([20, 0]);
    expect(statSync(join(split, "denoiser.onnx")).size / before).toBeLessThan(0.6);
    expect([...loadCheckpoint(join(split, CHECKPOINT_FILE), layout).ema!]).toEqual([...a.ema!]);
    // inference-only settings may change on resume; anything that shapes training may not
    const sampling = trainConfigSchema.parse(
      tinyConfig({
        policy: { inference: { actionSteps: 2, inferenceSteps: 3, noiseScale: 0.5 } },
        train: { steps: 20, valEvery: 0 },
      }),
    );
    await train({ dataset, config: sampling, out: split, resume: true });
    const m = JSON.parse(readFileSync(join(split, "model.json"), "utf8")) as PolicyModelJson;
    const run = m.config.inference;
    expect([run.actionSteps, run.inferenceSteps, run.noiseScale]).toEqual([2, 3, 0.5]);
    const lr = trainConfigSchema.parse(tinyConfig({ train: { steps: 20, valEvery: 0, lr: 0.5 } }));
    await expect(train({ dataset, config: lr, out: split, resume: true })).rejects.toThrow(
      /was trained with another config than training config; resume with the same config \(only policy.inference may differ\)/,
    );
  });

  it("resumes with a changed ensemble (inference only); refuses a changed training field beside the inference ones", async () => {
    const tiny = (policy: object) =>
      trainConfigSchema.parse(
        tinyConfig({ policy: { encoder: null, ...policy }, train: { steps: 4, valEvery: 0, checkpointEvery: 2 } }),
      );
    const out = tempDir("duet-model-");
    await train({ dataset, config: tiny({}), out, stopAtStep: 2 });
    // a checkpoint saved before a field existed (here train.augment.brightness and .contrast, off by default) resumes:
    // the saved config reads with that field's default
    withSavedConfig(join(out, CHECKPOINT_FILE), (c) => {
      const augment = (c.train as { augment: Record<string, unknown> }).augment;
      delete augment.brightness;
      delete augment.contrast;
    });
    const resumed = await train({ dataset, config: tiny({ inference: { ensemble: 0.5 } }), out, resume: true });
    expect([resumed.step, resumed.trainedSteps]).toEqual([4, 2]);
    const m = JSON.parse(readFileSync(join(out, "model.json"), "utf8")) as {
      config: { inference: { ensemble: number } };
    };
    expect(m.config.inference.ensemble).toBe(0.5);
    // a training field changed beside the inference settings is refused
    await expect(
      train({
        dataset,
        config: tiny({ inference: { ensemble: 0.5 }, scheduler: { prediction: "sample" } }),
        out,
        resume: true,
      }),
    ).rejects.toThrow(
      /was trained with another config than training config; resume with the same config \(only policy\.inference/,
    );
  });

  it("starts a new run from another run's weights (--init-from): a warm restart, refused for another network", async () => {
    const config = trainConfigSchema.parse(tinyConfig({ train: { steps: 20, valEvery: 0 } }));
    const first = tempDir("duet-model-");
    const firstRun = await train({ dataset, config, out: first });
    const warm = tempDir("duet-model-");
    const events: TrainEvent[] = [];
    await train({ dataset, config, out: warm, initFrom: first, onEvent: (e) => events.push(e) });
    const layout = tinyLayout(config);
    const a = loadCheckpoint(join(first, CHECKPOINT_FILE), layout);
    const b = loadCheckpoint(join(warm, CHECKPOINT_FILE), layout);
    expect(b.step).toBe(20); // its own schedule, from step 0
    expect([...b.params]).not.toEqual([...a.params]);
    // it continues from the first run: its first loss is below the first run's first (a fresh network's)
    const first10 = (events.find((e) => e.kind === "step") as { loss: number }).loss;
    expect(first10).toBeLessThan(firstRun.curves.train[0]![1]);
    const m = JSON.parse(readFileSync(join(warm, "model.json"), "utf8")) as {
      provenance: { init_from: { model: string; steps: number } };
    };
    expect(m.provenance.init_from).toMatchObject({ model: first, steps: 20 });
    // a run's own folder: refused as --out of a new run, unless --init-from names it (train it further in place)
    await expect(train({ dataset, config, out: warm })).rejects.toThrow(
      `--out ${warm}: already holds a training run (train/checkpoint.safetensors); pass --resume to continue it, --init-from ${warm} to train it further in place, or choose another --out`,
    );
    await train({ dataset, config, out: warm, initFrom: warm });
    expect(loadCheckpoint(join(warm, CHECKPOINT_FILE), layout).step).toBe(20);
    const again = JSON.parse(readFileSync(join(warm, "model.json"), "utf8")) as typeof m;
    expect(again.provenance.init_from).toMatchObject({ model: warm, steps: 20 });

    await expect(train({ dataset, config, out: tempDir("duet-model-"), initFrom: warm, resume: true })).rejects.toThrow(
      /--init-from starts a new run and --resume continues one/,
    );
    await expect(train({ dataset, config, out: tempDir("duet-model-"), initFrom: tempDir("x-") })).rejects.toThrow(
      /cannot start from it \(train\/checkpoint.safetensors is missing; the models in git ship without their checkpoints/,
    );
    const wider = trainConfigSchema.parse(
      tinyConfig({
        policy: { denoiser: { name: "unet", downDims: [32], groups: 8, stepEmbedDim: 16 } },
        train: { steps: 20, valEvery: 0 },
      }),
    );
    await expect(train({ dataset, config: wider, out: tempDir("duet-model-"), initFrom: first })).rejects.toThrow(
      /checkpoint.safetensors: checkpoint of another architecture: \d+ invalid fields\n {2}- denoiser\.down0.*: expected F32 \[80,32\], received F32 \[80,64\]/,
    );
  });

  it("trains the transformer denoiser, the regression baseline, joint state prediction and a camera-only policy", async () => {
    for (const policy of [
      { denoiser: { name: "transformer", dim: 16, heads: 2, layers: 1 } },
      { objective: "regression" },
      { predictStates: true, encoder: null },
      { observeState: false, actions: "relative" },
      { actions: "relative", actionRange: "per-step" },
    ]) {
      const out = tempDir("duet-model-");
      const config = trainConfigSchema.parse(tinyConfig({ policy, train: { steps: 10, valEvery: 0 } }));
      const events: TrainEvent[] = [];
      await train({ dataset, config, out, onEvent: (e) => events.push(e) });
      const losses = events.flatMap((e) => (e.kind === "step" ? [e.loss] : []));
      expect(losses.at(-1)!, JSON.stringify(policy)).toBeLessThan(losses[0]!);
      const model = JSON.parse(readFileSync(join(out, "model.json"), "utf8")) as {
        normalizer: { action: { min: [] } };
      };
      expect(model.normalizer.action.min.length, JSON.stringify(policy)).toBe("actionRange" in policy ? 160 : 16);
      const p = await loadPolicy(out);
      p.reset(0);
      const chunk = await p.predictChunk([observation(1, 5), observation(1, 6)]);
      expect(chunk.actions.length).toBe(160);
      expect(chunk.actions.every(Number.isFinite)).toBe(true);
    }
  });

  it("learns only from successful episodes unless told otherwise; refuses a dataset with none", async () => {
    const mixed = await writeTinyDataset(4, 16, tempDir("duet-mixed-"), {
      observation,
      action: actionAt,
      success: (e) => e !== 2,
    });
    const windows = async (overrides: object) => {
      const events: TrainEvent[] = [];
      const config = trainConfigSchema.parse(
        tinyConfig({ train: { steps: 1, valEvery: 0, valFraction: 0, ...overrides } }),
      );
      await train({ dataset: mixed, config, out: tempDir("duet-model-"), onEvent: (e) => events.push(e) });
      return events.flatMap((e) => (e.kind === "start" ? [e.trainWindows] : []))[0];
    };
    expect(await windows({})).toBe(3 * 16);
    expect(await windows({ successfulOnly: false })).toBe(4 * 16);
    const failed = await writeTinyDataset(1, 16, tempDir("duet-failed-"), {
      observation,
      action: actionAt,
      success: () => false,
    });
    const config = trainConfigSchema.parse(tinyConfig({ train: { steps: 1, valEvery: 0 } }));
    await expect(train({ dataset: failed, config, out: tempDir("duet-model-") })).rejects.toThrow(
      /no successful episode to learn from/,
    );
  });

  it("trains with the scene auxiliary loss: validation reports it apart, the head stays out of the export", async () => {
    // The scene (step and episode) is what the images encode, plainly: every other byte brightens with the step, the
    // rest with the episode; so the head can learn it.
    const plain = (e: number, t: number): Observation => {
      const data = new Uint8Array(CAM * CAM * 3).map((_, i) => (i % 2 ? 40 + 12 * t : 40 + 50 * e) + ((i * 5) % 16));
      return { ...observation(e, t), images: { front: { width: CAM, height: CAM, data } } };
    };
    const withScene = await writeTinyDataset(4, 16, tempDir("duet-scene-"), {
      observation: plain,
      action: actionAt,
      environment: (e, t) => [t / 16, e / 4],
    });
    const out = tempDir("duet-model-");
    const config = trainConfigSchema.parse(tinyConfig({ train: { steps: 40, valEvery: 20, sceneLoss: 1 } }));
    const events: TrainEvent[] = [];
    await train({ dataset: withScene, config, out, onEvent: (e) => events.push(e) });
    const scene = events.flatMap((e) => (e.kind === "val" && e.sceneLoss !== undefined ? [e.sceneLoss] : []));
    expect(scene.length).toBe(2);
    expect(scene[1]!).toBeLessThan(scene[0]!);
    const p = await loadPolicy(out);
    p.reset(0);
    const chunk = await p.predictChunk([observation(1, 5), observation(1, 6)]);
    expect(chunk.actions.every(Number.isFinite)).toBe(true);
    // loadPolicy refuses graphs with undeclared inputs, so the scene input is gone; so are the head's weights
    for (const f of ["encoder.onnx", "denoiser.onnx", "model.json"])
      expect(readFileSync(join(out, f)).includes("aux.scene"), f).toBe(false);
    expect(readFileSync(join(out, CHECKPOINT_FILE)).includes("aux.scene")).toBe(true); // so the check above can fail

    const noCamera = trainConfigSchema.parse(
      tinyConfig({ policy: { encoder: null }, train: { steps: 1, valEvery: 0, sceneLoss: 1 } }),
    );
    await expect(train({ dataset: withScene, config: noCamera, out: tempDir("duet-model-") })).rejects.toThrow(
      /train.sceneLoss needs cameras/,
    );
    // A dataset recorded without environment state (a real robot's) cannot feed the head.
    await expect(train({ dataset, config, out: tempDir("duet-model-") })).rejects.toThrow(
      /train\.sceneLoss[\s\S]*observation\.environment_state/,
    );
  });

  it("trains a privileged policy on the scene state (policy.observeScene): runs only where the scene state is", async () => {
    const scene = (e: number, t: number): number[] => [t / 16, e / 4, 0.5];
    const withScene = await writeTinyDataset(4, 16, tempDir("duet-oracle-"), {
      observation,
      action: actionAt,
      environment: scene,
    });
    const out = tempDir("duet-model-");
    const config = trainConfigSchema.parse(
      tinyConfig({ policy: { encoder: null, observeScene: true }, train: { steps: 20, valEvery: 0 } }),
    );
    await train({ dataset: withScene, config, out });
    const model = JSON.parse(readFileSync(join(out, "model.json"), "utf8")) as {
      environmentNames: string[];
      normalizer: { environment: { min: number[] } };
    };
    expect(model.environmentNames).toEqual(["scene_0", "scene_1", "scene_2"]);
    expect(model.normalizer.environment.min.length).toBe(3);
    const withState = (e: number, t: number) => ({
      ...observation(e, t),
      environmentState: Float32Array.from(scene(e, t)),
    });
    const p = await loadPolicy(out, { expect: { environmentNames: model.environmentNames } });
    p.reset(0);
    const chunk = await p.predictChunk([withState(1, 5), withState(1, 6)]);
    expect(chunk.actions.every(Number.isFinite)).toBe(true);
    // the scene state changes the output: it is an input, not decoration
    p.reset(0);
    const other = await p.predictChunk([
      withState(1, 5),
      { ...withState(1, 6), environmentState: Float32Array.of(1, 1, 1) },
    ]);
    expect(other.actions.some((v, i) => Math.abs(v - chunk.actions[i]!) > 1e-6)).toBe(true);
    // no scene state in the observation (a real robot), or a NaN in it: no action, a clear error
    await expect(p.predictChunk([observation(1, 5), observation(1, 6)])).rejects.toThrow(
      /observation t-1 has no environment state, expected 3: this policy observes the simulator's scene state/,
    );
    const nan = { ...withState(1, 6), environmentState: Float32Array.of(0, Number.NaN, 0) };
    await expect(p.predictChunk([withState(1, 5), nan])).rejects.toThrow(/environment state scene_1 is NaN/);
    // an environment without scene state is refused at load, before anything moves
    await expect(loadPolicy(out, { expect: { environmentNames: null } })).rejects.toThrow(
      /environmentNames: expected none: this environment reports no scene state/,
    );
    // a dataset without the scene state cannot train one
    await expect(train({ dataset, config, out: tempDir("duet-model-") })).rejects.toThrow(
      /policy\.observeScene: expected false, or a dataset with observation\.environment_state/,
    );
  });

  // With x0 ("sample") prediction; ε prediction needs far more steps on the same net (scripts/diffusion-toy.ts).
  // Relative actions: the network learns offsets from the latest state and the runtime adds the state back.
  it.each(["absolute", "relative"] as const)(
    "overfits a tiny dataset: the diffusion policy gives back the demonstrated chunks (%s actions)",
    async (actions) => {
      const one = await writeTinyDataset(1, 16, tempDir("duet-one-"));
      const out = tempDir("duet-overfit-");
      const config = trainConfigSchema.parse(
        oneEpisodeConfig({ actions, scheduler: { prediction: "sample" } }, { steps: 300 }),
      );
      await train({ dataset: one, config, out });
      const policy = await loadPolicy(out);
      const errors = await chunkErrors(policy);
      // The unrolled sampler graph walks the same steps for x0 prediction.
      const unrolled = await loadPolicy(out, { mode: "unrolled" });
      unrolled.reset(5);
      const u = await unrolled.predictChunk([observation(0, 4), observation(0, 5)]);
      policy.reset(5);
      const l = await policy.predictChunk([observation(0, 4), observation(0, 5)]);
      for (let i = 0; i < 160; i++) expect(Math.abs(u.actions[i]! - l.actions[i]!)).toBeLessThan(1e-4);
      // Actions span ±0.5; an untrained network is off by about that much.
      expect(errors.reduce((a, e) => a + e, 0) / errors.length).toBeLessThan(0.02);
      expect(Math.max(...errors)).toBeLessThan(0.1);
    },
    300_000,
  );

  it("refuses a dataset that does not match the config, naming every field", async () => {
    const config = trainConfigSchema.parse(tinyConfig({ policy: { cameras: ["wrist"] } }));
    config.dataset = { robotType: "panda_pair", actionDim: 14 };
    const out = tempDir("duet-model-");
    const err = await train({ dataset, config, out, configSource: "cfg.json" }).catch((e: Error) => e);
    expect(String(err)).toMatch(/cfg.json: does not match the dataset .* training refused: 3 invalid fields/);
    expect(String(err)).toMatch(/dataset.robotType: expected "panda_pair", received "test_pair"/);
    expect(String(err)).toMatch(/dataset.actionDim: expected 14, received 16/);
    expect(String(err)).toMatch(/policy.cameras.0: expected a camera of the dataset \(front\), received "wrist"/);
    expect(existsSync(join(out, "model.json"))).toBe(false);
  });
});

// Keep the fixture's action formula honest (the dataset is what the policy learns).
describe("fixture", () => {
  it("states follow the previous action", () => {
    expect(observation(2, 5).state[3]).toBeCloseTo(actionAt(2, 4, 3), 6);
  });
});

/** Rewrite the training config a checkpoint saved (its safetensors header's `config` metadata) with `edit`. */
function withSavedConfig(file: string, edit: (config: Record<string, unknown>) => void): void {
  const bytes = readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8")) as {
    __metadata__: Record<string, string>;
  };
  const config = JSON.parse(header.__metadata__.config!) as Record<string, unknown>;
  edit(config);
  header.__metadata__.config = JSON.stringify(config);
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([size, json, bytes.subarray(8 + length)]));
}
