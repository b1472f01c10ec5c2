// Observation features: each camera's To frames through an ImageEncoder, concatenated with the normalized state
// (unless the policy leaves the state out), for privileged policies the normalized scene state and, for
// goal-conditioned, language-conditioned and hearing policies, the goal picture's, the instruction's and the sound
// window's features (the same at every observation step).
import { DuetError } from "../../core/index.ts";
import type { GraphBuilder, Tensor } from "../../nn/index.ts";
import type { AudioEncoder, ImageEncoder, TextTransformer } from "../../encoders/index.ts";

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
 * Conditioning joined to every observation step: the goal picture `B,H,W,3` of the goal camera and the instruction's
 * tokens (per episode), the sound window's spectrogram `B,rows,mels` (per control step).
 */
export interface EpisodeConditioning {
  goal?: Tensor;
  instruction?: InstructionTokens;
  audio?: Tensor;
}

/**
 * `state: B,To,Ds`, `scene: B,To,De` (or null), per camera `images: B,To,H,W,3` (float32 in [−1, 1]: v/127.5 − 1,
 * vision's default preprocessing), the goal picture, the instruction's tokens and the sound's spectrogram → `B,To,Dobs`,
 * Dobs = Ds + De + Σ_cameras F + Fg + Fl + Fa (Ds counts only with `observeState`; without it the state input is
 * accepted and ignored; Fg = F with a goal camera, Fl with a text encoder, Fa with an audio encoder). Each camera has
 * its own encoder weights (scope `obs.<camera>`; the goal picture goes through its camera's), the text encoder its own
 * (scope `obs.language`), the audio encoder its own (scope `obs.audio`).
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
    /** The camera whose goal picture the policy reads (null: none). */
    readonly goalCamera: string | null = null,
    /** The sound window's encoder (null: the policy does not hear). */
    readonly hearing: AudioEncoder | null = null,
  ) {
    if (cameras.length > 0 && !encoder) throw new DuetError("policy: cameras are set but no encoder is configured");
    if (encoder) {
      if (encoder.frames !== 1 && encoder.frames !== obsSteps) {
        throw new DuetError(
          `policy.encoder: a video encoder takes each camera's observation steps as one clip, so its frames must equal policy.obsSteps (${obsSteps}); received frames = ${encoder.frames} (set the encoder's "frames" or policy.obsSteps)`,
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
    if (goalCamera !== null && !cameras.some((c) => c.name === goalCamera)) {
      throw new DuetError(
        `policy.goal.camera: "${goalCamera}" is not one of the policy's cameras (${cameras.map((c) => c.name).join(", ") || "none"}); the goal picture goes through that camera's encoder`,
      );
    }
    this.imageOffset = (observeState ? stateDim : 0) + sceneDim;
    this.imageDim = cameras.length * (encoder?.featureDim ?? 0);
    this.featureDim =
      this.imageOffset +
      this.imageDim +
      (goalCamera !== null ? (encoder?.featureDim ?? 0) : 0) +
      (text?.featureDim ?? 0) +
      (hearing?.featureDim ?? 0);
  }

  apply(
    g: GraphBuilder,
    state: Tensor,
    scene: Tensor | null,
    images: readonly Tensor[],
    episode: EpisodeConditioning = {},
    /** `images` are already the camera encoder's features `B,To,F` (training on a frozen observer). */
    imageFeatures = false,
  ): Tensor {
    if ((episode.instruction === undefined) !== (this.text === null)) {
      throw new DuetError(
        `policy: instruction tokens ${episode.instruction ? "given to" : "missing for"} the observer`,
      );
    }
    if ((episode.audio === undefined) !== (this.hearing === null)) {
      throw new DuetError(`policy: a spectrogram ${episode.audio ? "given to" : "missing for"} the observer`);
    }
    if ((episode.goal === undefined) !== (this.goalCamera === null)) {
      throw new DuetError(`policy: a goal picture ${episode.goal ? "given to" : "missing for"} the observer`);
    }
    return g.scope("obs", () => {
      const b = state.shape[0] as number;
      const to = this.obsSteps;
      const parts: Tensor[] = this.observeState ? [state] : [];
      if (scene) parts.push(scene);
      this.cameras.forEach((cam, i) => {
        const enc = this.encoder as ImageEncoder;
        const x = images[i] as Tensor;
        parts.push(imageFeatures ? x : g.scope(cam.name, () => enc.applySteps(g, x)));
      });
      const everyStep = (f: Tensor): Tensor => {
        const d = f.shape[1] as number;
        return g.expand(g.reshape(f, [b, 1, d]), [b, to, d]);
      };
      const { goal, instruction, audio } = episode;
      if (this.goalCamera !== null && goal) {
        const enc = this.encoder as ImageEncoder;
        parts.push(everyStep(g.scope(this.goalCamera, () => enc.apply(g, goal))));
      }
      if (this.text && instruction) {
        const text = this.text;
        parts.push(everyStep(g.scope("language", () => text.apply(g, instruction.ids, instruction.eos))));
      }
      if (this.hearing && audio) {
        const hearing = this.hearing;
        parts.push(everyStep(g.scope("audio", () => hearing.apply(g, audio))));
      }
      return parts.length === 1 ? (parts[0] as Tensor) : g.concat(parts, 2);
    });
  }
}
