// ViT and tubelet-ViT options: one zod schema each (field docs + defaults), cross-field checks that name the field.
import { z } from "zod";

const size = (d: string, def: number) => z.number().int().positive().default(def).describe(d);

/** Fields shared by the image ViT and the tubelet ViT. */
const vitFields = {
  /** Input image height in pixels (after crop). Default 96. */
  height: size("input image height in pixels (after crop)", 96),
  /** Input image width in pixels (after crop). Default 96. */
  width: size("input image width in pixels (after crop)", 96),
  /**
   * Convolutional stem: output channels of each 3×3 stride-2 conv (+ GroupNorm + GELU) run before patching; [] = none.
   * Each layer halves H and W, so `patch` must divide height/2^L and width/2^L. Default [].
   */
  stem: z
    .array(z.number().int().positive())
    .max(4)
    .default([])
    .describe("output channels of each 3×3 stride-2 conv stem layer; [] = no stem"),
  /** GroupNorm groups in stem layers (must divide each stem width). Default 4. */
  stemGroups: size("GroupNorm groups in stem layers", 4),
  /** Patch side P in pixels of the (stem) feature map: tokens = (H'/P)·(W'/P). Default 8. */
  patch: size("patch side in pixels of the (stem) feature map", 8),
  /** Token width D. Default 96. */
  dim: size("token width", 96),
  /** Transformer blocks (pre-norm). Default 3. */
  depth: z.number().int().min(0).max(24).default(3).describe("number of pre-norm transformer blocks"),
  /** Attention heads (must divide dim). Default 4. */
  heads: size("attention heads", 4),
  /** MLP hidden width = mlpRatio·dim. Default 2. */
  mlpRatio: z.number().positive().default(2).describe("MLP hidden width as a multiple of dim"),
  /** How tokens become one vector: the class token, the mean of patch tokens, or both concatenated. Default "cls". */
  pool: z.enum(["cls", "mean", "cls+mean"]).default("cls").describe("class token, mean of patch tokens, or both"),
  /** Output features F (a Linear head after the final LayerNorm and pooling). Default 128. */
  featureDim: size("output features per image", 128),
  /** Std of the normal init of position embeddings and the class token. Default 0.02. */
  embedInitStd: z.number().positive().default(0.02).describe("std of position/class-token init"),
};

/** Checks no single field can make: divisibility of patch, heads and stem groups. */
function checkVit(
  c: { height: number; width: number; stem: number[]; stemGroups: number; patch: number; dim: number; heads: number },
  ctx: z.RefinementCtx,
): void {
  const down = 2 ** c.stem.length;
  const h = Math.ceil(c.height / down);
  const w = Math.ceil(c.width / down);
  if (c.height % down !== 0 || c.width % down !== 0) {
    ctx.addIssue({
      code: "custom",
      path: ["stem"],
      message: `a stem of ${c.stem.length} stride-2 layers needs height and width divisible by ${down} (have ${c.height}×${c.width})`,
    });
  }
  if (h % c.patch !== 0 || w % c.patch !== 0) {
    ctx.addIssue({
      code: "custom",
      path: ["patch"],
      message: `a divisor of the ${c.stem.length ? "stem output" : "image"} size ${h}×${w} (height ${c.height}, width ${c.width}${c.stem.length ? `, stem stride ${down}` : ""})`,
    });
  }
  if (c.dim % c.heads !== 0) {
    ctx.addIssue({ code: "custom", path: ["heads"], message: `a divisor of dim ${c.dim}` });
  }
  c.stem.forEach((ch, i) => {
    if (ch % c.stemGroups !== 0) {
      ctx.addIssue({ code: "custom", path: ["stem", i], message: `a multiple of stemGroups ${c.stemGroups}` });
    }
  });
}

/** Image ViT options (`VitEncoder`). */
export const vitConfigSchema = z.strictObject(vitFields).superRefine(checkVit);
export type VitConfig = z.output<typeof vitConfigSchema>;
export type VitConfigInput = z.input<typeof vitConfigSchema>;

/** Tubelet (video) ViT options (`TubeletEncoder`): the image ViT's plus the clip length and the inflation rule. */
export const tubeletConfigSchema = z
  .strictObject({
    ...vitFields,
    /** To: frames per clip; each token covers a [To × P × P] cube. Default 2. */
    frames: z.number().int().min(1).max(16).default(2).describe("frames per clip (tubelet depth)"),
    /**
     * How the image patch kernel is inflated over time at init: "central" puts it on frame ⌊To/2⌋ (the newest of
     * two), "average" spreads it as kernel/To over every frame. Either way, on a clip of identical frames the tubelet
     * ViT equals the image ViT at initialisation. Default "central".
     */
    inflation: z.enum(["central", "average"]).default("central").describe("temporal inflation of the patch kernel"),
  })
  .superRefine(checkVit);
export type TubeletConfig = z.output<typeof tubeletConfigSchema>;
export type TubeletConfigInput = z.input<typeof tubeletConfigSchema>;
