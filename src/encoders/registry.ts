// The vision part of the one registry: encoder configs (a discriminated union on `kind`), presets by name, and the
// factory from config to encoder class. No other vision file switches on encoder names.
import { z } from "zod";
import { DuetError, parseWith } from "../core/index.ts";
import { cnnConfigSchema } from "./image/cnn-config.ts";
import { CnnEncoder } from "./image/cnn.ts";
import type { ConditionedImageEncoder } from "./image/conditioned.ts";
import { TubeletEncoder } from "./image/tubelet.ts";
import { tubeletConfigSchema, vitConfigSchema } from "./image/vit-config.ts";
import { VitEncoder } from "./image/vit.ts";

/** Any encoder's options, tagged by `kind`: "vit" (image ViT), "tubelet" (video ViT), "cnn" (ResNet + keypoints). */
export const encoderConfigSchema = z.discriminatedUnion("kind", [
  vitConfigSchema.extend({ kind: z.literal("vit") }),
  tubeletConfigSchema.extend({ kind: z.literal("tubelet") }),
  cnnConfigSchema.extend({ kind: z.literal("cnn") }),
]);
export type EncoderConfig = z.output<typeof encoderConfigSchema>;
export type EncoderConfigInput = z.input<typeof encoderConfigSchema>;

/**
 * Named sizes. `*-tiny` are for tests (32×32, one block / small stages); `*-small` ship (96×96, To = 2), sized so
 * that training on 2 CPU cores stays feasible (see `npm run bench -- vision` for FLOPs per frame).
 */
export const ENCODER_PRESETS = {
  "vit-tiny": { kind: "vit", height: 32, width: 32, patch: 8, dim: 32, depth: 1, heads: 2, featureDim: 32 },
  "vit-small": {
    kind: "vit",
    height: 96,
    width: 96,
    stem: [24, 48],
    patch: 2,
    dim: 96,
    depth: 3,
    heads: 4,
    mlpRatio: 2,
    pool: "cls+mean",
    featureDim: 128,
  },
  /**
   * The shipping preset for ≤ 10 ms policies: the same 96×96 input, a narrow 2-layer stem (16, 32 channels) down to
   * 24×24, 4×4 patches → 36 tokens of width 64, two blocks. ≈ 12 MFLOP per frame (vit-small: 109).
   */
  "vit-fast": {
    kind: "vit",
    height: 96,
    width: 96,
    stem: [16, 32],
    patch: 4,
    dim: 64,
    depth: 2,
    heads: 4,
    mlpRatio: 2,
    pool: "cls+mean",
    featureDim: 64,
  },
  /**
   * The shipped policies' observer: no stem, 16×16 patches of the 96×96 frame → 36 tokens of width 64, two blocks,
   * mean pooling. 8.9 MFLOP per frame; with the 32/64/128 U-Net it trains end to end at ≈ 270 samples/s on 2 CPU
   * cores (configs/README.md).
   */
  "vit-patch16": {
    kind: "vit",
    height: 96,
    width: 96,
    patch: 16,
    dim: 64,
    depth: 2,
    heads: 4,
    mlpRatio: 2,
    pool: "mean",
    featureDim: 64,
  },
  "vit-small-plain": { kind: "vit", height: 96, width: 96, patch: 8, dim: 96, depth: 3, heads: 4, featureDim: 128 },
  "tubelet-tiny": {
    kind: "tubelet",
    height: 32,
    width: 32,
    frames: 2,
    patch: 8,
    dim: 32,
    depth: 1,
    heads: 2,
    featureDim: 32,
  },
  "tubelet-small": {
    kind: "tubelet",
    height: 96,
    width: 96,
    frames: 2,
    stem: [24, 48],
    patch: 2,
    dim: 96,
    depth: 3,
    heads: 4,
    mlpRatio: 2,
    pool: "cls+mean",
    featureDim: 128,
  },
  "cnn-tiny": { kind: "cnn", height: 32, width: 32, channels: [8, 16], groups: 4, keypoints: 8, featureDim: 32 },
  "cnn-small": {
    kind: "cnn",
    height: 96,
    width: 96,
    channels: [16, 32, 64],
    groups: 8,
    keypoints: 32,
    featureDim: 128,
  },
  /**
   * The CNN baseline of the ViT comparison, sized like `vit-patch16` (123 k parameters against its 123 k; 13.9 MFLOP
   * per frame against 8.9: `npm run bench -- vision --presets vit-patch16,cnn-patch8`): an 8×8 patchify stem to
   * 12×12×32 and a residual block, a stride-2 stage to 6×6×64 with its residual block, 32 spatial-softmax keypoints.
   * Its predecessor, the 3×3 stride-2 stem at 48×48 (cnn-small's stages at a third of the widths), trained the U-Net
   * policy at ≈ 11–13 samples/s in `npm run bench -- policy`, an eighth of the ViT's speed, because im2col reads each
   * 48×48 map nine times: 6000 steps would have taken ≈ 8 h.
   */
  "cnn-patch8": {
    kind: "cnn",
    height: 96,
    width: 96,
    stemPatch: 8,
    channels: [32, 64],
    groups: 8,
    keypoints: 32,
    featureDim: 64,
  },
} as const satisfies Record<string, EncoderConfigInput>;
export type EncoderPreset = keyof typeof ENCODER_PRESETS;

/** Build an encoder from a config (validated; errors name `source` and every bad field). */
export function createEncoder(config: unknown, source = "encoder config"): ConditionedImageEncoder {
  const c = parseWith(encoderConfigSchema, config, source);
  const { kind, ...options } = c;
  switch (kind) {
    case "vit":
      return new VitEncoder(options as z.input<typeof vitConfigSchema>, source);
    case "tubelet":
      return new TubeletEncoder(options as z.input<typeof tubeletConfigSchema>, source);
    case "cnn":
      return new CnnEncoder(options as z.input<typeof cnnConfigSchema>, source);
  }
}

/** The config of a named preset (a fresh copy); an unknown name lists the known ones. */
export function encoderPreset(name: string): EncoderConfigInput {
  const preset = (ENCODER_PRESETS as Record<string, EncoderConfigInput>)[name];
  if (!preset) {
    throw new DuetError(`unknown encoder preset '${name}'; expected one of ${Object.keys(ENCODER_PRESETS).join(", ")}`);
  }
  return structuredClone(preset) as EncoderConfigInput;
}
