// CNN baseline options: one zod schema (field docs + defaults) with cross-field checks that name the field.
import { z } from "zod";

/** ResNet-style encoder with GroupNorm and spatial-softmax keypoints (`CnnEncoder`). */
export const cnnConfigSchema = z
  .strictObject({
    /** Input image height in pixels (after crop). Default 96. */
    height: z.number().int().positive().default(96).describe("input image height in pixels"),
    /** Input image width in pixels (after crop). Default 96. */
    width: z.number().int().positive().default(96).describe("input image width in pixels"),
    /**
     * Channels per stage. Stage 0 opens with the stem (below); every later stage opens with a 3×3 stride-2 conv; each
     * stage then has one residual block (two 3×3 convs). Spatial size = H / (stem stride · 2^(stages − 1)).
     * Default [16, 32, 64].
     */
    channels: z
      .array(z.number().int().positive())
      .min(1)
      .max(5)
      .default([16, 32, 64])
      .describe("channels per stage (the stem divides H and W by its stride, each later stage halves them)"),
    /**
     * Stage 0's opening conv: absent → 3×3 stride 2 (ResNet); P → a P×P stride-P "patchify" conv (one MatMul over
     * non-overlapping patches, ConvNeXt's stem). Why: im2col of a 3×3 conv on the 48×48 map reads every pixel nine
     * times and made the 3×3 stem's observer train at ≈ 11–13 samples/s here (configs/README.md).
     */
    stemPatch: z.number().int().min(2).optional().describe("patchify stem: P×P conv with stride P"),
    /** GroupNorm groups (must divide every stage's channels). Default 8. */
    groups: z.number().int().positive().default(8).describe("GroupNorm groups"),
    /** Spatial-softmax keypoints K (2K coordinates feed the head). Default 32. */
    keypoints: z.number().int().positive().default(32).describe("spatial-softmax keypoints"),
    /** Output features F (Linear head over the keypoint coordinates). Default 128. */
    featureDim: z.number().int().positive().default(128).describe("output features per image"),
  })
  .superRefine((c, ctx) => {
    c.channels.forEach((ch, i) => {
      if (ch % c.groups !== 0) {
        ctx.addIssue({ code: "custom", path: ["channels", i], message: `a multiple of groups ${c.groups}` });
      }
    });
    const down = (c.stemPatch ?? 2) * 2 ** (c.channels.length - 1);
    if (c.height % down !== 0 || c.width % down !== 0) {
      ctx.addIssue({
        code: "custom",
        path: ["channels"],
        message: `at most as many stages as height and width can be divided exactly (${c.channels.length} stages with a stem of stride ${c.stemPatch ?? 2} need multiples of ${down}, have ${c.height}×${c.width})`,
      });
    }
  });
export type CnnConfig = z.output<typeof cnnConfigSchema>;
export type CnnConfigInput = z.input<typeof cnnConfigSchema>;
