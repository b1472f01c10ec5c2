// Training batches from dataset windows: the observation inputs filled by the policy's observation-input table (the
// same entries that encode observations at run time), the normalized target chunk, and the diffusion inputs (noise,
// timesteps, √ᾱ, √(1−ᾱ)). One seeded Rng drives everything, so resume is exact.
import type { Rng } from "../core/index.ts";
import type { WindowBuffers, WindowSampler } from "../data/index.ts";
import {
  IO,
  allocateInputs,
  type InputData,
  type MinMaxNormalizer,
  type ObservationInput,
  type PolicyNetwork,
  type TrainingContext,
} from "../policy/index.ts";
import type { TensorData } from "../runtime/index.ts";
import type { FeatureCache } from "./frozen-observer.ts";
import type { EpisodeSounds } from "./hearing.ts";
import { toRelative } from "./relative.ts";
import type { TeacherTargets } from "./teacher-targets.ts";

/** Another phrasing of an instruction's task and hand drawn from `rng`; null for an instruction it does not know. */
export type Rephrase = (instruction: string, rng: Rng) => string | null;

export interface BatchOptions {
  /** Image shift augmentation (pixels; 0 = off). */
  imageShift: number;
  /** Colour jitter of every image (absent: off, and nothing drawn); see TrainingContext.colorJitter. */
  colorJitter?: { brightness: number; contrast: number };
  /** Std of Gaussian noise on normalized states. */
  stateNoise: number;
  /** Language-conditioned policies: rephrase a window's instruction with this probability (see `Rephrase`). */
  paraphrase?: { probability: number; rephrase: Rephrase };
  /** Language-conditioned policies: give a window the null instruction with this probability (train.augment). */
  dropInstruction?: number;
  /** Feed `scene` (the latest frame's environment state, normalized by this) for the scene auxiliary loss. */
  scene?: MinMaxNormalizer;
  /**
   * Privileged policies (config.observeScene): normalizes the observation steps' environment state, of which the
   * policy reads the entries at `indices` (config.sceneEntries).
   */
  observedScene?: { norm: MinMaxNormalizer; indices: readonly number[] };
  /** Hearing policies (config.audio): every episode's sound windows and their normalisation. */
  audio?: EpisodeSounds;
  /**
   * Training on a frozen observer: each camera's features come from this cache (`features_<camera>` `B,To,F`)
   * instead of its frames (the windows then carry none; no image shift).
   */
  features?: FeatureCache;
  /** Goal-embedding policies (config.goal.embedding): every episode's goal embedding (train/goal-embeddings.ts). */
  goalEmbeddings?: readonly (Float32Array | undefined)[];
  /**
   * Distillation: each row is one of these pairs of a window and a starting noise, its target the teacher's sample
   * from them (the feeds are then the observation inputs, noise and x0 only: no timestep).
   */
  distill?: TeacherTargets;
}

/**
 * Fills the feeds of the training graph for batch size B. `fill` reuses every buffer (not reentrant).
 * Feeds: the observation inputs of the policy's table (or, on a frozen observer, its `frozenInputs`), x0 `B,Tp,Dx`,
 * and for diffusion noise `B,Tp,Dx`, timestep `B`, sqrt_alpha_bar / sqrt_one_minus_alpha_bar `B,1,1`; with `scene`,
 * scene `B,De`. Distilling: the observation inputs, x0 (the teacher's sample) and noise (its starting noise).
 */
export class BatchAssembler {
  readonly feeds: Record<string, TensorData> = {};
  private readonly window: WindowBuffers;
  private readonly inputs: readonly ObservationInput[];
  private readonly inputData: InputData[][];
  /** What the inputs read besides the window; each fill adds its Rng and whether it augments. */
  private readonly context: Omit<TrainingContext, "rng" | "augment">;
  private readonly x0: Float32Array;
  private readonly noise: Float32Array;
  private readonly timestep: Float32Array;
  private readonly sa: Float32Array;
  private readonly sb: Float32Array;
  private readonly row: Float32Array;
  private readonly stateRow: Float32Array;
  private readonly scene: Float32Array;
  private readonly sceneRow: Float32Array;

  constructor(
    readonly network: PolicyNetwork,
    readonly sampler: WindowSampler,
    readonly batchSize: number,
    private readonly stateNorm: MinMaxNormalizer,
    private readonly actionNorm: MinMaxNormalizer,
    private readonly options: BatchOptions,
  ) {
    const b = batchSize;
    const c = network.config;
    const { stateDim: ds, actionDim: da } = network.shape;
    const dx = network.sampleDim;
    this.window = sampler.createBuffers();
    this.inputs = options.features ? network.observer.frozenInputs() : network.observer.inputs;
    const { data, feeds } = allocateInputs(this.inputs, b);
    this.inputData = data;
    Object.assign(this.feeds, feeds);
    const dataset = sampler.dataset;
    this.context = {
      norm: {
        state: stateNorm,
        scene: options.observedScene ?? null,
        audio: options.audio ? { mean: options.audio.mean, std: options.audio.std } : null,
      },
      imageShift: options.imageShift,
      ...(options.colorJitter && { colorJitter: options.colorJitter }),
      stateNoise: options.stateNoise,
      ...(options.paraphrase && { paraphrase: options.paraphrase }),
      ...(options.dropInstruction !== undefined && { dropInstruction: options.dropInstruction }),
      episodeLength: (e) => (dataset.episodes[e] as { length: number }).length,
      episodeTask: (e) => (dataset.episodes[e] as { tasks: readonly string[] }).tasks[0] ?? "",
      frame: (camera, e, t) => dataset.frame(camera, e, t),
      ...(options.features && { features: options.features }),
      ...(options.audio && { sounds: options.audio.sounds }),
      ...(options.goalEmbeddings && { goalEmbeddings: options.goalEmbeddings }),
    };
    this.x0 = new Float32Array(b * c.predSteps * dx);
    this.noise = new Float32Array(b * c.predSteps * dx);
    this.timestep = new Float32Array(b);
    this.sa = new Float32Array(b);
    this.sb = new Float32Array(b);
    this.row = new Float32Array(da);
    this.stateRow = new Float32Array(ds);
    const de = options.scene?.dim ?? 0;
    this.scene = new Float32Array(b * de);
    this.sceneRow = new Float32Array(de);
    if (options.scene) this.feeds[IO.scene] = { data: this.scene, dims: [b, de] };
    this.feeds[IO.target] = { data: this.x0, dims: [b, c.predSteps, dx] };
    if (options.distill) this.feeds[IO.noise] = { data: this.noise, dims: [b, c.predSteps, dx] };
    else if (c.objective === "diffusion") {
      this.feeds[IO.noise] = { data: this.noise, dims: [b, c.predSteps, dx] };
      this.feeds[IO.timestep] = { data: this.timestep, dims: [b] };
      this.feeds[IO.sqrtAlphaBar] = { data: this.sa, dims: [b, 1, 1] };
      this.feeds[IO.sqrtOneMinusAlphaBar] = { data: this.sb, dims: [b, 1, 1] };
    }
  }

  /**
   * Draw B windows (and noise, timesteps, augmentation) from `rng` — distilling, B of its window–noise pairs;
   * `augment` false for validation.
   */
  fill(rng: Rng, augment: boolean): Record<string, TensorData> {
    const ctx: TrainingContext = { ...this.context, rng, augment };
    const distill = this.options.distill;
    for (let b = 0; b < this.batchSize; b++) {
      if (distill) {
        const pair = rng.int(distill.rows);
        this.fillRow(b, distill.window(pair), ctx, true);
        const n = this.network.config.predSteps * this.network.sampleDim;
        distill.noise(pair, this.noise, b * n);
        distill.target(pair, this.x0, b * n);
      } else this.fillRow(b, rng.int(this.sampler.length), ctx, false);
    }
    return this.feeds;
  }

  /** The observation inputs of row i from window `windows[i]`, without augmentation (the teacher's batches). */
  fillAt(windows: readonly number[], rng: Rng): Record<string, TensorData> {
    const ctx: TrainingContext = { ...this.context, rng, augment: false };
    windows.forEach((w, i) => this.fillRow(i, w, ctx, true));
    return this.feeds;
  }

  /** Row `b` from window `index`: its observation inputs, then unless `inputsOnly` its target chunk and noising. */
  private fillRow(b: number, index: number, ctx: TrainingContext, inputsOnly: boolean): void {
    const net = this.network;
    const c = net.config;
    const { actionDim: da } = net.shape;
    const dx = net.sampleDim;
    const tp = c.predSteps;
    const w = this.window;
    const ds0 = this.sampler.dataset;
    this.sampler.fill(index, w);
    if (c.actions === "relative") toRelative(w, c.obsSteps);
    // the table in feature order: state noise, then each camera's shift and jitter, then the goal's (the order of the draws)
    this.inputs.forEach((input, i) => input.fromWindow(w, this.inputData[i] as InputData[], b, ctx));
    if (inputsOnly) return;
    for (let k = 0; k < tp; k++) {
      this.actionNorm.normalize(w.action.subarray(k * da, (k + 1) * da), this.row, 0, k * da);
      this.x0.set(this.row, (b * tp + k) * dx);
      if (c.predictStates) {
        const len = ctx.episodeLength(w.episode);
        ds0.readState(w.episode, Math.min(w.frame + k, len - 1), this.stateRow);
        this.stateNorm.normalize(this.stateRow, this.x0, (b * tp + k) * dx + da);
      }
    }
    if (this.options.scene) {
      ds0.readEnvironment(w.episode, w.frame, this.sceneRow);
      this.options.scene.normalize(this.sceneRow, this.scene, b * this.sceneRow.length);
    }
    if (c.objective === "diffusion") {
      const t = ctx.rng.int(net.schedule.trainSteps);
      const ab = net.schedule.alphaBar(t);
      this.timestep[b] = t;
      this.sa[b] = Math.sqrt(ab);
      this.sb[b] = Math.sqrt(1 - ab);
      for (let i = b * tp * dx; i < (b + 1) * tp * dx; i++) this.noise[i] = ctx.rng.normal();
    }
  }
}
