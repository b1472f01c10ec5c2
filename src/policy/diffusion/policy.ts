// The diffusion policy at run time: observation encoding once per control step, then the DDIM (or DDPM) loop over the
// denoiser graph, or one unrolled sampler graph; receding horizon (Ta) is exposed for the runner.
//
// Timeline (To = 2, Tp = 10, Ta = 8; one control step = 1/fps s):
//   obs:     o[t-1] o[t]
//   chunk:          a[t] a[t+1] … a[t+9]          (predictChunk)
//   execute:        a[t] … a[t+7], then plan again from o[t+8]   (the runner, Ta = actionHorizon)
//   slow inference: with a clock, actions whose time has passed (a[t] … a[t+k-1], k = ⌊elapsed·fps⌋) are dropped.
//   ensemble β:     a[t+j] ← (1−β)·a[t+j] + β·a'[t+j] where the previous chunk a' (itself blended) covers t+j, its
//                   steps matched by observation time, so the same code blends in simulation and on the robot.
import { DuetError, Rng, type ActionChunk, type Observation, type Policy } from "../../core/index.ts";
import type { Executor, TensorData } from "../../runtime/index.ts";
import { MinMaxNormalizer } from "../normalizer.ts";
import { createSampler, type Sampler } from "../schedulers/index.ts";
import { historyStepsOf, sceneIndices } from "./config.ts";
import { guidanceOf, guide } from "./guidance.ts";
import type { InferenceOverrides } from "./inference.ts";
import { IO, allocateInputs, type InputData, type ObservationInput, type ObserveContext } from "./inputs.ts";
import type { PolicyModel } from "./model-file.ts";
import type { PolicyNetwork } from "./network.ts";
import type { ObservationEncoder } from "./observer.ts";

/**
 * How a loaded policy samples: the model's inference settings overridden (InferenceOverrides: Ta, ensemble, DDIM
 * steps, noise scale, guidance), and how the graphs are run.
 */
export interface SamplingOptions extends InferenceOverrides {
  /**
   * "unrolled": the single sampler graph (DDIM at the trained steps and the model's guidance), the default where the
   * model has one and the step count and guidance are the model's: one run instead of one per step, 10–27% faster in
   * the bench runs (docs/experiments). "loop": one denoiser run per step (two with guidance ≠ 1), any step count and
   * guidance.
   */
  mode?: "loop" | "unrolled";
  /**
   * Seconds on the observations' clock (`Observation.time`) now. When set, actions whose time has passed while
   * inference ran are dropped from the returned chunk (at least one is kept). Unset: nothing is dropped (simulation).
   */
  clock?: () => number;
  /**
   * Start every chunk of an episode (between `reset`s) from the same noise instead of fresh noise: consecutive chunks
   * then differ only by their observations (default false; it did not help the transformer, docs/experiments).
   */
  episodeNoise?: boolean;
}

/** The graphs a policy runs. `sampler` may be null (no unrolled graph exported). */
export interface PolicyGraphs {
  encoder: Executor;
  denoiser: Executor;
  sampler: Executor | null;
}

/**
 * Drop the first k = ⌊elapsed·fps⌋ actions of `chunk` (their time has passed), keeping at least one.
 * Returns a chunk over the same buffer (a subarray), so it allocates no action data.
 */
export function dropElapsed(chunk: ActionChunk, elapsedSeconds: number, fps: number): ActionChunk {
  const k = Math.min(chunk.horizon - 1, Math.max(0, Math.floor(elapsedSeconds * fps + 1e-9)));
  if (k === 0) return chunk;
  return { actions: chunk.actions.subarray(k * chunk.dim), horizon: chunk.horizon - k, dim: chunk.dim };
}

function f32(out: Record<string, TensorData>, name: string, label: string): Float32Array {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array)) throw new DuetError(`${label}: graph output '${name}' missing`);
  return t.data;
}

export class DiffusionPolicy implements Policy {
  /** To */
  readonly obsHorizon: number;
  /** Tp */
  readonly predictionHorizon: number;
  /** Ta: actions to execute before planning again (the runner's actionHorizon). */
  readonly actionHorizon: number;
  /** Observations `predictChunk` wants in its history: To, or the sound window's periods for a hearing policy. */
  readonly historySteps: number;
  private readonly actionNorm: MinMaxNormalizer;
  private readonly sampler: Sampler | null;
  /** How chunks are sampled (SamplingOptions.mode). */
  readonly mode: "loop" | "unrolled";
  private readonly noiseScale: number;
  private readonly ensemble: number;
  /** Classifier-free guidance scale on the instruction (1: none; guidance.ts). */
  readonly guidance: number;
  /** Language-conditioned policies: the instruction's entry and its feature slice (ObservationEncoder.instruction). */
  private readonly instruction: ObservationEncoder["instruction"];
  /** Guided loop: the null instruction's features, read at the first chunk (`unconditional`). */
  private blank: Float32Array | null = null;
  private rng = new Rng(0);
  /** The last chunk returned (absolute targets, blended) and its observation time, for `ensemble`. */
  private previous: { time: number; actions: Float32Array } | null = null;
  /** `episodeNoise`: the episode's noise, drawn at its first chunk. */
  private noise: Float32Array | null = null;
  /** The observation-input table and its buffers (batch 1); not reentrant: await each predictChunk before the next. */
  private readonly inputs: readonly ObservationInput[];
  private readonly inputData: InputData[][];
  private readonly feeds: Record<string, TensorData>;
  private readonly context: ObserveContext;
  private readonly x: Float32Array;
  private readonly tBuf = new Float32Array(1);

  constructor(
    readonly model: PolicyModel,
    /** The network model.json describes (for its observation-input table). */
    network: PolicyNetwork,
    private readonly graphs: PolicyGraphs,
    private readonly options: SamplingOptions = {},
    /** Names the model in errors. */
    readonly label = "policy",
  ) {
    const c = model.config;
    const run = { ...c.inference, ...definedOf(options) };
    if (run.actionSteps > c.predSteps) {
      throw new DuetError(
        `${label}: Ta ${run.actionSteps} exceeds the model's chunk of ${c.predSteps} steps (config.predSteps)`,
      );
    }
    this.obsHorizon = c.obsSteps;
    this.predictionHorizon = c.predSteps;
    this.actionHorizon = run.actionSteps;
    this.historySteps = historyStepsOf(c);
    this.noiseScale = run.noiseScale ?? 1;
    this.ensemble = run.ensemble;
    this.guidance = run.guidance ?? 1;
    const w = this.guidance;
    if (w !== 1 && (c.language === null || c.objective !== "diffusion" || !(w >= 0 && w <= 20))) {
      throw new DuetError(
        `${label}: guidance ${w}: ${c.language === null ? "this policy reads no instruction (config.language is null), and guidance weighs the instruction; leave it unset (1)" : c.objective !== "diffusion" ? "a regression policy does not denoise; leave it unset (1)" : "expected a number in [0, 20]"}`,
      );
    }
    this.instruction = network.observer.instruction;
    this.actionNorm = new MinMaxNormalizer(model.normalizer.action);
    const env = model.normalizer.environment;
    const environmentNames = model.environmentNames ?? [];
    this.context = {
      label,
      stateNames: model.stateNames,
      environmentNames,
      norm: {
        state: new MinMaxNormalizer(model.normalizer.state),
        scene:
          c.observeScene && env
            ? { norm: new MinMaxNormalizer(env), indices: sceneIndices(c, environmentNames, label) }
            : null,
        audio: model.normalizer.audio ?? null,
      },
    };
    this.inputs = network.observer.inputs;
    const { data, feeds } = allocateInputs(this.inputs, 1);
    this.inputData = data;
    this.feeds = feeds;
    this.x = new Float32Array(c.predSteps * network.sampleDim);
    const steps = run.inferenceSteps;
    const trained = c.inference.inferenceSteps;
    const hasSampler = graphs.sampler !== null && c.objective === "diffusion";
    const exported = guidanceOf(c);
    this.mode = options.mode ?? (hasSampler && steps === trained && this.guidance === exported ? "unrolled" : "loop");
    if (this.mode === "unrolled" && !hasSampler) {
      throw new DuetError(`${label}: no unrolled sampler graph in this model; use mode "loop"`);
    }
    if (this.mode === "unrolled" && steps !== trained) {
      throw new DuetError(
        `${label}: the unrolled sampler graph runs the trained ${trained} DDIM steps, not ${steps}; use mode "loop"`,
      );
    }
    if (this.mode === "unrolled" && this.guidance !== exported) {
      throw new DuetError(
        `${label}: the unrolled sampler graph runs the model's guidance ${exported}, not ${this.guidance}; use mode "loop" (or re-export the model with duet export policy --guidance)`,
      );
    }
    this.sampler = c.objective === "regression" ? null : createSampler(c.scheduler, steps);
  }

  /** Diffusion steps one chunk takes (1 for regression). */
  get denoisingSteps(): number {
    return this.sampler?.steps ?? 1;
  }

  reset(seed: number): void {
    this.rng = new Rng(seed);
    this.previous = null;
    this.noise = null;
  }

  /** `history`: the last To observations, oldest first (fewer: the oldest is repeated). → Tp,Da absolute targets. */
  async predictChunk(history: readonly Observation[]): Promise<ActionChunk> {
    const cond = await this.encode(history);
    const x = this.x;
    const rows = this.predictionHorizon;
    const dx = x.length / rows;
    if (this.sampler === null) {
      x.fill(0);
      this.tBuf[0] = 0;
      x.set(await this.denoise(x, cond));
      for (let i = 0; i < x.length; i++) x[i] = Math.max(-1, Math.min(1, x[i] as number));
    } else {
      const scale = this.noiseScale;
      if (this.options.episodeNoise) {
        const noise = (this.noise ??= Float32Array.from(x, () => this.rng.normal()));
        for (let i = 0; i < x.length; i++) x[i] = scale * (noise[i] as number);
      } else for (let i = 0; i < x.length; i++) x[i] = scale * this.rng.normal();
      if (this.mode === "unrolled") {
        const out = await (this.graphs.sampler as Executor).run({
          [IO.noise]: { data: x, dims: [1, rows, dx] },
          [IO.cond]: cond,
        });
        x.set(f32(out, IO.sample, this.label));
      } else {
        const s = this.sampler;
        const uncond = this.guidance === 1 ? null : await this.unconditional(cond);
        for (let k = 0; k < s.steps; k++) {
          this.tBuf[0] = s.timesteps[k] as number;
          const pred = await this.denoise(x, cond);
          if (uncond) guide(pred, await this.denoise(x, uncond), this.guidance);
          s.step(k, pred, x, this.rng);
        }
      }
    }
    const da = this.model.actionNames.length;
    const actions = new Float32Array(rows * da);
    const row = new Float32Array(da);
    // relative: offsets from the latest observed state
    const base = this.model.config.actions === "relative" ? (history.at(-1) as Observation).state : null;
    for (let t = 0; t < rows; t++) {
      this.actionNorm.unnormalize(x.subarray(t * dx, t * dx + da), row, t * da);
      if (base) for (let j = 0; j < da; j++) row[j] = (row[j] as number) + (base[j] as number);
      actions.set(row, t * da);
    }
    if (!actions.every(Number.isFinite)) throw new DuetError(`${this.label}: the network produced non-finite actions`);
    const chunk: ActionChunk = { actions, horizon: rows, dim: da };
    const last = history.at(-1) as Observation;
    this.blend(actions, last.time);
    return this.options.clock ? dropElapsed(chunk, this.options.clock() - last.time, this.model.fps) : chunk;
  }

  /** `ensemble`: blend `actions` (starting at `time`) with the previous chunk where it covers the same steps. */
  private blend(actions: Float32Array, time: number): void {
    const beta = this.ensemble;
    if (beta <= 0) return;
    const da = this.model.actionNames.length;
    const prev = this.previous;
    if (prev) {
      const k = Math.round((time - prev.time) * this.model.fps);
      for (let i = Math.max(0, -k) * da; i < actions.length && i + k * da < prev.actions.length; i++)
        actions[i] = (1 - beta) * (actions[i] as number) + beta * (prev.actions[i + k * da] as number);
    }
    this.previous = { time, actions: Float32Array.from(actions) };
  }

  private async denoise(x: Float32Array, cond: TensorData): Promise<Float32Array> {
    const out = await this.graphs.denoiser.run({
      [IO.sample]: { data: x, dims: [1, this.predictionHorizon, x.length / this.predictionHorizon] },
      [IO.timestep]: { data: this.tBuf, dims: [1] },
      [IO.cond]: cond,
    });
    return f32(out, IO.pred, this.label);
  }

  /**
   * Guided loop: `cond` with the instruction's features replaced by the null instruction's, as the unrolled sampler
   * does it (ObservationEncoder.withoutInstruction). They depend on no observation, so they are read once, from one
   * encoder run with the null instruction (the next `encode` writes the instruction again).
   */
  private async unconditional(cond: TensorData): Promise<TensorData> {
    const at = this.instruction as NonNullable<ObservationEncoder["instruction"]>;
    const to = this.obsHorizon;
    if (!this.blank) {
      at.input.writeBlank(this.inputData[this.inputs.indexOf(at.input)] as InputData[], 0);
      const out = f32(await this.graphs.encoder.run(this.feeds), IO.cond, this.label);
      this.blank = out.slice(at.offset, at.offset + at.input.featureDim);
    }
    const data = Float32Array.from(cond.data as Float32Array);
    for (let k = 0; k < to; k++) data.set(this.blank, (k * data.length) / to + at.offset);
    return { data, dims: cond.dims };
  }

  /** Check every observation step's state, fill the observation-input table, run the encoder → cond `1,To,Dobs`. */
  private async encode(history: readonly Observation[]): Promise<TensorData> {
    const to = this.obsHorizon;
    if (history.length === 0) throw new DuetError(`${this.label}: predictChunk needs at least one observation`);
    // checked even when the policy does not observe the state: relative actions are added to it
    const names = this.model.stateNames;
    for (let k = 0; k < to; k++) {
      const state = (history[Math.max(0, history.length - to + k)] as Observation).state;
      const age = to - 1 - k;
      if (state.length !== names.length) {
        throw new DuetError(
          `${this.label}: observation t-${age} has ${state.length} state values, expected ${names.length}`,
        );
      }
      const bad = state.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new DuetError(
          `${this.label}: observation t-${age} state[${bad}] (${names[bad]}) is ${state[bad]}; no action taken`,
        );
      }
    }
    this.inputs.forEach((input, i) => input.observe(history, this.inputData[i] as InputData[], this.context));
    const out = await this.graphs.encoder.run(this.feeds);
    const cond = out[IO.cond];
    if (!cond) throw new DuetError(`${this.label}: encoder output '${IO.cond}' missing`);
    return cond;
  }
}

/** The options that are set (an explicit undefined overrides nothing). */
function definedOf(options: InferenceOverrides): InferenceOverrides {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
