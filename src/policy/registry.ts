// The denoisers by name → config → class. Adding a denoiser adds a file and a line here; no other file switches on
// these names. Image encoders have their own registry, src/encoders/registry.ts.
import { z } from "zod";
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
