// One definition of a policy's networks → its training graph, its encoder graph, its per-step denoiser graph and an
// unrolled DDIM sampler graph. Parameter names are shared (scopes "obs" and "denoiser"), so weights move by name.
import { DuetError } from "../../core/index.ts";
import {
  AudioEncoder,
  TextTransformer,
  createEncoder,
  type SoundWindow,
  type VitConfigInput,
} from "../../encoders/index.ts";
import {
  GraphBuilder,
  Linear,
  ParamLayout,
  inferenceModel,
  mseLoss,
  type OnnxModel,
  type Tensor,
  type WeightPrecision,
} from "../../nn/index.ts";
import { soundWindowOf, type PolicyConfig } from "./config.ts";
import { DdimSampler } from "../schedulers/ddim.ts";
import type { Denoiser } from "../denoisers/denoiser.ts";
import { NoiseSchedule } from "../schedulers/noise-schedule.ts";
import { ObservationEncoder, type CameraShape, type EpisodeConditioning } from "./observer.ts";
import { createDenoiser } from "../registry.ts";

/** Graph input and output names shared by training, export and the runtime. */
export const IO = {
  state: "state",
  /** Per camera: `image_<name>`. */
  imagePrefix: "image_",
  /** Training on a frozen observer (`obsInputs` with `frozenObserver`), per camera: `features_<name>` `B,To,F`. */
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
  /** Training only (scene auxiliary loss): the latest frame's environment state, normalized, `B,De`. */
  scene: "scene",
  /** Validation only: the scene auxiliary loss on its own. */
  sceneLoss: "scene_loss",
} as const;

/** The spectrogram transformer's options of config.audio (all but the window). */
function encoderOptions({ window: _window, ...options }: NonNullable<PolicyConfig["audio"]>): VitConfigInput {
  return options;
}

export function imageInput(camera: string): string {
  return IO.imagePrefix + camera;
}

export function featureInput(camera: string): string {
  return IO.featurePrefix + camera;
}

/** What the data says about the policy's inputs and outputs. */
export interface PolicyShape {
  /** Ds */
  stateDim: number;
  /** Da */
  actionDim: number;
  /** Cameras the policy looks through (empty for state-only). */
  cameras: readonly CameraShape[];
  /** De: environment-state entries the policy observes (config.observeScene; default 0). */
  sceneDim?: number;
  /** Hearing policies (config.audio): sound samples per control period. */
  audioSamples?: number;
}

/** The training graph and what feeds it. */
export interface TrainingLossGraph {
  g: GraphBuilder;
  /** What the optimizer minimizes: the action loss plus the weighted scene loss. */
  loss: Tensor;
  /** The action (denoising or regression) loss alone. */
  actionLoss: Tensor;
  /** The scene auxiliary loss alone (unweighted), when asked for. */
  sceneLoss?: Tensor;
}

/** The scene auxiliary loss: `weight` · mse(Linear(latest frame's image features), environment state `B,dim`). */
export interface SceneLossOptions {
  weight: number;
  /** De: entries of the environment state. */
  dim: number;
}

export class PolicyNetwork {
  readonly observer: ObservationEncoder;
  readonly denoiser: Denoiser;
  readonly schedule: NoiseSchedule;
  /** Dx = Da (+ Ds with joint state prediction). */
  readonly sampleDim: number;
  /** Dobs: features per observation step. */
  readonly obsDim: number;
  /** The camera of the goal picture (config.goal), else null. */
  readonly goalCamera: CameraShape | null;
  /** What a hearing policy (config.audio) hears: its sound window, else null. */
  readonly sound: SoundWindow | null;

  constructor(
    readonly config: PolicyConfig,
    readonly shape: PolicyShape,
    /** Names the file the config came from, in errors. */
    source = "policy config",
  ) {
    const encoder = config.encoder ? createEncoder(config.encoder, source) : null;
    if (!encoder && shape.cameras.length > 0) {
      throw new DuetError(`${source}: cameras ${shape.cameras.map((c) => c.name).join(", ")} need an encoder`);
    }
    if (config.actions === "relative" && shape.stateDim !== shape.actionDim) {
      throw new DuetError(
        `${source}: policy.actions "relative" pairs state and action entries, but there are ${shape.stateDim} state and ${shape.actionDim} action entries`,
      );
    }
    const a = config.audio;
    if (a && shape.audioSamples === undefined) {
      throw new DuetError(`${source}: policy.audio is set but the data has no sound (observation.audio)`);
    }
    this.sound = soundWindowOf(config, shape.audioSamples ?? 0);
    const hearing =
      a && this.sound
        ? new AudioEncoder(
            { ...encoderOptions(a), height: this.sound.rows, width: this.sound.mels },
            `${source}: policy.audio`,
          )
        : null;
    this.observer = new ObservationEncoder(
      shape.stateDim,
      config.obsSteps,
      shape.cameras,
      encoder,
      config.observeState,
      shape.sceneDim ?? 0,
      config.language ? new TextTransformer(config.language, `${source}: policy.language`) : null,
      config.goal?.camera ?? null,
      hearing,
    );
    if (config.observeScene !== this.observer.sceneDim > 0) {
      throw new DuetError(
        `${source}: policy.observeScene is ${config.observeScene} but the shape has ${this.observer.sceneDim} scene entries`,
      );
    }
    this.obsDim = this.observer.featureDim;
    const goal = config.goal?.camera;
    this.goalCamera = goal === undefined ? null : (shape.cameras.find((c) => c.name === goal) ?? null);
    this.sampleDim = shape.actionDim + (config.predictStates ? shape.stateDim : 0);
    this.denoiser = createDenoiser(config.denoiser, {
      horizon: config.predSteps,
      sampleDim: this.sampleDim,
      obsSteps: config.obsSteps,
      obsDim: this.obsDim,
    });
    this.schedule = new NoiseSchedule(config.scheduler);
  }

  /**
   * Observation inputs for batch `b`: state `B,To,Ds`, scene `B,To,De` (privileged), per camera `B,To,H,W,3` (or,
   * `frozenObserver`, the camera encoder's features `B,To,F`: the encoder is not in the graph), the goal picture
   * `B,H,W,3` (goal-conditioned), the instruction's tokens `B,T` (language-conditioned) and the sound window's
   * spectrogram `B,rows,mels` (hearing).
   */
  private obsInputs(g: GraphBuilder, b: number, frozenObserver = false): Tensor {
    const to = this.config.obsSteps;
    const state = g.input(IO.state, [b, to, this.shape.stateDim]);
    const de = this.observer.sceneDim;
    const scene = de > 0 ? g.input(IO.environment, [b, to, de]) : null;
    const f = this.observer.encoder?.featureDim ?? 0;
    const images = this.shape.cameras.map((c) =>
      frozenObserver
        ? g.input(featureInput(c.name), [b, to, f])
        : g.input(imageInput(c.name), [b, to, c.height, c.width, 3]),
    );
    const episode: EpisodeConditioning = {};
    const t = this.config.language?.maxTokens;
    if (t !== undefined) {
      episode.instruction = {
        ids: g.input(IO.instructionIds, [b, t], { dtype: "int64" }),
        eos: g.input(IO.instructionEos, [b, t]),
      };
    }
    const goal = this.goalCamera;
    if (goal) episode.goal = g.input(IO.goal, [b, goal.height, goal.width, 3]);
    if (this.sound) episode.audio = g.input(IO.audio, [b, this.sound.rows, this.sound.mels]);
    return this.observer.apply(g, state, scene, images, episode, frozenObserver);
  }

  /**
   * Training loss for batch `b`. Diffusion: inputs x0, noise `B,Tp,Dx`, timestep `B`, √ᾱ and √(1−ᾱ) `B,1,1`;
   * loss = mse(f(√ᾱ·x0 + √(1−ᾱ)·noise, t, obs), noise), or against x0 with prediction "sample".
   * Regression: input x0; loss = mse(f(0, 0, obs), x0).
   * Output `pred` is the network's prediction. Set `training` for dropout.
   * With `scene`: input scene `B,De`, and loss += weight · mse(head(image features of the latest frame), scene), the
   * head (`aux.scene`) a Linear layer that only the training graph has.
   * With `frozenObserver` the cameras come in as their encoder's features (`features_<camera>` `B,To,F`) and the graph
   * has no camera-encoder parameters: the denoiser trains on a fixed observer (train/frozen-observer.ts).
   */
  trainingLoss(b: number, training = true, scene?: SceneLossOptions, frozenObserver = false): TrainingLossGraph {
    if (frozenObserver && scene) throw new DuetError("train.sceneLoss trains the observer; a frozen one has none");
    const g = new GraphBuilder();
    g.training = training;
    const tp = this.config.predSteps;
    const dx = this.sampleDim;
    const cond = this.obsInputs(g, b, frozenObserver);
    const x0 = g.input(IO.target, [b, tp, dx]);
    let pred: Tensor;
    let loss: Tensor;
    if (this.config.objective === "diffusion") {
      const noise = g.input(IO.noise, [b, tp, dx]);
      const t = g.input(IO.timestep, [b]);
      const sa = g.input(IO.sqrtAlphaBar, [b, 1, 1]);
      const sb = g.input(IO.sqrtOneMinusAlphaBar, [b, 1, 1]);
      const noisy = g.add(g.mul(x0, sa), g.mul(noise, sb));
      pred = this.denoiser.apply(g, noisy, t, cond);
      loss = mseLoss(g, pred, this.config.scheduler.prediction === "sample" ? x0 : noise);
    } else {
      const zeros = g.constant(new Float32Array(b * tp * dx), [b, tp, dx]);
      pred = this.denoiser.apply(g, zeros, g.constant(new Float32Array(b), [b]), cond);
      loss = mseLoss(g, pred, x0);
    }
    g.output(IO.pred, pred);
    if (!scene) return { g, loss, actionLoss: loss };
    const sceneLoss = this.sceneLoss(g, b, cond, scene.dim);
    return { g, loss: g.add(loss, g.mul(sceneLoss, scene.weight)), actionLoss: loss, sceneLoss };
  }

  /** mse(Linear(image features of the latest frame), scene input `B,dim`). */
  private sceneLoss(g: GraphBuilder, b: number, cond: Tensor, dim: number): Tensor {
    const to = this.config.obsSteps;
    const { imageOffset: first, imageDim: width } = this.observer;
    if (width === 0) throw new DuetError("train.sceneLoss needs cameras: it reads the scene from image features");
    const target = g.input(IO.scene, [b, dim]);
    const features = g.reshape(g.slice(cond, [1, 2], [to - 1, first], [to, first + width]), [b, width]);
    return g.scope("aux", () => mseLoss(g, new Linear("scene", width, dim).apply(g, features), target));
  }

  /** One camera's encoder on its own (batch `n`, scope `obs.<camera>` as in the policy): image `n,H,W,3` → `n,F`. */
  cameraFeatureGraph(camera: CameraShape, n: number): GraphBuilder {
    const enc = this.observer.encoder;
    if (!enc) throw new DuetError("policy: no image encoder");
    const g = new GraphBuilder();
    const x = g.input(imageInput(camera.name), [n, camera.height, camera.width, 3]);
    g.output(
      featureInput(camera.name),
      g.scope("obs", () => g.scope(camera.name, () => enc.apply(g, x))),
    );
    return g;
  }

  /** Encoder graph (batch 1): state, images → cond `1,To,Dobs`. */
  encoderGraph(): GraphBuilder {
    const g = new GraphBuilder();
    g.output(IO.cond, this.obsInputs(g, 1));
    return g;
  }

  /** Per-step denoiser graph (batch 1): sample `1,Tp,Dx`, timestep `1`, cond `1,To,Dobs` → pred `1,Tp,Dx`. */
  denoiserGraph(): GraphBuilder {
    const g = new GraphBuilder();
    const x = g.input(IO.sample, [1, this.config.predSteps, this.sampleDim]);
    const t = g.input(IO.timestep, [1]);
    const cond = g.input(IO.cond, [1, this.config.obsSteps, this.obsDim]);
    g.output(IO.pred, this.denoiser.apply(g, x, t, cond));
    return g;
  }

  /**
   * The whole DDIM loop of `steps` steps unrolled into one graph (batch 1; shared weights):
   * noise `1,Tp,Dx`, cond → sample `1,Tp,Dx` (normalized, clipped x̂0 of the last step).
   */
  samplerGraph(steps: number): GraphBuilder {
    const g = new GraphBuilder();
    let x = g.input(IO.noise, [1, this.config.predSteps, this.sampleDim]);
    const cond = g.input(IO.cond, [1, this.config.obsSteps, this.obsDim]);
    const ddim = new DdimSampler(this.schedule, steps);
    const clip = this.config.scheduler.clipSample;
    const sample = this.config.scheduler.prediction === "sample";
    ddim.timesteps.forEach((t, k) => {
      const co = ddim.coefficients[k] as (typeof ddim.coefficients)[number];
      const out = this.denoiser.apply(g, x, g.constant([t], [1]), cond);
      const eps = sample ? g.mul(g.sub(x, g.mul(out, co.d)), 1 / co.c) : out;
      let x0 = sample ? out : g.mul(g.sub(x, g.mul(eps, co.c)), 1 / co.d);
      if (clip) x0 = g.neg(g.min(g.neg(g.min(x0, 1)), 1)); // clamp to [−1, 1]
      x = g.add(g.mul(x0, co.a), g.mul(eps, co.b));
    });
    g.output(IO.sample, x);
    return g;
  }

  /** ONNX of `g` with weights taken by name from `params` laid out as `layout` (the training layout). */
  static compile(
    g: GraphBuilder,
    layout: ParamLayout,
    params: Float32Array,
    precision: WeightPrecision = "float32",
  ): OnnxModel {
    const own = ParamLayout.of(g);
    const values = new Float32Array(own.total);
    for (const e of own.entries) values.set(layout.view(params, e.name), e.offset);
    return inferenceModel(g, values, { symbolicBatch: false, precision });
  }
}
