// The one registry of image encoders: names → configs → classes, keyed by `name` everywhere (policy configs, model.json,
// benchmarks, tests). A name is an architecture ("vit", "tubelet", "cnn": options from its schema's defaults) or a
// preset ("vit-patch16", …: an architecture with its options set; a reference may override some). No other file
// switches on encoder names.
import { z } from "zod";
import { DuetError, parseWith } from "../core/index.ts";
import { cnnConfigSchema } from "./image/cnn-config.ts";
import { CnnEncoder } from "./image/cnn.ts";
import type { ImageEncoder } from "./image/encoder.ts";
import { TubeletEncoder } from "./image/tubelet.ts";
import { tubeletConfigSchema, vitConfigSchema } from "./image/vit-config.ts";
import { VitEncoder } from "./image/vit.ts";

/** An architecture's full options, tagged by `name`: "vit" (image ViT), "tubelet" (video ViT), "cnn" (ResNet + keypoints). */
const encoderConfigSchema = z.discriminatedUnion("name", [
  vitConfigSchema.extend({ name: z.literal("vit") }),
  tubeletConfigSchema.extend({ name: z.literal("tubelet") }),
  cnnConfigSchema.extend({ name: z.literal("cnn") }),
]);
type EncoderConfig = z.output<typeof encoderConfigSchema>;
type EncoderConfigInput = z.input<typeof encoderConfigSchema>;
type Architecture = EncoderConfig["name"];

const architectures: {
  [K in Architecture]: (options: Omit<Extract<EncoderConfig, { name: K }>, "name">, source: string) => ImageEncoder;
} = {
  vit: (o, s) => new VitEncoder(o, s),
  tubelet: (o, s) => new TubeletEncoder(o, s),
  cnn: (o, s) => new CnnEncoder(o, s),
};

/** The shipped policies' observer (preset `vit-patch16`, and over 2-frame clips `tubelet-patch16`). */
const VIT_PATCH16 = {
  name: "vit",
  height: 96,
  width: 96,
  patch: 16,
  dim: 64,
  depth: 2,
  heads: 4,
  mlpRatio: 2,
  pool: "mean",
  featureDim: 64,
} as const;

/**
 * Named sizes. `*-tiny` are for tests (32×32, one block / small stages); the others take the cameras' 96×96 frames,
 * sized so that training on 2 CPU cores stays feasible (`npm run bench -- vision`: FLOPs per frame, encode ms, training
 * samples/s); `vit-patch16` is the shipped observer.
 */
const ENCODER_PRESETS = {
  "vit-tiny": { name: "vit", height: 32, width: 32, patch: 8, dim: 32, depth: 1, heads: 2, featureDim: 32 },
  "vit-small": {
    name: "vit",
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
    name: "vit",
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
  "vit-patch16": VIT_PATCH16,
  "vit-small-plain": { name: "vit", height: 96, width: 96, patch: 8, dim: 96, depth: 3, heads: 4, featureDim: 128 },
  "tubelet-tiny": {
    name: "tubelet",
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
    name: "tubelet",
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
  /**
   * `vit-patch16` over a 2-frame clip: the same 16×16 patches, width, blocks and pooling, one token per 2×16×16 cube
   * (36 tokens for both frames instead of 36 per frame), for policies with obsSteps 2
   * (docs/experiments/encoders.md).
   */
  "tubelet-patch16": { ...VIT_PATCH16, name: "tubelet", frames: 2 },
  "cnn-tiny": { name: "cnn", height: 32, width: 32, channels: [8, 16], groups: 4, keypoints: 8, featureDim: 32 },
  "cnn-small": {
    name: "cnn",
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
    name: "cnn",
    height: 96,
    width: 96,
    stemPatch: 8,
    channels: [32, 64],
    groups: 8,
    keypoints: 32,
    featureDim: 64,
  },
} as const satisfies Record<string, EncoderConfigInput>;

/**
 * An encoder reference as a policy config (and its model.json) holds it: `{ "name": …, …options }`, a preset with
 * optional overrides or an architecture with its options. Only the name is checked here; `createEncoder` checks the
 * options against the named architecture's schema.
 */
export const encoderRefSchema = z.looseObject({ name: z.string().min(1) });
export type EncoderRef = z.output<typeof encoderRefSchema>;

/** Every name a reference may use: the presets, then the architectures. */
export const ENCODER_NAMES: readonly string[] = [...Object.keys(ENCODER_PRESETS), ...Object.keys(architectures)];

/**
 * Build the encoder a reference names. `source` names the file for errors: an unknown name lists the known ones, a bad
 * option is reported with its field (one ValidationError for every bad field).
 */
export function createEncoder(ref: EncoderRef, source = "encoder config"): ImageEncoder {
  const { name, ...options } = ref;
  const preset = Object.hasOwn(ENCODER_PRESETS, name)
    ? (ENCODER_PRESETS as Record<string, EncoderConfigInput>)[name]
    : undefined;
  if (!preset && !Object.hasOwn(architectures, name)) {
    throw new DuetError(
      `${source}: encoder.name "${name}" is unknown; expected one of ${ENCODER_NAMES.map((n) => `"${n}"`).join(", ")}, or "encoder": null for a state-only policy`,
    );
  }
  const where = `${source} (encoder "${name}")`;
  const config = parseWith(encoderConfigSchema, preset ? { ...preset, ...options } : ref, where);
  const { name: architecture, ...rest } = config;
  const make = architectures[architecture] as (o: typeof rest, s: string) => ImageEncoder;
  return make(rest, where);
}
