// Several cameras → one observation feature vector: one shared encoder (+ a learned camera embedding) or one encoder
// per camera. Layout of the result (concat): features of camera c (config order) at columns [c·F, (c+1)·F).
import { z } from "zod";
import { DuetError, parseWith } from "../../core/index.ts";
import { ShapeError, type GraphBuilder, type Tensor } from "../../nn/index.ts";
import { isConditioned, type ConditionedImageEncoder } from "./conditioned.ts";
import type { ImageEncoder } from "./encoder.ts";
import { createEncoder } from "../registry.ts";

export const multiCameraConfigSchema = z.strictObject({
  /** Camera names in feature order (as Env.cameras). */
  cameras: z
    .array(z.string().min(1))
    .min(1)
    .refine((a) => new Set(a).size === a.length, "distinct camera names")
    .describe("camera names, in feature order"),
  /**
   * "shared": one encoder runs on all cameras' images in one batch (parameters under `shared.`), each camera's
   * learned embedding (`camera_embedding` [C,E]) is added inside it; "per-camera": one encoder per camera
   * (parameters under `camera.<name>.`). Default "shared".
   */
  mode: z.enum(["shared", "per-camera"]).default("shared").describe("one shared encoder or one per camera"),
  /** "concat": N, C·F (camera-major columns); "sum": N, F (sum over cameras). Default "concat". */
  combine: z.enum(["concat", "sum"]).default("concat").describe("concatenate or sum camera features"),
  /** Shared mode: add a learned camera embedding (std 0.02 init). Default true. */
  cameraEmbedding: z.boolean().default(true).describe("learned camera embedding in shared mode"),
});
export type MultiCameraConfig = z.output<typeof multiCameraConfigSchema>;
export type MultiCameraConfigInput = z.input<typeof multiCameraConfigSchema>;

/**
 * `images: Record<camera, N,H,W,3>` (or `N,To,H,W,3` for a video encoder) → `N, C·F` (concat) or `N, F` (sum).
 * Parameters are created under the builder's current scope (+ `shared.` / `camera.<name>.`).
 */
export class MultiCameraEncoder {
  readonly config: MultiCameraConfig;
  readonly cameras: readonly string[];
  /** One entry (shared) or one per camera, in camera order. */
  readonly encoders: readonly ImageEncoder[];
  /** Output width: C·F (concat) or F (sum). */
  readonly featureDim: number;
  /** Per-camera features F. */
  readonly cameraFeatureDim: number;

  /** `encoder`: an encoder config (see registry) or a factory called once (shared) or once per camera. */
  constructor(
    config: MultiCameraConfigInput,
    encoder: unknown | ((camera: string) => ImageEncoder),
    source = "multi-camera config",
  ) {
    this.config = parseWith(multiCameraConfigSchema, config, source);
    this.cameras = this.config.cameras;
    const make =
      typeof encoder === "function"
        ? (encoder as (camera: string) => ImageEncoder)
        : (): ImageEncoder => createEncoder(encoder, `${source}: encoder`);
    this.encoders = this.config.mode === "shared" ? [make("shared")] : this.cameras.map((c) => make(c));
    const first = this.encoders[0] as ImageEncoder;
    this.cameraFeatureDim = first.featureDim;
    if (this.encoders.some((e) => e.featureDim !== first.featureDim)) {
      throw new DuetError(
        `${source}: per-camera encoders must share featureDim (have ${this.encoders.map((e) => e.featureDim).join(", ")})`,
      );
    }
    this.featureDim = this.config.combine === "concat" ? this.cameras.length * first.featureDim : first.featureDim;
  }

  /** Per-image input dims after N (`H,W,3` or `To,H,W,3`). */
  inputDims(camera: string): number[] {
    const e = this.encoders[this.config.mode === "shared" ? 0 : this.cameras.indexOf(camera)] as ImageEncoder;
    return e.frames === 1 ? [e.height, e.width, 3] : [e.frames, e.height, e.width, 3];
  }

  apply(g: GraphBuilder, images: Readonly<Record<string, Tensor>>): Tensor {
    const problems: string[] = [];
    let n: number | null = null;
    for (const cam of this.cameras) {
      const t = images[cam];
      const dims = this.inputDims(cam);
      if (!t) {
        problems.push(`camera '${cam}' is missing (expected float32 [N,${dims.join(",")}])`);
        continue;
      }
      const ok = t.shape.length === dims.length + 1 && dims.every((d, i) => t.shape[i + 1] === d);
      if (!ok || t.dtype !== "float32" || (n !== null && t.shape[0] !== n)) {
        problems.push(
          `camera '${cam}': expected float32 [${n ?? "N"},${dims.join(",")}], received ${t.dtype} [${t.shape.join(",")}]`,
        );
      }
      n ??= t.shape[0] as number;
    }
    for (const cam of Object.keys(images)) {
      if (!this.cameras.includes(cam)) problems.push(`camera '${cam}' is not one of ${this.cameras.join(", ")}`);
    }
    if (problems.length > 0) throw new ShapeError(`MultiCameraEncoder: ${problems.join("; ")}`);
    const batch = n as number;
    const f = this.cameraFeatureDim;
    const cams = this.cameras.length;
    let perCamera: Tensor; // N,C,F
    if (this.config.mode === "shared") {
      const enc = this.encoders[0] as ImageEncoder;
      perCamera = g.scope("shared", () => {
        // Stack cameras n-major: row n·C + c is camera c of sample n → one encoder call on N·C images.
        const dims = this.inputDims(this.cameras[0] as string);
        const stacked = g.reshape(
          g.concat(
            this.cameras.map((c) => g.reshape(images[c] as Tensor, [batch, 1, ...dims])),
            1,
          ),
          [batch * cams, ...dims],
        );
        let feats: Tensor;
        if (this.config.cameraEmbedding && isConditioned(enc)) {
          const e = (enc as ConditionedImageEncoder).embedDim;
          const emb = g.param("camera_embedding", [cams, e], { kind: "normal", std: 0.02 }, false);
          feats = enc.applyWith(g, stacked, emb);
        } else {
          feats = enc.apply(g, stacked);
          if (this.config.cameraEmbedding) {
            const emb = g.param("camera_embedding", [1, cams, f], { kind: "normal", std: 0.02 }, false);
            return g.add(g.reshape(feats, [batch, cams, f]), emb);
          }
        }
        return g.reshape(feats, [batch, cams, f]);
      });
    } else {
      const feats = this.cameras.map((c, i) =>
        g.scope(`camera.${c}`, () =>
          g.reshape((this.encoders[i] as ImageEncoder).apply(g, images[c] as Tensor), [batch, 1, f]),
        ),
      );
      perCamera = cams === 1 ? (feats[0] as Tensor) : g.concat(feats, 1);
    }
    return this.config.combine === "concat" ? g.reshape(perCamera, [batch, cams * f]) : g.reduceSum(perCamera, [1]);
  }
}
