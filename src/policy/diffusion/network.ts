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
import { guideGraph, guidanceOf } from "./guidance.ts";
import { DdimSampler } from "../schedulers/ddim.ts";
import type { Denoiser } from "../denoisers/denoiser.ts";
import { NoiseSchedule } from "../schedulers/noise-schedule.ts";
import { IO, featureInput, imageInput, type CameraShape } from "./inputs.ts";
import { ObservationEncoder } from "./observer.ts";
import { createDenoiser } from "../registry.ts";

/** The spectrogram transformer's options of config.audio (all but the window). */
function encoderOptions({ window: _window, ...options }: NonNullable<PolicyConfig["audio"]>): VitConfigInput {
  return options;
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
  /** Goal-embedding policies (config.goal.embedding): D, the width of the CLIP image embedding. */
  goalEmbeddingDim?: number;
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
  /**
   * The scope of the instruction encoder's parameters in every graph (the observer's "obs", the instruction input's
   * "language"): `obs.language.token.weight` is the TextTransformer's `token.weight` (train --text-from).
   */
  static readonly languageScope = "obs.language";
  readonly observer: ObservationEncoder;
  readonly denoiser: Denoiser;
  readonly schedule: NoiseSchedule;
  /** Dx = Da (+ Ds with joint state prediction). */
  readonly sampleDim: number;
  /** Dobs: features per observation step. */
  readonly obsDim: number;
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
    const embedded = config.goal?.embedding !== undefined;
    if (embedded !== (shape.goalEmbeddingDim !== undefined)) {
      throw new DuetError(
        embedded
          ? `${source}: policy.goal.embedding is set but the width of the goal's CLIP embedding is unknown (duet train --clip DIR gives it)`
          : `${source}: a goal-embedding width is given but policy.goal.embedding is not set`,
      );
    }
    this.sound = soundWindowOf(config, shape.audioSamples ?? 0);
    const hearing =
      a && this.sound
        ? new AudioEncoder(
            { ...encoderOptions(a), height: this.sound.rows, width: this.sound.mels },
            `${source}: policy.audio`,
          )
        : null;
    this.observer = new ObservationEncoder({
      stateDim: shape.stateDim,
      obsSteps: config.obsSteps,
      cameras: shape.cameras,
      encoder,
      observeState: config.observeState,
      sceneDim: shape.sceneDim ?? 0,
      text: config.language && new TextTransformer(config.language, `${source}: policy.language`),
      goalCamera: config.goal && !embedded ? config.goal.camera : null,
      goalEmbedding:
        config.goal && shape.goalEmbeddingDim !== undefined
          ? { camera: config.goal.camera, dim: shape.goalEmbeddingDim }
          : null,
      hearing: hearing && this.sound ? { encoder: hearing, sound: this.sound } : null,
    });
    if (config.observeScene !== this.observer.sceneDim > 0) {
      throw new DuetError(
        `${source}: policy.observeScene is ${config.observeScene} but the shape has ${this.observer.sceneDim} scene entries`,
      );
    }
    this.obsDim = this.observer.featureDim;
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
   * The observation inputs for batch `b` (the observer's table, or with `frozenObserver` the cameras as their
   * encoder's features: the encoder is not in the graph) → cond `B,To,Dobs`.
   */
  private obsInputs(g: GraphBuilder, b: number, frozenObserver = false): Tensor {
    const table = frozenObserver ? this.observer.frozenInputs() : this.observer.inputs;
    const tensors = table.map((input) => input.tensors(b).map((t) => g.input(t.name, t.dims, { dtype: t.dtype })));
    return this.observer.apply(g, table, tensors, b);
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
    if (enc.frames !== 1) {
      // the frozen observer's cache holds one feature vector per frame; a clip's features depend on the whole window
      throw new DuetError(
        `policy.encoder: a video encoder (frames = ${enc.frames}) cannot be frozen (duet train --observer-from caches per-frame features); train it jointly with the policy`,
      );
    }
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
    g.inference = true;
    g.output(IO.cond, this.obsInputs(g, 1));
    return g;
  }

  /** Per-step denoiser graph (batch 1): sample `1,Tp,Dx`, timestep `1`, cond `1,To,Dobs` → pred `1,Tp,Dx`. */
  denoiserGraph(): GraphBuilder {
    const g = new GraphBuilder();
    g.inference = true;
    const x = g.input(IO.sample, [1, this.config.predSteps, this.sampleDim]);
    const t = g.input(IO.timestep, [1]);
    const cond = g.input(IO.cond, [1, this.config.obsSteps, this.obsDim]);
    g.output(IO.pred, this.denoiser.apply(g, x, t, cond));
    return g;
  }

  /**
   * The whole DDIM loop of `steps` steps unrolled into one graph (batch 1; shared weights), guided as the config's
   * inference.guidance says: noise `1,Tp,Dx`, cond → sample `1,Tp,Dx` (normalized, clipped x̂0 of the last step).
   */
  samplerGraph(steps: number): GraphBuilder {
    const g = new GraphBuilder();
    g.inference = true;
    const noise = g.input(IO.noise, [1, this.config.predSteps, this.sampleDim]);
    const cond = g.input(IO.cond, [1, this.config.obsSteps, this.obsDim]);
    g.output(IO.sample, this.unrolledDdim(g, noise, cond, steps));
    return g;
  }

  /**
   * The unrolled DDIM loop of `steps` steps for a batch of `b` on a frozen observer (a distillation teacher's,
   * train/teacher.ts): the observation inputs with the cameras as their encoder's features, and noise `B,Tp,Dx` →
   * sample `B,Tp,Dx`. The same function as `encoderGraph` then `samplerGraph`, batched.
   */
  frozenSamplerGraph(steps: number, b: number): GraphBuilder {
    const g = new GraphBuilder();
    g.inference = true;
    const cond = this.obsInputs(g, b, true);
    const noise = g.input(IO.noise, [b, this.config.predSteps, this.sampleDim]);
    g.output(IO.sample, this.unrolledDdim(g, noise, cond, steps));
    return g;
  }

  /**
   * Distillation loss for batch `b` (train/teacher.ts): the student's whole DDIM loop of `steps` steps unrolled, as
   * `samplerGraph` exports it, from noise `B,Tp,Dx` (the starting noise, already at the inference noise scale) to
   * its sample; loss = mse(sample, target `B,Tp,Dx`), the teacher's sample from the same noise and observation. The
   * gradient flows through every step (and the clipping of x̂0). Output `pred` is the student's sample.
   */
  distillationLoss(b: number, steps: number, training = true, frozenObserver = false): TrainingLossGraph {
    const g = new GraphBuilder();
    g.training = training;
    const cond = this.obsInputs(g, b, frozenObserver);
    const target = g.input(IO.target, [b, this.config.predSteps, this.sampleDim]);
    const noise = g.input(IO.noise, [b, this.config.predSteps, this.sampleDim]);
    const pred = this.unrolledDdim(g, noise, cond, steps);
    g.output(IO.pred, pred);
    const loss = mseLoss(g, pred, target);
    return { g, loss, actionLoss: loss };
  }

  /**
   * DDIM from `x` `B,Tp,Dx` over `steps` steps, each timestep a constant (so FiLM's step projections fold). With the
   * config's guidance w ≠ 1 (guidance.ts) each step denoises a batch of 2B, the rows with the instruction and the same
   * rows with the null instruction, and steps with the guided prediction; w = 1 builds the unguided graph.
   */
  private unrolledDdim(g: GraphBuilder, x: Tensor, cond: Tensor, steps: number): Tensor {
    const b = x.shape[0] as number;
    const w = guidanceOf(this.config);
    const c = w === 1 ? cond : g.concat([cond, this.observer.withoutInstruction(g, cond)], 0);
    const rows = c.shape[0] as number;
    return new DdimSampler(this.schedule, steps).unroll(g, x, (xt, t) => {
      const t1 = g.constant(new Float32Array(rows).fill(t), [rows]);
      const pred = this.denoiser.apply(g, w === 1 ? xt : g.concat([xt, xt], 0), t1, c);
      return w === 1 ? pred : guideGraph(g, pred, b, w);
    });
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
