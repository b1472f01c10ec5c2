// The one place that resolves names → configs → classes: denoisers (built in) and image encoders (from src/vision).
// Adding a variant adds a folder and a line here; no other file switches on these names.
import { z } from "zod";
import { DuetError, parseWith } from "../core/index.ts";
import type { ImageEncoder } from "../vision/encoder.ts";
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

// Built-in encoders from src/vision are registered here, one line each, once src/vision/index.ts exports them, e.g.
//   registerEncoder("vit", { schema: vitConfigSchema, create: (c) => new VitEncoder(c), describe: "ViT" });
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
  const entry = encoders.get(ref.name);
  if (!entry) {
    const names = encoderNames();
    throw new DuetError(
      `${source}: encoder.name "${ref.name}" is unknown; expected one of ${names.length ? names.map((n) => `"${n}"`).join(", ") : "(no encoders registered)"}, or "encoder": null for a state-only policy`,
    );
  }
  return entry.create(parseWith(entry.schema, ref, `${source} (encoder)`));
}
