// Observation features: the observer runs each entry of the observation-input table (inputs.ts) through its encoder
// and concatenates the features per observation step: the normalized state (unless the policy leaves it out), for
// privileged policies the normalized scene state, each camera's To frames through an ImageEncoder, and for
// goal-conditioned, language-conditioned and hearing policies the goal picture's, the instruction's and the sound
// window's features, and for goal-embedding policies the goal's CLIP image embedding (the same at every observation
// step). The instruction's features are a slice of their own, so
// classifier-free guidance swaps in the null instruction's without running an encoder again.
import { DuetError } from "../../core/index.ts";
import type { AudioEncoder, ImageEncoder, SoundWindow, TextTransformer } from "../../encoders/index.ts";
import type { GraphBuilder, Tensor } from "../../nn/index.ts";
import {
  CameraFeatureInput,
  CameraInput,
  GoalEmbeddingInput,
  GoalInput,
  InstructionInput,
  SceneInput,
  SoundInput,
  StateInput,
  type CameraShape,
  type ObservationInput,
} from "./inputs.ts";

/** What the observer sees and the encoders it runs. */
export interface ObserverSpec {
  stateDim: number;
  obsSteps: number;
  cameras: readonly CameraShape[];
  /** The image encoder every camera goes through (its own weights per camera), null without cameras. */
  encoder: ImageEncoder | null;
  /** Whether the state is a feature (config.observeState). */
  observeState: boolean;
  /** De: scene-state entries per step (0: none). */
  sceneDim: number;
  /** The instruction's encoder (null: the policy reads no instruction). */
  text: TextTransformer | null;
  /** The camera whose goal picture the policy reads (null: none). */
  goalCamera: string | null;
  /** Goal-embedding policies: the goal frame's camera and D, the CLIP embedding width (null: none). */
  goalEmbedding: { camera: string; dim: number } | null;
  /** The sound window and its encoder (null: the policy does not hear). */
  hearing: { encoder: AudioEncoder; sound: SoundWindow } | null;
}

/**
 * Observation inputs → `cond` `B,To,Dobs`, Dobs = Ds + De + Σ_cameras F + Fg + Fl + Fa + D (Ds counts only with
 * `observeState`; Fg = F with a goal camera, Fl with a text encoder, Fa with an audio encoder, D with a goal
 * embedding). Camera frames are
 * float32 in [−1, 1] (v/127.5 − 1). Each camera has its own encoder weights (scope `obs.<camera>`; the goal picture
 * goes through its camera's), the text encoder its own (scope `obs.language`), the audio encoder its own (`obs.audio`).
 */
export class ObservationEncoder {
  /** The observation-input table, in feature order. */
  readonly inputs: readonly ObservationInput[];
  readonly featureDim: number;
  /** Where the camera features sit in each step's features: [imageOffset, imageOffset + imageDim). */
  readonly imageOffset: number;
  readonly imageDim: number;
  readonly encoder: ImageEncoder | null;
  readonly sceneDim: number;
  /**
   * Language-conditioned policies: the instruction's entry and where its features sit in each step's features,
   * [offset, offset + featureDim) — a slice of their own, which classifier-free guidance replaces (`withoutInstruction`).
   */
  readonly instruction: { input: InstructionInput; offset: number } | null;

  constructor(readonly spec: ObserverSpec) {
    const { cameras, encoder, obsSteps: to, goalCamera } = spec;
    if (cameras.length > 0 && !encoder) throw new DuetError("policy: cameras are set but no encoder is configured");
    if (encoder) {
      if (encoder.frames !== 1 && encoder.frames !== to) {
        throw new DuetError(
          `policy.encoder: a video encoder takes each camera's observation steps as one clip, so its frames must equal policy.obsSteps (${to}); received frames = ${encoder.frames} (set the encoder's "frames" or policy.obsSteps)`,
        );
      }
      const bad = cameras.filter((c) => c.height !== encoder.height || c.width !== encoder.width);
      if (bad.length > 0) {
        throw new DuetError(
          `policy: the encoder expects ${encoder.width}x${encoder.height} images; camera ${bad.map((c) => `${c.name} is ${c.width}x${c.height}`).join(", ")}`,
        );
      }
    }
    if (!spec.observeState && cameras.length === 0)
      throw new DuetError("policy: without the state there must be a camera");
    const goal = goalCamera === null ? null : cameras.find((c) => c.name === goalCamera);
    if (goal === undefined) {
      throw new DuetError(
        `policy.goal.camera: "${goalCamera}" is not one of the policy's cameras (${cameras.map((c) => c.name).join(", ") || "none"}); the goal picture goes through that camera's encoder`,
      );
    }
    this.encoder = encoder;
    this.sceneDim = spec.sceneDim;
    const inputs: ObservationInput[] = [];
    if (spec.observeState) inputs.push(new StateInput(spec.stateDim, to));
    if (spec.sceneDim > 0) inputs.push(new SceneInput(spec.sceneDim, to));
    this.imageOffset = inputs.reduce((n, i) => n + i.featureDim, 0);
    if (encoder) inputs.push(...cameras.map((c) => new CameraInput(c, encoder, to)));
    this.imageDim = cameras.length * (encoder?.featureDim ?? 0);
    if (goal && encoder) inputs.push(new GoalInput(goal, encoder, to));
    const text = spec.text && new InstructionInput(spec.text, to);
    this.instruction = text && { input: text, offset: inputs.reduce((n, i) => n + i.featureDim, 0) };
    if (text) inputs.push(text);
    if (spec.hearing) inputs.push(new SoundInput(spec.hearing.encoder, spec.hearing.sound, to));
    if (spec.goalEmbedding) inputs.push(new GoalEmbeddingInput(spec.goalEmbedding.camera, spec.goalEmbedding.dim, to));
    this.inputs = inputs;
    this.featureDim = inputs.reduce((n, i) => n + i.featureDim, 0);
  }

  /**
   * The table for training on a frozen observer: each camera comes in as its encoder's features (`features_<camera>`
   * `B,To,F`), so the graph has no camera-encoder parameters.
   */
  frozenInputs(): ObservationInput[] {
    return this.inputs.map((i) =>
      i instanceof CameraInput ? new CameraFeatureInput(i.camera, i.featureDim, i.obsSteps) : i,
    );
  }

  /**
   * cond `B,To,Dobs` with the instruction's features replaced by the null instruction's: classifier-free guidance's
   * unconditional cond. The null instruction's features depend on no observation, so no encoder runs again.
   */
  withoutInstruction(g: GraphBuilder, cond: Tensor): Tensor {
    if (!this.instruction)
      throw new DuetError("policy: guidance needs a language-conditioned policy (config.language)");
    const { input, offset } = this.instruction;
    const b = cond.shape[0] as number;
    const end = offset + input.featureDim;
    const blank = g.scope("obs", () => input.blankFeatures(g, b));
    const before = offset > 0 ? [g.slice(cond, [2], [0], [offset])] : [];
    const after = end < this.featureDim ? [g.slice(cond, [2], [end], [this.featureDim])] : [];
    return g.concat([...before, blank, ...after], 2);
  }

  /** The features of `inputs` (this table or `frozenInputs()`) from their tensors (`tensors[i]` for `inputs[i]`). */
  apply(
    g: GraphBuilder,
    inputs: readonly ObservationInput[],
    tensors: readonly (readonly Tensor[])[],
    b: number,
  ): Tensor {
    return g.scope("obs", () => {
      const parts = inputs.map((input, i) => input.features(g, tensors[i] as readonly Tensor[], b));
      return parts.length === 1 ? (parts[0] as Tensor) : g.concat(parts, 2);
    });
  }
}
