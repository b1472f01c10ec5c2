// Training batches from dataset windows: normalized states and actions, camera frames as floats with random shifts,
// and the diffusion inputs (noise, timesteps, √ᾱ, √(1−ᾱ)). One seeded Rng drives everything, so resume is exact.
import type { Rng } from "../core/index.ts";
import type { WindowBuffers, WindowSampler } from "../data/index.ts";
import {
  IO,
  featureInput,
  imageInput,
  pickEntries,
  type MinMaxNormalizer,
  type PolicyNetwork,
} from "../policy/index.ts";
import type { TensorData } from "../runtime/index.ts";
import { ByteTokenizer, type EpisodeSound, type TokenBatch } from "../encoders/index.ts";
import type { FeatureCache } from "./frozen-observer.ts";
import type { EpisodeSounds } from "./hearing.ts";
import { toRelative } from "./relative.ts";
import { shiftImage } from "./shift-image.ts";

export interface BatchOptions {
  /** Image shift augmentation (pixels; 0 = off). */
  imageShift: number;
  /** Std of Gaussian noise on normalized states. */
  stateNoise: number;
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
}

/**
 * Fills the feeds of the training graph for batch size B. `fill` reuses every buffer (not reentrant).
 * Feeds: state `B,To,Ds`, image_<cam> `B,To,H,W,3`, x0 `B,Tp,Dx`, and for diffusion noise `B,Tp,Dx`, timestep `B`,
 * sqrt_alpha_bar / sqrt_one_minus_alpha_bar `B,1,1`; with `scene`, scene `B,De`; language-conditioned policies,
 * instruction_ids / instruction_eos `B,T` (each window's episode task, tokenized once per episode); goal-conditioned
 * policies, goal_image `B,H,W,3` (the last frame of each window's episode, shifted like the views); hearing policies,
 * audio_spectrogram `B,rows,mels` (the sound window ending at the window's latest observation); on a frozen
 * observer, features_<cam> `B,To,F` instead of image_<cam>.
 */
export class BatchAssembler {
  readonly feeds: Record<string, TensorData> = {};
  private readonly window: WindowBuffers;
  private readonly state: Float32Array;
  private readonly x0: Float32Array;
  private readonly noise: Float32Array;
  private readonly timestep: Float32Array;
  private readonly sa: Float32Array;
  private readonly sb: Float32Array;
  private readonly images: Float32Array[];
  private readonly row: Float32Array;
  private readonly stateRow: Float32Array;
  private readonly scene: Float32Array;
  private readonly sceneRow: Float32Array;
  private readonly observedScene: Float32Array;
  private readonly sceneFull: Float32Array;
  private readonly audio: Float32Array;
  /** Language-conditioned: each episode's task tokens (one row), and the batch's. */
  private readonly episodeTokens: readonly TokenBatch[];
  private readonly tokens: TokenBatch | null;
  private readonly goal: Float32Array;

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
    const { stateDim: ds, actionDim: da, cameras } = network.shape;
    const dx = network.sampleDim;
    this.window = sampler.createBuffers();
    this.state = new Float32Array(b * c.obsSteps * ds);
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
    const deo = options.observedScene?.indices.length ?? 0;
    this.observedScene = new Float32Array(b * c.obsSteps * deo);
    this.sceneFull = new Float32Array(c.obsSteps * (options.observedScene?.norm.dim ?? 0));
    const sound = network.sound;
    this.audio = new Float32Array(sound ? b * sound.size : 0);
    if (sound) this.feeds[IO.audio] = { data: this.audio, dims: [b, sound.rows, sound.mels] };
    if (deo > 0) this.feeds[IO.environment] = { data: this.observedScene, dims: [b, c.obsSteps, deo] };
    const f = options.features?.dim;
    this.images = cameras.map((cam) => new Float32Array(b * c.obsSteps * (f ?? cam.height * cam.width * 3)));
    if (options.scene) this.feeds[IO.scene] = { data: this.scene, dims: [b, de] };
    if (c.observeState) this.feeds[IO.state] = { data: this.state, dims: [b, c.obsSteps, ds] };
    cameras.forEach((cam, i) => {
      const data = this.images[i] as Float32Array;
      if (f !== undefined) this.feeds[featureInput(cam.name)] = { data, dims: [b, c.obsSteps, f] };
      else this.feeds[imageInput(cam.name)] = { data, dims: [b, c.obsSteps, cam.height, cam.width, 3] };
    });
    const tokenizer = c.language ? new ByteTokenizer(c.language.maxTokens) : null;
    this.episodeTokens = tokenizer ? sampler.dataset.episodes.map((e) => tokenizer.batch([e.tasks[0] ?? ""])) : [];
    this.tokens = tokenizer ? tokenizer.batch(Array.from({ length: b }, () => ".")) : null;
    if (this.tokens) {
      this.feeds[IO.instructionIds] = { data: this.tokens.ids, dims: this.tokens.dims };
      this.feeds[IO.instructionEos] = { data: this.tokens.eos, dims: this.tokens.dims };
    }
    const gc = network.goalCamera;
    this.goal = new Float32Array(gc ? b * gc.height * gc.width * 3 : 0);
    if (gc) this.feeds[IO.goal] = { data: this.goal, dims: [b, gc.height, gc.width, 3] };
    this.feeds[IO.target] = { data: this.x0, dims: [b, c.predSteps, dx] };
    if (c.objective === "diffusion") {
      this.feeds[IO.noise] = { data: this.noise, dims: [b, c.predSteps, dx] };
      this.feeds[IO.timestep] = { data: this.timestep, dims: [b] };
      this.feeds[IO.sqrtAlphaBar] = { data: this.sa, dims: [b, 1, 1] };
      this.feeds[IO.sqrtOneMinusAlphaBar] = { data: this.sb, dims: [b, 1, 1] };
    }
  }

  /** Draw B windows (and noise, timesteps, augmentation) from `rng`; `augment` false for validation. */
  fill(rng: Rng, augment: boolean): Record<string, TensorData> {
    const net = this.network;
    const c = net.config;
    const { stateDim: ds, actionDim: da, cameras } = net.shape;
    const dx = net.sampleDim;
    const to = c.obsSteps;
    const tp = c.predSteps;
    const w = this.window;
    const ds0 = this.sampler.dataset;
    for (let b = 0; b < this.batchSize; b++) {
      this.sampler.fill(rng.int(this.sampler.length), w);
      if (c.actions === "relative") toRelative(w, to);
      if (this.tokens) {
        const e = this.episodeTokens[w.episode] as TokenBatch;
        this.tokens.ids.set(e.ids, b * e.dims[1]);
        this.tokens.eos.set(e.eos, b * e.dims[1]);
      }
      this.stateNorm.normalize(w.state, this.state, b * to * ds);
      const observed = this.options.observedScene;
      if (observed) {
        observed.norm.normalize(w.environment, this.sceneFull);
        const n = observed.indices.length;
        pickEntries(this.sceneFull, observed.indices, this.observedScene.subarray(b * to * n, (b + 1) * to * n));
      }
      const heard = this.options.audio;
      if (heard && net.sound) {
        const rows = (heard.sounds[w.episode] as EpisodeSound).rows(w.frame);
        const o = b * net.sound.size;
        for (let i = 0; i < rows.length; i++) this.audio[o + i] = ((rows[i] as number) - heard.mean) / heard.std;
      }
      if (augment && this.options.stateNoise > 0) {
        for (let i = b * to * ds; i < (b + 1) * to * ds; i++)
          this.state[i] = (this.state[i] as number) + this.options.stateNoise * rng.normal();
      }
      for (let k = 0; k < tp; k++) {
        this.actionNorm.normalize(w.action.subarray(k * da, (k + 1) * da), this.row, 0, k * da);
        this.x0.set(this.row, (b * tp + k) * dx);
        if (c.predictStates) {
          const len = (ds0.episodes[w.episode] as { length: number }).length;
          ds0.readState(w.episode, Math.min(w.frame + k, len - 1), this.stateRow);
          this.stateNorm.normalize(this.stateRow, this.x0, (b * tp + k) * dx + da);
        }
      }
      if (this.options.scene) {
        ds0.readEnvironment(w.episode, w.frame, this.sceneRow);
        this.options.scene.normalize(this.sceneRow, this.scene, b * this.sceneRow.length);
      }
      const cache = this.options.features;
      cameras.forEach((cam, i) => {
        const dst = this.images[i] as Float32Array;
        if (cache) {
          // the observation steps' frames, the first repeated before the episode start (as WindowSampler does)
          for (let k = 0; k < to; k++)
            cache.read(cam, w.episode, Math.max(0, w.frame - (to - 1) + k), dst, (b * to + k) * cache.dim);
          return;
        }
        const [dy, dxp] = drawShift(rng, augment ? this.options.imageShift : 0);
        const src = w.images[cam.name] as Uint8Array;
        const hw3 = cam.height * cam.width * 3;
        for (let k = 0; k < to; k++) shiftImage(src, k * hw3, dst, (b * to + k) * hw3, cam.height, cam.width, dy, dxp);
      });
      const gc = net.goalCamera;
      if (gc) {
        const [dy, dxp] = drawShift(rng, augment ? this.options.imageShift : 0);
        const last = (ds0.episodes[w.episode] as { length: number }).length - 1;
        const hw3 = gc.height * gc.width * 3;
        shiftImage(ds0.frame(gc.name, w.episode, last), 0, this.goal, b * hw3, gc.height, gc.width, dy, dxp);
      }
      if (c.objective === "diffusion") {
        const t = rng.int(net.schedule.trainSteps);
        const ab = net.schedule.alphaBar(t);
        this.timestep[b] = t;
        this.sa[b] = Math.sqrt(ab);
        this.sb[b] = Math.sqrt(1 - ab);
        for (let i = b * tp * dx; i < (b + 1) * tp * dx; i++) this.noise[i] = rng.normal();
      }
    }
    return this.feeds;
  }
}

/** A random image shift of at most `s` pixels along each axis, [dy, dx] (no draw when `s` is 0). */
function drawShift(rng: Rng, s: number): [number, number] {
  return s > 0 ? [rng.int(2 * s + 1) - s, rng.int(2 * s + 1) - s] : [0, 0];
}
