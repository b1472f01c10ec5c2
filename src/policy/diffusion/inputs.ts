// The observation-input table: every input of a policy's observer (joint state, scene state, each camera, goal
// picture, instruction, sound, goal embedding) declared once: its graph tensors and shapes, the features it adds, how it is filled
// from the observations at run time and from a dataset window in training, and its normalisation. Run-time encoding
// (policy.ts), training batches (train/batch.ts), loadPolicy's check of the graphs (model-dir.ts) and the network's
// inputs (network.ts) all loop over it, so adding an input is one entry here plus its encoder.
//
// Over 400 lines because it is the whole table, one class per input, meant to be read side by side.
//
// Feature layout of `cond` (per observation step, concatenated in table order): state, scene, cameras (config order),
// goal, instruction, sound, goal embedding. The order is part of the trained weights' meaning: append new inputs at the end.
import { AUDIO_SAMPLE_RATE, DuetError, type Observation, type Rng } from "../../core/index.ts";
import {
  jitterImage,
  shiftImage,
  type AudioEncoder,
  type EpisodeSound,
  type ImageEncoder,
  type SoundWindow,
  type TextTransformer,
  type TokenBatch,
  type Tokenizer,
  tokenizerFor,
} from "../../encoders/index.ts";
import type { GraphBuilder, Tensor } from "../../nn/index.ts";
import type { MinMaxNormalizer } from "../normalizer.ts";
import { pickEntries } from "./config.ts";

/** Graph input and output names shared by training, export and the runtime. */
export const IO = {
  state: "state",
  /** Per camera: `image_<name>`. */
  imagePrefix: "image_",
  /** Training on a frozen observer, per camera: `features_<name>` `B,To,F`. */
  featurePrefix: "features_",
  cond: "cond",
  sample: "sample",
  timestep: "timestep",
  noise: "noise",
  target: "x0",
  sqrtAlphaBar: "sqrt_alpha_bar",
  sqrtOneMinusAlphaBar: "sqrt_one_minus_alpha_bar",
  pred: "pred",
  /** Privileged policies (config.observeScene): the observation steps' environment state, normalized, `B,To,De`. */
  environment: "environment",
  /** Language-conditioned policies (config.language): the instruction's token ids `B,T` (int64) and EOS mask `B,T`. */
  instructionIds: "instruction_ids",
  instructionEos: "instruction_eos",
  /** Hearing policies (config.audio): the sound window's normalized log-mel spectrogram `B,rows,mels`. */
  audio: "audio_spectrogram",
  /** Goal-conditioned policies (config.goal): the goal picture `B,H,W,3` in [−1, 1]. */
  goal: "goal_image",
  /** Goal-embedding policies (config.goal.embedding): the goal frame's unit-norm CLIP image embedding `B,D`. */
  goalEmbedding: "goal_embedding",
  /** Training only (scene auxiliary loss): the latest frame's environment state, normalized, `B,De`. */
  scene: "scene",
  /** Validation only: the scene auxiliary loss on its own. */
  sceneLoss: "scene_loss",
} as const;

export function imageInput(camera: string): string {
  return IO.imagePrefix + camera;
}

export function featureInput(camera: string): string {
  return IO.featurePrefix + camera;
}

/** A camera the policy looks through: name and frame size. */
export interface CameraShape {
  name: string;
  height: number;
  width: number;
}

/** One graph input: its name, dims for batch B, element type. */
export interface InputTensor {
  name: string;
  dims: number[];
  dtype: "float32" | "int64";
}

/** An input tensor's data: float32, or int64 for token ids. */
export type InputData = Float32Array | BigInt64Array;

/** The normalisation of the inputs, from model.json at run time and fitted on the dataset in training. */
export interface InputNormalization {
  state: MinMaxNormalizer;
  /** Privileged policies: the whole scene state's normalizer and the entries the policy reads. */
  scene: { norm: MinMaxNormalizer; indices: readonly number[] } | null;
  /** Hearing policies: x → (x − mean)/std over log-mel values. */
  audio: { mean: number; std: number } | null;
}

/** What run-time filling needs besides the observations. */
export interface ObserveContext {
  norm: InputNormalization;
  /** Names the model in errors. */
  label: string;
  stateNames: readonly string[];
  environmentNames: readonly string[];
}

/** A training window as src/data's WindowSampler fills it (the fields the inputs read). */
export interface TrainingWindow {
  /** `To,Ds` raw (relative policies: already made relative). */
  state: Float32Array;
  /** `To,De` raw (privileged policies). */
  environment: Float32Array;
  /** Camera → `To,H,W,3` uint8 (empty on a frozen observer). */
  images: Record<string, Uint8Array>;
  episode: number;
  frame: number;
}

/** What training filling needs besides the window: the dataset, augmentation, caches. */
export interface TrainingContext {
  norm: InputNormalization;
  rng: Rng;
  /** false for validation batches: no shifts, no state noise. */
  augment: boolean;
  /** Image shift augmentation (pixels; 0 = off). */
  imageShift: number;
  /**
   * Colour jitter (absent: off): each image of a window (a camera's To frames alike; the goal picture) gets a
   * brightness factor from [1 − brightness, 1 + brightness] and a contrast factor from [1 − contrast, 1 + contrast].
   */
  colorJitter?: { brightness: number; contrast: number };
  /** Std of Gaussian noise on normalized states. */
  stateNoise: number;
  /** Language-conditioned policies: with this probability, a window's instruction is replaced by `rephrase`'s. */
  paraphrase?: { probability: number; rephrase(instruction: string, rng: Rng): string | null };
  /**
   * Language-conditioned policies: the probability that a window's instruction is replaced by the null instruction
   * (classifier-free guidance's condition dropout; unset: none).
   */
  dropInstruction?: number;
  /** Episode e's length in frames. */
  episodeLength(e: number): number;
  /** Episode e's task (its instruction). */
  episodeTask(e: number): string;
  /** Camera frame t of episode e, uint8 `H,W,3`. */
  frame(camera: string, e: number, t: number): Uint8Array;
  /** Frozen observer: camera features `F` of episode e's frame t written at dst[offset…]. */
  features?: {
    readonly dim: number;
    read(camera: CameraShape, e: number, t: number, dst: Float32Array, o: number): void;
  };
  /** Hearing policies: every episode's sound (undefined for one not used). */
  sounds?: readonly (EpisodeSound | undefined)[];
  /**
   * Goal-embedding policies: every episode's goal, the CLIP image embedding `D` of its last goal-camera frame
   * (undefined for one not used).
   */
  goalEmbeddings?: readonly (Float32Array | undefined)[];
}

/** One entry of the table. */
export interface ObservationInput {
  /** Its graph inputs for batch `b`. */
  tensors(b: number): InputTensor[];
  /** Features it adds to every observation step of `cond`. */
  readonly featureDim: number;
  /** Graph (inside scope "obs"): its input tensors, in `tensors` order → features `B,To,F`. */
  features(g: GraphBuilder, inputs: readonly Tensor[], b: number): Tensor;
  /** Run time: fill `data` (batch 1, `tensors` order) from the history, refusing what does not fit, naming it. */
  observe(history: readonly Observation[], data: readonly InputData[], ctx: ObserveContext): void;
  /** Training: fill batch row `b` of `data` from a window. */
  fromWindow(w: TrainingWindow, data: readonly InputData[], b: number, ctx: TrainingContext): void;
}

/** Observation step k of To in `history` (fewer: the oldest repeated) and its age (0: the latest). */
function stepOf(history: readonly Observation[], to: number, k: number): { obs: Observation; age: number } {
  return { obs: history[Math.max(0, history.length - to + k)] as Observation, age: to - 1 - k };
}

/** A feature `B,F` the same at every one of To steps → `B,To,F`. */
function everyStep(g: GraphBuilder, f: Tensor, b: number, to: number): Tensor {
  const d = f.shape[1] as number;
  return g.expand(g.reshape(f, [b, 1, d]), [b, to, d]);
}

/** A random image shift of at most `s` pixels along each axis, [dy, dx] (no draw when `s` is 0). */
function drawShift(ctx: TrainingContext): [number, number] {
  const s = ctx.augment ? ctx.imageShift : 0;
  return s > 0 ? [ctx.rng.int(2 * s + 1) - s, ctx.rng.int(2 * s + 1) - s] : [0, 0];
}

/** The colour-jitter factors [brightness, contrast] of one image, drawn after its shift; null when off (no draw). */
function drawJitter(ctx: TrainingContext): [number, number] | null {
  const j = ctx.augment ? ctx.colorJitter : undefined;
  if (!j) return null;
  return [ctx.rng.uniform(1 - j.brightness, 1 + j.brightness), ctx.rng.uniform(1 - j.contrast, 1 + j.contrast)];
}

/** Joint state `B,To,Ds`, min-max normalized (state noise in training). Only when config.observeState. */
export class StateInput implements ObservationInput {
  constructor(
    readonly stateDim: number,
    readonly obsSteps: number,
  ) {}

  get featureDim(): number {
    return this.stateDim;
  }

  tensors(b: number): InputTensor[] {
    return [{ name: IO.state, dims: [b, this.obsSteps, this.stateDim], dtype: "float32" }];
  }

  features(_g: GraphBuilder, [state]: readonly Tensor[]): Tensor {
    return state as Tensor;
  }

  /** The policy has checked every step's state (count, finite) before the inputs are filled. */
  observe(history: readonly Observation[], [data]: readonly InputData[], ctx: ObserveContext): void {
    const ds = this.stateDim;
    for (let k = 0; k < this.obsSteps; k++)
      ctx.norm.state.normalize(stepOf(history, this.obsSteps, k).obs.state, data as Float32Array, k * ds);
  }

  fromWindow(w: TrainingWindow, [data]: readonly InputData[], b: number, ctx: TrainingContext): void {
    const out = data as Float32Array;
    const n = this.obsSteps * this.stateDim;
    ctx.norm.state.normalize(w.state, out, b * n);
    if (ctx.augment && ctx.stateNoise > 0)
      for (let i = b * n; i < (b + 1) * n; i++) out[i] = (out[i] as number) + ctx.stateNoise * ctx.rng.normal();
  }
}

/**
 * Privileged policies (config.observeScene): the scene-state entries the policy reads `B,To,De`, normalized (which
 * entries and the whole state's range: InputNormalization.scene).
 */
export class SceneInput implements ObservationInput {
  /** Scratch: the whole scene state of the To steps (raw, then normalized) before the policy's entries are picked. */
  private full = new Float32Array(0);

  constructor(
    readonly featureDim: number,
    readonly obsSteps: number,
  ) {}

  tensors(b: number): InputTensor[] {
    return [{ name: IO.environment, dims: [b, this.obsSteps, this.featureDim], dtype: "float32" }];
  }

  features(_g: GraphBuilder, [scene]: readonly Tensor[]): Tensor {
    return scene as Tensor;
  }

  observe(history: readonly Observation[], [data]: readonly InputData[], ctx: ObserveContext): void {
    const names = ctx.environmentNames;
    const de = names.length;
    const full = this.scratch(de);
    for (let k = 0; k < this.obsSteps; k++) {
      const { obs, age } = stepOf(history, this.obsSteps, k);
      const e = obs.environmentState;
      if (!e || e.length !== de) {
        throw new DuetError(
          `${ctx.label}: observation t-${age} has ${e ? `${e.length} environment-state values` : "no environment state"}, expected ${de}: this policy observes the simulator's scene state (config.observeScene) and runs in simulation only`,
        );
      }
      const bad = e.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new DuetError(
          `${ctx.label}: observation t-${age} environment state ${names[bad]} is ${e[bad]}; no action taken`,
        );
      }
      full.set(e, k * de);
    }
    this.pick(data as Float32Array, 0, ctx.norm);
  }

  fromWindow(w: TrainingWindow, [data]: readonly InputData[], b: number, ctx: TrainingContext): void {
    this.scratch(w.environment.length / this.obsSteps).set(w.environment);
    this.pick(data as Float32Array, b, ctx.norm);
  }

  private scratch(fullDim: number): Float32Array {
    if (this.full.length !== this.obsSteps * fullDim) this.full = new Float32Array(this.obsSteps * fullDim);
    return this.full;
  }

  private pick(out: Float32Array, b: number, norm: InputNormalization): void {
    const scene = norm.scene;
    if (!scene) throw new DuetError("policy: a scene-state input without the scene state's normalizer");
    scene.norm.normalize(this.full, this.full);
    const n = this.obsSteps * this.featureDim;
    pickEntries(this.full, scene.indices, out.subarray(b * n, (b + 1) * n));
  }
}

/** One camera's To frames `B,To,H,W,3` in [−1, 1] (shifted and jittered in training), through the camera's encoder. */
export class CameraInput implements ObservationInput {
  constructor(
    readonly camera: CameraShape,
    readonly encoder: ImageEncoder,
    readonly obsSteps: number,
  ) {}

  get featureDim(): number {
    return this.encoder.featureDim;
  }

  tensors(b: number): InputTensor[] {
    const { name, height, width } = this.camera;
    return [{ name: imageInput(name), dims: [b, this.obsSteps, height, width, 3], dtype: "float32" }];
  }

  /** Each frame through the encoder, or the To frames as one clip through a video encoder (`applySteps`). */
  features(g: GraphBuilder, [x]: readonly Tensor[]): Tensor {
    return g.scope(this.camera.name, () => this.encoder.applySteps(g, x as Tensor));
  }

  observe(history: readonly Observation[], [data]: readonly InputData[], ctx: ObserveContext): void {
    const { name, height, width } = this.camera;
    const hw3 = height * width * 3;
    for (let k = 0; k < this.obsSteps; k++) {
      const { obs, age } = stepOf(history, this.obsSteps, k);
      const frame = obs.images[name];
      if (!frame) {
        throw new DuetError(
          `${ctx.label}: observation t-${age} has no image from camera "${name}" (has: ${Object.keys(obs.images).join(", ") || "none"})`,
        );
      }
      if (frame.width !== width || frame.height !== height) {
        throw new DuetError(
          `${ctx.label}: camera "${name}" frame is ${frame.width}x${frame.height}, expected ${width}x${height}`,
        );
      }
      shiftImage(frame.data, 0, data as Float32Array, k * hw3, height, width, 0, 0);
    }
  }

  fromWindow(w: TrainingWindow, [data]: readonly InputData[], b: number, ctx: TrainingContext): void {
    const { name, height, width } = this.camera;
    const [dy, dx] = drawShift(ctx);
    const jitter = drawJitter(ctx);
    const src = w.images[name] as Uint8Array;
    const hw3 = height * width * 3;
    const to = this.obsSteps;
    for (let k = 0; k < to; k++) {
      const d = (b * to + k) * hw3;
      shiftImage(src, k * hw3, data as Float32Array, d, height, width, dy, dx);
      if (jitter) jitterImage(data as Float32Array, d, height * width, ...jitter);
    }
  }
}

/**
 * Training on a frozen observer: a camera as its encoder's features `B,To,F` (`features_<camera>`, from the feature
 * cache), so the training graph has no camera-encoder parameters. Never at run time: exported graphs take frames.
 */
export class CameraFeatureInput implements ObservationInput {
  constructor(
    readonly camera: CameraShape,
    readonly featureDim: number,
    readonly obsSteps: number,
  ) {}

  tensors(b: number): InputTensor[] {
    return [{ name: featureInput(this.camera.name), dims: [b, this.obsSteps, this.featureDim], dtype: "float32" }];
  }

  features(_g: GraphBuilder, [f]: readonly Tensor[]): Tensor {
    return f as Tensor;
  }

  observe(): void {
    throw new DuetError("policy: a frozen observer's camera features are a training input only");
  }

  fromWindow(w: TrainingWindow, [data]: readonly InputData[], b: number, ctx: TrainingContext): void {
    const cache = ctx.features;
    if (!cache) throw new DuetError("train: a frozen observer needs its feature cache");
    const to = this.obsSteps;
    // the observation steps' frames, the first repeated before the episode start (as WindowSampler does)
    for (let k = 0; k < to; k++)
      cache.read(
        this.camera,
        w.episode,
        Math.max(0, w.frame - (to - 1) + k),
        data as Float32Array,
        (b * to + k) * cache.dim,
      );
  }
}

/**
 * Goal-conditioned policies (config.goal): a picture of the task done `B,H,W,3` through its camera's encoder (the
 * same weights as the view), the same at every step. In training the last frame of the window's episode.
 */
export class GoalInput implements ObservationInput {
  constructor(
    readonly camera: CameraShape,
    readonly encoder: ImageEncoder,
    readonly obsSteps: number,
  ) {}

  get featureDim(): number {
    return this.encoder.featureDim;
  }

  tensors(b: number): InputTensor[] {
    return [{ name: IO.goal, dims: [b, this.camera.height, this.camera.width, 3], dtype: "float32" }];
  }

  features(g: GraphBuilder, [goal]: readonly Tensor[], b: number): Tensor {
    const f = g.scope(this.camera.name, () => this.encoder.apply(g, goal as Tensor));
    return everyStep(g, f, b, this.obsSteps);
  }

  observe(history: readonly Observation[], [data]: readonly InputData[], ctx: ObserveContext): void {
    const { name, width, height } = this.camera;
    const goal = (history.at(-1) as Observation).goal;
    if (!goal) {
      throw new DuetError(
        `${ctx.label}: the observation carries no goal picture, and this policy is goal-conditioned (config.goal): ` +
          `give it a ${width}x${height} frame of camera "${name}" showing the task done (duet sim/eval --goal); no action taken`,
      );
    }
    if (goal.width !== width || goal.height !== height || goal.data.length !== width * height * 3) {
      throw new DuetError(
        `${ctx.label}: the goal picture is ${goal.width}x${goal.height} (${goal.data.length} bytes), expected a ${width}x${height} RGB frame of camera "${name}"`,
      );
    }
    shiftImage(goal.data, 0, data as Float32Array, 0, height, width, 0, 0);
  }

  fromWindow(w: TrainingWindow, [data]: readonly InputData[], b: number, ctx: TrainingContext): void {
    const { name, height, width } = this.camera;
    const [dy, dx] = drawShift(ctx);
    const jitter = drawJitter(ctx);
    const last = ctx.episodeLength(w.episode) - 1;
    const hw3 = height * width * 3;
    shiftImage(ctx.frame(name, w.episode, last), 0, data as Float32Array, b * hw3, height, width, dy, dx);
    if (jitter) jitterImage(data as Float32Array, b * hw3, height * width, ...jitter);
  }
}

/**
 * Language-conditioned policies (config.language): the instruction's tokens `B,T` (int64; bytes or hashed words, as
 * config.language.tokens says) and EOS mask `B,T` through the text encoder (scope `language`), the same at every
 * step. In training the window's episode task, or (train.augment.dropInstruction) the null instruction: the
 * tokenizer's blank row, which the text encoder reads as nothing (Tokenizer.blank).
 */
export class InstructionInput implements ObservationInput {
  private readonly tokenizer: Tokenizer;

  constructor(
    readonly text: TextTransformer,
    readonly obsSteps: number,
  ) {
    this.tokenizer = tokenizerFor(text.config);
  }

  get featureDim(): number {
    return this.text.featureDim;
  }

  tensors(b: number): InputTensor[] {
    return [
      { name: IO.instructionIds, dims: [b, this.tokenizer.maxTokens], dtype: "int64" },
      { name: IO.instructionEos, dims: [b, this.tokenizer.maxTokens], dtype: "float32" },
    ];
  }

  features(g: GraphBuilder, [ids, eos]: readonly Tensor[], b: number): Tensor {
    const f = g.scope("language", () => this.text.apply(g, ids as Tensor, eos as Tensor));
    return everyStep(g, f, b, this.obsSteps);
  }

  observe(history: readonly Observation[], data: readonly InputData[], ctx: ObserveContext): void {
    const text = (history.at(-1) as Observation).instruction;
    if (text === undefined) {
      throw new DuetError(
        `${ctx.label}: the observation carries no instruction, and this policy is language-conditioned ` +
          `(config.language): it needs to be told the task (duet sim/eval --instruction, or a multi-task scenario); no action taken`,
      );
    }
    this.write(text, data, 0);
  }

  fromWindow(w: TrainingWindow, data: readonly InputData[], b: number, ctx: TrainingContext): void {
    // no draw at all without dropping or paraphrasing, so the batches of configs without them do not change
    const drop = ctx.augment ? (ctx.dropInstruction ?? 0) : 0;
    if (drop > 0 && ctx.rng.next() < drop) {
      this.writeBlank(data, b);
      return;
    }
    const text = ctx.episodeTask(w.episode);
    const p = ctx.augment ? ctx.paraphrase : undefined;
    const other = p && ctx.rng.next() < p.probability ? p.rephrase(text, ctx.rng) : null;
    this.write(other ?? text, data, b);
  }

  /** Row `b` of `data` (this input's tensors) ← the null instruction. */
  writeBlank(data: readonly InputData[], b: number): void {
    this.set(this.tokenizer.blank(1), data, b);
  }

  /**
   * Graph (inside scope "obs"): the null instruction's features `B,To,F`, from no input (TextTransformer.applyNull):
   * what `features` gives for blank token rows.
   */
  blankFeatures(g: GraphBuilder, b: number): Tensor {
    return everyStep(
      g,
      g.scope("language", () => this.text.applyNull(g, b)),
      b,
      this.obsSteps,
    );
  }

  private write(text: string, data: readonly InputData[], b: number): void {
    this.set(this.tokenizer.batch([text]), data, b);
  }

  private set(t: TokenBatch, [ids, eos]: readonly InputData[], b: number): void {
    (ids as BigInt64Array).set(t.ids, b * this.tokenizer.maxTokens);
    (eos as Float32Array).set(t.eos, b * this.tokenizer.maxTokens);
  }
}

/**
 * Hearing policies (config.audio): the log-mel spectrogram of the sound window ending at the latest observation
 * `B,rows,mels`, normalized by one mean and std, through the spectrogram transformer (scope `audio`), the same at
 * every step.
 */
export class SoundInput implements ObservationInput {
  constructor(
    readonly hearing: AudioEncoder,
    readonly sound: SoundWindow,
    readonly obsSteps: number,
  ) {}

  get featureDim(): number {
    return this.hearing.featureDim;
  }

  tensors(b: number): InputTensor[] {
    return [{ name: IO.audio, dims: [b, this.sound.rows, this.sound.mels], dtype: "float32" }];
  }

  features(g: GraphBuilder, [audio]: readonly Tensor[], b: number): Tensor {
    const f = g.scope("audio", () => this.hearing.apply(g, audio as Tensor));
    return everyStep(g, f, b, this.obsSteps);
  }

  /** The sound of the last `periods` observations (fewer: the oldest repeated, as in training). */
  observe(history: readonly Observation[], [data]: readonly InputData[], ctx: ObserveContext): void {
    const { periods, samples, wave } = this.sound;
    for (let k = 0; k < periods; k++) {
      const obs = history[Math.max(0, history.length - periods + k)] as Observation;
      const age = Math.min(periods - 1 - k, history.length - 1);
      const a = obs.audio;
      if (!a || a.length !== samples) {
        throw new DuetError(
          `${ctx.label}: observation t-${age} has ${a ? `${a.length} audio samples` : "no audio"}, expected ${samples} (one control period at ${AUDIO_SAMPLE_RATE} Hz): this policy hears (config.audio); run the simulator with audio; no action taken`,
        );
      }
      const bad = a.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new DuetError(`${ctx.label}: observation t-${age} audio sample ${bad} is ${a[bad]}; no action taken`);
      wave.set(a, k * samples);
    }
    const { mean, std } = ctx.norm.audio ?? { mean: 0, std: 1 };
    this.sound.write(data as Float32Array, 0, mean, std);
  }

  fromWindow(w: TrainingWindow, [data]: readonly InputData[], b: number, ctx: TrainingContext): void {
    const heard = ctx.sounds?.[w.episode];
    if (!heard || !ctx.norm.audio) throw new DuetError(`train: no sound for episode ${w.episode}`);
    const { mean, std } = ctx.norm.audio;
    const rows = heard.rows(w.frame);
    const out = data as Float32Array;
    const o = b * this.sound.size;
    for (let i = 0; i < rows.length; i++) out[o + i] = ((rows[i] as number) - mean) / std;
  }
}

/**
 * Goal-embedding policies (config.goal.embedding): the goal frame's unit-norm CLIP image embedding `B,D`
 * (`Observation.goalEmbedding`), its features the embedding × √D (about unit variance per coordinate, as the other
 * features), the same at every step. In training each episode's embedding, computed once before training
 * (TrainingContext.goalEmbeddings). No parameters: a frozen observer takes it as it is.
 */
export class GoalEmbeddingInput implements ObservationInput {
  constructor(
    readonly camera: string,
    readonly dim: number,
    readonly obsSteps: number,
  ) {}

  get featureDim(): number {
    return this.dim;
  }

  tensors(b: number): InputTensor[] {
    return [{ name: IO.goalEmbedding, dims: [b, this.dim], dtype: "float32" }];
  }

  features(g: GraphBuilder, [e]: readonly Tensor[], b: number): Tensor {
    return everyStep(g, g.mul(e as Tensor, Math.sqrt(this.dim)), b, this.obsSteps);
  }

  /** Refuses an embedding that is missing, of another width, not finite or not of unit length (±1e-3). */
  observe(history: readonly Observation[], [data]: readonly InputData[], ctx: ObserveContext): void {
    const e = (history.at(-1) as Observation).goalEmbedding;
    const d = this.dim;
    if (!e) {
      throw new DuetError(
        `${ctx.label}: the observation carries no goal embedding, and this policy is conditioned on the CLIP image ` +
          `embedding of a goal frame of camera "${this.camera}" (config.goal.embedding): give it one (duet sim/eval: ` +
          `the expert's last frame, --goal PNG or --prior DIR); no action taken`,
      );
    }
    const bad = e.findIndex((v) => !Number.isFinite(v));
    let squares = 0;
    for (const v of e) squares += v * v;
    const norm = Math.sqrt(squares);
    if (e.length !== d || bad >= 0 || Math.abs(norm - 1) > 1e-3) {
      const found =
        e.length !== d ? `${e.length} values` : bad >= 0 ? `value ${bad} = ${e[bad]}` : `length ${norm.toFixed(4)}`;
      throw new DuetError(
        `${ctx.label}: the goal embedding has ${found}, expected a unit-length CLIP image embedding of ${d} values; no action taken`,
      );
    }
    (data as Float32Array).set(e);
  }

  fromWindow(w: TrainingWindow, [data]: readonly InputData[], b: number, ctx: TrainingContext): void {
    const e = ctx.goalEmbeddings?.[w.episode];
    if (!e) throw new DuetError(`train: no goal embedding for episode ${w.episode}`);
    (data as Float32Array).set(e, b * this.dim);
  }
}

/** Buffers for `inputs` at batch `b`: one per tensor, in table order, with their feeds by graph name. */
export function allocateInputs(
  inputs: readonly ObservationInput[],
  b: number,
): { data: InputData[][]; feeds: Record<string, { data: InputData; dims: number[] }> } {
  const feeds: Record<string, { data: InputData; dims: number[] }> = {};
  const data = inputs.map((input) =>
    input.tensors(b).map((t) => {
      const n = t.dims.reduce((a, d) => a * d, 1);
      const buf = t.dtype === "int64" ? new BigInt64Array(n) : new Float32Array(n);
      feeds[t.name] = { data: buf, dims: t.dims };
      return buf;
    }),
  );
  return { data, feeds };
}
