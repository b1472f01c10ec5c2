// The one place that resolves names → configs → classes: denoisers (built in) and image encoders (from src/vision).
// Adding a variant adds a folder and a line here; no other file switches on these names.
import { z } from "zod";
import { DuetError } from "../core/index.ts";
import {
  ENCODER_PRESETS,
  createEncoder as createVisionEncoder,
  encoderPreset,
  type ImageEncoder,
} from "../encoders/index.ts";
import type { Denoiser, DenoiserDims } from "./denoisers/denoiser.ts";
import { TransformerDenoiser, transformerConfigSchema } from "./denoisers/transformer.ts";
import { ConditionalUnet1d, unetConfigSchema } from "./denoisers/unet1d.ts";

/** Denoiser settings: `{ "name": "unet" | "transformer", ...options }` (see each schema for options and defaults). */
export const denoiserConfigSchema = z.discriminatedUnion("name", [unetConfigSchema, transformerConfigSchema]);
export type DenoiserConfig = z.output<typeof denoiserConfigSchema>;

type DenoiserName = DenoiserConfig["name"];
const denoisers: {
  [K in DenoiserName]: (config: Extract<DenoiserConfig, { name: K }>, dims: DenoiserDims) => Denoiser;
} = {
  unet: (c, d) => new ConditionalUnet1d(c, d),
  transformer: (c, d) => new TransformerDenoiser(c, d),
};

/** Build the denoiser a (validated) config names. */
export function createDenoiser(config: DenoiserConfig, dims: DenoiserDims): Denoiser {
  const make = denoisers[config.name] as (c: DenoiserConfig, d: DenoiserDims) => Denoiser;
  return make(config, dims);
}

/** Encoder reference in a policy config: `{ "name": ..., ...options }`, checked against the named preset's or kind's schema. */
export const encoderRefSchema = z.looseObject({ name: z.string().min(1) });
export type EncoderRef = z.output<typeof encoderRefSchema>;

/** Encoder kinds src/vision builds from options (`{ "name": "vit", ...VitConfig }` → vision's `{ kind: "vit", … }`). */
const VISION_KINDS = ["vit", "tubelet", "cnn"] as const;

/**
 * Validate an encoder reference and build the encoder. `source` names the file for errors. Names resolve in this
 * order: src/vision presets ("vit-patch16", "cnn-small", … with optional option overrides), then src/vision kinds
 * with full options.
 */
export function createEncoder(ref: EncoderRef, source: string): ImageEncoder {
  const { name, ...options } = ref;
  if (name in ENCODER_PRESETS) {
    return createVisionEncoder({ ...encoderPreset(name), ...options }, `${source} (encoder "${name}")`);
  }
  if ((VISION_KINDS as readonly string[]).includes(name)) {
    return createVisionEncoder({ kind: name, ...options }, `${source} (encoder "${name}")`);
  }
  const names = [...Object.keys(ENCODER_PRESETS), ...VISION_KINDS];
  throw new DuetError(
    `${source}: encoder.name "${name}" is unknown; expected one of ${names.map((n) => `"${n}"`).join(", ")}, or "encoder": null for a state-only policy`,
  );
}
