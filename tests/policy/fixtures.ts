// Test fixtures for policy and train: a tiny image encoder (a one-patch ViT without blocks), a tiny 16-dim dataset with
// one 8×8 camera written through src/data, and tiny configs.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { ACTION_DIM, SLOT_NAMES, type Observation, type Policy } from "../../src/core/index.ts";
import { DatasetWriter, EpisodeBuilder, type DatasetSpec } from "../../src/data/index.ts";
import type { EncoderRef } from "../../src/encoders/index.ts";
import { ParamLayout, type WeightPrecision } from "../../src/nn/index.ts";
import {
  PolicyNetwork,
  exportPolicy,
  policyConfigSchema,
  type ModelInfo,
  type PolicyConfigInput,
} from "../../src/policy/index.ts";
import type { TrainConfigInput } from "../../src/train/index.ts";
import type { SimArgs } from "../../src/cli/sim.ts";

export const CAM = 8;

/** Bimodal demonstrations: every episode sees the same observation; even episodes act −, odd ones + (a per-joint
 * ramp, 0.4 … 0.8), for `writeTinyDataset` (tests/train/bimodal.test.ts, teacher.test.ts). */
export const SAME: Observation = {
  time: 0,
  state: new Float32Array(ACTION_DIM),
  images: { front: { width: CAM, height: CAM, data: new Uint8Array(CAM * CAM * 3) } },
};
export const bimodal = {
  observation: (): Observation => SAME,
  action: (e: number, _t: number, j: number): number => (e % 2 ? 1 : -1) * (0.4 + (0.4 * j) / 15),
};

/**
 * The smallest image encoder a policy config can name: a ViT whose one patch is the whole CAM×CAM frame and which has
 * no transformer blocks, i.e. Linear(CAM·CAM·3 → 8) + position embedding → LayerNorm → Linear head (`featureDim`).
 */
export function tinyEncoder(featureDim = 8): EncoderRef {
  return { name: "vit", height: CAM, width: CAM, patch: CAM, dim: 8, depth: 0, heads: 1, pool: "mean", featureDim };
}
/** `tinyEncoder` as a tubelet (video) ViT: one CAM×CAM cube over `frames` observation steps. */
export function tinyTubelet(frames = 2, featureDim = 8): EncoderRef {
  return { ...tinyEncoder(featureDim), name: "tubelet", frames };
}
export const SPEC: DatasetSpec = {
  fps: 10,
  robotType: "test_pair",
  stateNames: [...SLOT_NAMES],
  actionNames: [...SLOT_NAMES],
  cameras: [{ name: "front", height: CAM, width: CAM }],
};

export function tempDir(prefix = "duet-policy-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Action j at step t of episode e: smooth and distinct per episode. */
export function actionAt(e: number, t: number, j: number): number {
  return 0.5 * Math.sin(0.3 * t + e + 0.2 * j);
}

/** An observation as the env would give it (state = previous action; image brightness follows t). */
export function observation(e: number, t: number): Observation {
  const state = Float32Array.from({ length: ACTION_DIM }, (_, j) => actionAt(e, Math.max(0, t - 1), j));
  const data = new Uint8Array(CAM * CAM * 3).map((_, i) => (i * 5 + t * 9 + e * 31) & 255);
  return { time: t / SPEC.fps, state, images: { front: { width: CAM, height: CAM, data } } };
}

/** What a tiny dataset holds: the observation and action j of episode e at step t. */
export interface TinyData {
  observation: (e: number, t: number) => Observation;
  action: (e: number, t: number, j: number) => number;
  /** Optional environment state of episode e at step t (recorded as observation.environment_state). */
  environment?: (e: number, t: number) => number[];
  /** Whether episode e is recorded as successful (default: all are). */
  success?: (e: number) => boolean;
  /** Episode e's task, its instruction (default "unscrew the cap"). */
  task?: (e: number) => string;
  /** Optional sound of episode e at step t (recorded as observation.audio; the same length at every step). */
  audio?: (e: number, t: number) => Float32Array;
}

/** A dataset of `n` episodes of `T` frames (default: `observation` and `actionAt`). */
export async function writeTinyDataset(
  n = 4,
  T = 16,
  root = tempDir("duet-ds-"),
  data: TinyData = { observation, action: actionAt },
): Promise<string> {
  const env = data.environment;
  const spec: DatasetSpec = {
    ...SPEC,
    ...(env && { environmentNames: env(0, 0).map((_, i) => `scene_${i}`) }),
    ...(data.audio && { audioSamples: data.audio(0, 0).length }),
  };
  const w = await DatasetWriter.open(root, { spec });
  for (let e = 0; e < n; e++) {
    const b = new EpisodeBuilder(spec);
    for (let t = 0; t < T; t++) {
      const obs = data.observation(e, t);
      b.addFrame(
        {
          ...obs,
          ...(env && { environmentState: Float32Array.from(env(e, t)) }),
          ...(data.audio && { audio: data.audio(e, t) }),
        },
        Float32Array.from({ length: ACTION_DIM }, (_, j) => data.action(e, t, j)),
      );
    }
    w.addEpisode(
      b.finish({
        task: data.task?.(e) ?? "unscrew the cap",
        success: data.success?.(e) ?? true,
        mode: e % 2 ? "left" : "right",
        seed: e,
      }),
    );
  }
  w.close();
  return root;
}

/** A tiny U-Net config that trains in seconds. */
export function tinyConfig(overrides: { policy?: object; train?: object } = {}): TrainConfigInput {
  return {
    policy: {
      encoder: tinyEncoder(),
      denoiser: { name: "unet", downDims: [64], groups: 8, stepEmbedDim: 16 },
      inference: { inferenceSteps: 4 },
      ...overrides.policy,
    },
    train: {
      steps: 30,
      batchSize: 8,
      lr: 3e-3,
      warmupSteps: 3,
      valFraction: 0.25,
      valEvery: 10,
      valBatches: 1,
      checkpointEvery: 10,
      logEvery: 5,
      threads: 1,
      augment: { imageShift: 1 },
      ...overrides.train,
    },
  };
}

/**
 * The one-episode problem (`writeTinyDataset(1, 16, …)`): state-only U-Net 64/128, batch 32, AdamW lr 1e-3, no
 * validation. Used by the overfit test and scripts/diffusion-toy.ts.
 */
export function oneEpisodeConfig(policy: object, train: object): TrainConfigInput {
  return tinyConfig({
    policy: {
      encoder: null,
      denoiser: { name: "unet", downDims: [64, 128], groups: 8, stepEmbedDim: 32 },
      ...policy,
      inference: { inferenceSteps: 4, ...(policy as { inference?: object }).inference },
    },
    train: { batchSize: 32, lr: 1e-3, valFraction: 0, valEvery: 0, ...train },
  });
}

/** |chunk − demonstration| of every action a policy predicts at anchors t = 2 and 5 of episode 0 (320 values). */
export async function chunkErrors(policy: Policy): Promise<number[]> {
  const errors: number[] = [];
  for (const t of [2, 5]) {
    policy.reset(t);
    const chunk = await policy.predictChunk([observation(0, t - 1), observation(0, t)]);
    for (let k = 0; k < 10; k++)
      for (let j = 0; j < 16; j++) errors.push(Math.abs((chunk.actions[k * 16 + j] as number) - actionAt(0, t + k, j)));
  }
  return errors;
}

// Tiny policy model directories (the policy and re-export tests).
export const SHAPE = { stateDim: 16, actionDim: 16, cameras: [{ name: "front", height: CAM, width: CAM }] };
export const INFO: ModelInfo = {
  robotType: SPEC.robotType,
  fps: 10,
  stateNames: SPEC.stateNames,
  actionNames: SPEC.actionNames,
  cameras: SHAPE.cameras,
  normalizer: {
    state: { min: Array(16).fill(-1) as number[], max: Array(16).fill(1) as number[] },
    action: { min: Array(16).fill(-0.5) as number[], max: Array(16).fill(0.5) as number[] },
  },
  provenance: { test: true },
};
export const TINY: PolicyConfigInput = {
  encoder: tinyEncoder(),
  denoiser: { name: "unet", downDims: [16, 32], groups: 8, stepEmbedDim: 16 },
  inference: { inferenceSteps: 2 },
};

export function network(policy: PolicyConfigInput = {}): PolicyNetwork {
  return new PolicyNetwork(policyConfigSchema.parse({ ...TINY, ...policy }), SHAPE);
}

/** A model directory with seeded random weights. */
export function makeModel(policy: PolicyConfigInput = {}, precision: WeightPrecision = "float32"): string {
  const net = network(policy);
  const layout = ParamLayout.of(net.trainingLoss(2).g);
  const dir = tempDir("duet-model-");
  exportPolicy(dir, net, layout, layout.init(5), INFO, precision);
  return dir;
}

/** `duet sim`'s arguments: one episode (seed 0, one worker, no cameras, --json) of scenarios/bottle-cap.json; `over` changes any. */
export function simArgs(over: Partial<SimArgs>): SimArgs {
  return {
    scenario: "scenarios/bottle-cap.json",
    policy: "expert",
    episodes: 1,
    seed: 0,
    workers: 1,
    mode: undefined,
    cameras: false,
    json: true,
    ...over,
  };
}

/** The scenario `file` with one CAM×CAM "front" camera (the tiny policies') and a 2 s limit, written into `dir`. */
export function tinyCameraScenario(file: string, dir: string): string {
  const scenario = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const front = (scenario.cameras as { name: string }[]).find((c) => c.name === "front");
  Object.assign(scenario, {
    robot: resolve("robots/panda-pair.json"),
    time_limit_s: 2,
    cameras: [{ ...front, width: CAM, height: CAM }],
  });
  const out = join(dir, `tiny-camera-${basename(file)}`);
  writeFileSync(out, JSON.stringify(scenario));
  return out;
}
