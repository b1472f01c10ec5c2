// Camera frames (uint8 HWC, src/core CameraFrame) → normalised float32 NHWC encoder input, with seeded training
// augmentation (random crop / shift, colour jitter) and its deterministic evaluation counterpart (centre crop).
import { parseWith, type CameraFrame, type Rng } from "../../core/index.ts";
import { preprocessConfigSchema, type PreprocessConfig, type PreprocessConfigInput } from "./preprocess-config.ts";

/** One image's augmentation draw; `evalParams` gives the deterministic one. Reuse the object (no allocation). */
export interface AugmentParams {
  /** Source row / column of the output's top-left pixel (outside the frame = edge replicated). */
  top: number;
  left: number;
  /** Colour factors (1 = unchanged). */
  brightness: number;
  contrast: number;
  saturation: number;
}

export function newAugmentParams(): AugmentParams {
  return { top: 0, left: 0, brightness: 1, contrast: 1, saturation: 1 };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * Writes camera frames as normalised floats, with the training augmentation or the evaluation transform.
 * Output layout per image: H,W,3 row-major, (v/255 − mean[c]) / std[c] after augmentation.
 */
export class ImagePreprocessor {
  readonly config: PreprocessConfig;
  /** Output size (encoder input). */
  readonly height: number;
  readonly width: number;
  /** Accepted camera frame size. */
  readonly sourceHeight: number;
  readonly sourceWidth: number;

  constructor(config: PreprocessConfigInput = {}, source = "preprocess config") {
    this.config = parseWith(preprocessConfigSchema, config, source);
    this.sourceHeight = this.config.sourceHeight;
    this.sourceWidth = this.config.sourceWidth;
    this.height = this.config.height ?? this.sourceHeight;
    this.width = this.config.width ?? this.sourceWidth;
  }

  /** Floats per output image: H·W·3. */
  get imageSize(): number {
    return this.height * this.width * 3;
  }

  /** Deterministic evaluation transform: centre crop, no shift, no colour change. */
  evalParams(into: AugmentParams = newAugmentParams()): AugmentParams {
    into.top = Math.floor((this.sourceHeight - this.height) / 2);
    into.left = Math.floor((this.sourceWidth - this.width) / 2);
    into.brightness = 1;
    into.contrast = 1;
    into.saturation = 1;
    return into;
  }

  /** A seeded training draw: random crop position ± random shift, colour jitter factors. */
  sampleParams(rng: Rng, into: AugmentParams = newAugmentParams()): AugmentParams {
    const c = this.config;
    const s = c.shift;
    into.top = rng.int(this.sourceHeight - this.height + 1) + rng.int(2 * s + 1) - s;
    into.left = rng.int(this.sourceWidth - this.width + 1) + rng.int(2 * s + 1) - s;
    into.brightness = rng.uniform(1 - c.brightness, 1 + c.brightness);
    into.contrast = rng.uniform(1 - c.contrast, 1 + c.contrast);
    into.saturation = rng.uniform(1 - c.saturation, 1 + c.saturation);
    return into;
  }

  /**
   * Write one frame (already validated: see frameIssues) into `out[offset .. offset + H·W·3)`. Allocates nothing.
   * Colour order as torchvision's ColorJitter with a fixed order: brightness, contrast (around the mean grey of the
   * brightened crop), saturation (around each pixel's grey), each clamped to [0,1]; then normalised.
   */
  process(frame: CameraFrame, params: AugmentParams, out: Float32Array, offset: number): void {
    const { height: h, width: w, sourceHeight: hs, sourceWidth: ws } = this;
    const src = frame.data;
    const [m0, m1, m2] = this.config.mean;
    const [s0, s1, s2] = this.config.std;
    const b = params.brightness / 255;
    const colour = params.contrast !== 1 || params.saturation !== 1;
    let grey = 0;
    let o = offset;
    for (let y = 0; y < h; y++) {
      const sy = Math.min(hs - 1, Math.max(0, y + params.top));
      for (let x = 0; x < w; x++) {
        const sx = Math.min(ws - 1, Math.max(0, x + params.left));
        const i = (sy * ws + sx) * 3;
        const r = clamp01((src[i] as number) * b);
        const gr = clamp01((src[i + 1] as number) * b);
        const bl = clamp01((src[i + 2] as number) * b);
        if (colour) {
          out[o] = r;
          out[o + 1] = gr;
          out[o + 2] = bl;
          grey += 0.299 * r + 0.587 * gr + 0.114 * bl;
        } else {
          out[o] = (r - m0) / s0;
          out[o + 1] = (gr - m1) / s1;
          out[o + 2] = (bl - m2) / s2;
        }
        o += 3;
      }
    }
    if (!colour) return;
    const mean = grey / (h * w);
    const c = params.contrast;
    const s = params.saturation;
    const end = offset + h * w * 3;
    for (let i = offset; i < end; i += 3) {
      const r = clamp01(((out[i] as number) - mean) * c + mean);
      const gr = clamp01(((out[i + 1] as number) - mean) * c + mean);
      const bl = clamp01(((out[i + 2] as number) - mean) * c + mean);
      const l = 0.299 * r + 0.587 * gr + 0.114 * bl;
      out[i] = (clamp01(l + (r - l) * s) - m0) / s0;
      out[i + 1] = (clamp01(l + (gr - l) * s) - m1) / s1;
      out[i + 2] = (clamp01(l + (bl - l) * s) - m2) / s2;
    }
  }
}
