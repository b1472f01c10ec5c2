// Observation features: each camera's To frames through an ImageEncoder, concatenated with the normalized state
// (unless the policy leaves the state out), for privileged policies the normalized scene state and, for
// language-conditioned policies, the instruction's text features (the same at every observation step).
import { DuetError } from "../core/index.ts";
import type { GraphBuilder, Tensor } from "../nn/index.ts";
import type { ImageEncoder, TextTransformer } from "../vision/index.ts";

/** A camera the policy looks through: name and frame size. */
export interface CameraShape {
  name: string;
  height: number;
  width: number;
}

/** The instruction as the text encoder takes it: token ids `B,T` (int64) and the one-hot EOS mask `B,T`. */
export interface InstructionTokens {
  ids: Tensor;
  eos: Tensor;
}

/**
 * `state: B,To,Ds`, `scene: B,To,De` (or null), per camera `images: B,To,H,W,3` (float32 in [−1, 1]: v/127.5 − 1,
 * vision's default preprocessing) and the instruction's tokens (or null) → `B,To,Dobs`,
 * Dobs = Ds + De + Σ_cameras F + Fl (Ds counts only with `observeState`; without it the state input is accepted and
 * ignored; Fl only with a text encoder). Each camera has its own encoder weights (scope `obs.<camera>`), the text
 * encoder its own (scope `obs.language`).
 */
export class ObservationEncoder {
  readonly featureDim: number;
  /** Where the camera features sit in each step's features: [imageOffset, imageOffset + imageDim). */
  readonly imageOffset: number;
  readonly imageDim: number;

  constructor(
    readonly stateDim: number,
    readonly obsSteps: number,
    readonly cameras: readonly CameraShape[],
    readonly encoder: ImageEncoder | null,
    readonly observeState = true,
    /** De: scene-state entries per step (0: none). */
    readonly sceneDim = 0,
    /** The instruction's encoder (null: the policy reads no instruction). */
    readonly text: TextTransformer | null = null,
  ) {
    if (cameras.length > 0 && !encoder) throw new DuetError("policy: cameras are set but no encoder is configured");
    if (encoder) {
      if (encoder.frames !== 1) {
        throw new DuetError(
          `policy: video encoders (frames = ${encoder.frames}) are not supported; use an image encoder`,
        );
      }
      const bad = cameras.filter((c) => c.height !== encoder.height || c.width !== encoder.width);
      if (bad.length > 0) {
        throw new DuetError(
          `policy: the encoder expects ${encoder.width}x${encoder.height} images; camera ${bad.map((c) => `${c.name} is ${c.width}x${c.height}`).join(", ")}`,
        );
      }
    }
    if (!observeState && cameras.length === 0) throw new DuetError("policy: without the state there must be a camera");
    this.imageOffset = (observeState ? stateDim : 0) + sceneDim;
    this.imageDim = cameras.length * (encoder?.featureDim ?? 0);
    this.featureDim = this.imageOffset + this.imageDim + (text?.featureDim ?? 0);
  }

  apply(
    g: GraphBuilder,
    state: Tensor,
    scene: Tensor | null,
    images: readonly Tensor[],
    instruction: InstructionTokens | null = null,
  ): Tensor {
    if ((instruction === null) !== (this.text === null)) {
      throw new DuetError(`policy: instruction tokens ${instruction ? "given to" : "missing for"} the observer`);
    }
    return g.scope("obs", () => {
      const b = state.shape[0] as number;
      const to = this.obsSteps;
      const parts: Tensor[] = this.observeState ? [state] : [];
      if (scene) parts.push(scene);
      this.cameras.forEach((cam, i) => {
        const enc = this.encoder as ImageEncoder;
        const x = images[i] as Tensor;
        const flat = g.reshape(x, [b * to, cam.height, cam.width, 3]);
        const f = g.scope(cam.name, () => enc.apply(g, flat));
        parts.push(g.reshape(f, [b, to, enc.featureDim]));
      });
      if (this.text && instruction) {
        const f = g.scope("language", () => (this.text as TextTransformer).apply(g, instruction.ids, instruction.eos));
        parts.push(g.expand(g.reshape(f, [b, 1, this.text.featureDim]), [b, to, this.text.featureDim]));
      }
      return parts.length === 1 ? (parts[0] as Tensor) : g.concat(parts, 2);
    });
  }
}
