// Preprocessing and augmentation options: one zod schema, each field documented with its default.
import { z } from "zod";

const unit = (d: string, def: number) => z.number().min(0).max(0.99).default(def).describe(d);

export const preprocessConfigSchema = z
  .strictObject({
    /** Camera frame height the preprocessor accepts (pixels). Default 96. */
    sourceHeight: z.number().int().positive().default(96).describe("camera frame height in pixels"),
    /** Camera frame width the preprocessor accepts (pixels). Default 96. */
    sourceWidth: z.number().int().positive().default(96).describe("camera frame width in pixels"),
    /**
     * Output (encoder input) height. Smaller than the source → crop: random in training, centred in evaluation
     * (Diffusion Policy crops 84 of 96). Default: sourceHeight.
     */
    height: z.number().int().positive().optional().describe("output height (crop); default sourceHeight"),
    /** Output width; see height. Default: sourceWidth. */
    width: z.number().int().positive().optional().describe("output width (crop); default sourceWidth"),
    /**
     * Random shift in training (DrQ): the crop window moves by up to ±shift pixels, edges replicated. Evaluation
     * uses no shift. Default 4.
     */
    shift: z.number().int().min(0).max(32).default(4).describe("random shift in pixels (training only)"),
    /** Brightness jitter: a factor uniform in [1−b, 1+b] (training only). Default 0.2. */
    brightness: unit("brightness jitter amplitude", 0.2),
    /** Contrast jitter around the image's mean grey: factor in [1−c, 1+c] (training only). Default 0.2. */
    contrast: unit("contrast jitter amplitude", 0.2),
    /** Saturation jitter around each pixel's grey: factor in [1−s, 1+s] (training only). Default 0.2. */
    saturation: unit("saturation jitter amplitude", 0.2),
    /** Per-channel mean subtracted from [0,1] values. Default [0.5, 0.5, 0.5] (→ [−1, 1]). */
    mean: z.tuple([z.number(), z.number(), z.number()]).default([0.5, 0.5, 0.5]).describe("per-channel mean"),
    /** Per-channel std dividing the centred values. Default [0.5, 0.5, 0.5]. */
    std: z
      .tuple([z.number().positive(), z.number().positive(), z.number().positive()])
      .default([0.5, 0.5, 0.5])
      .describe("per-channel std"),
  })
  .superRefine((c, ctx) => {
    if (c.height !== undefined && c.height > c.sourceHeight) {
      ctx.addIssue({ code: "custom", path: ["height"], message: `at most sourceHeight ${c.sourceHeight}` });
    }
    if (c.width !== undefined && c.width > c.sourceWidth) {
      ctx.addIssue({ code: "custom", path: ["width"], message: `at most sourceWidth ${c.sourceWidth}` });
    }
  });
export type PreprocessConfig = z.output<typeof preprocessConfigSchema>;
export type PreprocessConfigInput = z.input<typeof preprocessConfigSchema>;
