// The one place that resolves names → configs → classes: denoisers (built in) and image encoders (from src/vision).
// Adding a variant adds a folder and a line here; no other file switches on these names.
import { z } from "zod";
import { DuetError, parseWith } from "../core/index.ts";
import {
  ENCODER_PRESETS,
  createEncoder as createVisionEncoder,
  encoderPreset,
  type ImageEncoder,
} from "../vision/index.ts";
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

/** Names of the built-in denoisers. */
export const DENOISER_NAMES = Object.keys(denoisers) as DenoiserName[];

/** Build the denoiser a (validated) config names. */
export function createDenoiser(config: DenoiserConfig, dims: DenoiserDims): Denoiser {
  const make = denoisers[config.name] as (c: DenoiserConfig, d: DenoiserDims) => Denoiser;
  return make(config, dims);
}

/** An image encoder kind: its option schema (including `name`) and a factory. */
export interface EncoderEntry {
  schema: z.ZodType<{ name: string }>;
  create(config: { name: string }): ImageEncoder;
  /** One line for help and errors. */
  describe: string;
}

/** Encoder reference in a policy config: `{ "name": ..., ...options }`, checked against the named entry's schema. */
export const encoderRefSchema = z.looseObject({ name: z.string().min(1) });
export type EncoderRef = z.output<typeof encoderRefSchema>;

/** Encoder kinds src/vision builds from options (`{ "name": "vit", ...VitConfig }` → vision's `{ kind: "vit", … }`). */
const VISION_KINDS = ["vit", "tubelet", "cnn"] as const;

// Encoders resolve in this order: registered entries (tests, extensions), src/vision presets by name ("vit-small",
// "cnn-small", … with optional option overrides), src/vision kinds with full options.
const encoders = new Map<string, EncoderEntry>();

/** Add an encoder kind (built-ins at module load; tests and extensions at run time). A name is registered once. */
export function registerEncoder(name: string, entry: EncoderEntry): void {
  const existing = encoders.get(name);
  if (existing && existing !== entry) throw new DuetError(`encoder "${name}" is already registered`);
  encoders.set(name, entry);
}

/** Names of the registered encoders. */
export function encoderNames(): string[] {
  return [...encoders.keys()];
}

/** Validate an encoder reference against its entry and build the encoder. `source` names the file for errors. */
export function createEncoder(ref: EncoderRef, source: string): ImageEncoder {
  const { name, ...options } = ref;
  const entry = encoders.get(name);
  if (entry) return entry.create(parseWith(entry.schema, ref, `${source} (encoder)`));
  if (name in ENCODER_PRESETS) {
    return createVisionEncoder({ ...encoderPreset(name), ...options }, `${source} (encoder "${name}")`);
  }
  if ((VISION_KINDS as readonly string[]).includes(name)) {
    return createVisionEncoder({ kind: name, ...options }, `${source} (encoder "${name}")`);
  }
  const names = [...encoderNames(), ...Object.keys(ENCODER_PRESETS), ...VISION_KINDS];
  throw new DuetError(
    `${source}: encoder.name "${name}" is unknown; expected one of ${names.map((n) => `"${n}"`).join(", ")}, or "encoder": null for a state-only policy`,
  );
}
