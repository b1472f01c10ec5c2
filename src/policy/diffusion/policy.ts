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
import {
  AUDIO_SAMPLE_RATE,
  DuetError,
  Rng,
  type ActionChunk,
  type Observation,
  type Policy,
} from "../../core/index.ts";
import type { Executor, TensorData } from "../../runtime/index.ts";
import { ByteTokenizer, type SoundWindow } from "../../encoders/index.ts";
import { historyStepsOf, pickEntries, sceneIndices, soundWindowOf } from "./config.ts";
import { DdimSampler } from "../schedulers/ddim.ts";
import { DdpmSampler } from "../schedulers/ddpm.ts";
import type { PolicyModel } from "./model-file.ts";
import { IO, imageInput } from "./network.ts";
import { NoiseSchedule } from "../schedulers/noise-schedule.ts";
import { MinMaxNormalizer } from "../normalizer.ts";

/** How a loaded policy samples. */
export interface SamplingOptions {
  /**
   * "unrolled": the single sampler graph (DDIM at the trained steps), the default where the model has one and the
   * step count is the trained one: one run instead of one per step, 10–27% faster in the bench runs (docs/experiments). "loop": one
   * denoiser run per step, any step count.
   */
  mode?: "loop" | "unrolled";
  /** DDIM steps (default the model's config.scheduler.inferenceSteps); loop mode only. */
  inferenceSteps?: number;
  /** Standard deviation of the noise a chunk starts from (default: config.scheduler.noiseScale, else 1). */
  noiseScale?: number;
  /**
   * Seconds on the observations' clock (`Observation.time`) now. When set, actions whose time has passed while
   * inference ran are dropped from the returned chunk (at least one is kept). Unset: nothing is dropped (simulation).
   */
  clock?: () => number;
  /**
   * Temporal ensembling: each chunk's actions blended with the previous chunk's at the same times, weight β on the
   * previous (default: the model's config.ensemble).
   */
  ensemble?: number;
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
  private readonly stateNorm: MinMaxNormalizer;
  private readonly actionNorm: MinMaxNormalizer;
  /** Privileged policies (config.observeScene): the scene state's normalizer, else null. */
  private readonly sceneNorm: MinMaxNormalizer | null;
  private readonly sampler: DdimSampler | DdpmSampler | null;
  /** How chunks are sampled (SamplingOptions.mode). */
  readonly mode: "loop" | "unrolled";
  private rng = new Rng(0);
  /** The last chunk returned (absolute targets, blended) and its observation time, for `ensemble`. */
  private previous: { time: number; actions: Float32Array } | null = null;
  /** `episodeNoise`: the episode's noise, drawn at its first chunk. */
  private noise: Float32Array | null = null;
  // Scratch buffers (not reentrant: await each predictChunk before the next).
  private readonly stateRaw: Float32Array;
  private readonly stateBuf: Float32Array;
  private readonly sceneRaw: Float32Array;
  /** The whole scene state normalized, and the entries the policy reads (config.sceneEntries) at `sceneIdx`. */
  private readonly sceneFull: Float32Array;
  private readonly sceneIdx: readonly number[];
  private readonly sceneBuf: Float32Array;
  /** Hearing policies: the sound window, its normalisation and its spectrogram feed `1,rows,mels`. */
  private readonly sound: SoundWindow | null;
  private readonly audioNorm: { mean: number; std: number };
  private readonly audioBuf: Float32Array;
  private readonly imageBufs: Float32Array[];
  /** Language-conditioned policies: the tokenizer and the instruction the token feeds hold now. */
  private readonly tokenizer: ByteTokenizer | null;
  private instruction: string | null = null;
  /** Goal-conditioned policies: the goal camera and its picture's buffer `1,H,W,3`. */
  private readonly goalCamera: { name: string; width: number; height: number } | null;
  private readonly goalBuf: Float32Array;
  private readonly x: Float32Array;
  private readonly tBuf = new Float32Array(1);
  private readonly feeds: Record<string, TensorData> = {};

  constructor(
    readonly model: PolicyModel,
    private readonly graphs: PolicyGraphs,
    private readonly options: SamplingOptions = {},
    /** Names the model in errors. */
    readonly label = "policy",
  ) {
    const c = model.config;
    this.obsHorizon = c.obsSteps;
    this.predictionHorizon = c.predSteps;
    this.actionHorizon = c.actionSteps;
    this.stateNorm = new MinMaxNormalizer(model.normalizer.state);
    this.actionNorm = new MinMaxNormalizer(model.normalizer.action);
    const env = model.normalizer.environment;
    this.sceneNorm = c.observeScene && env ? new MinMaxNormalizer(env) : null;
    const deFull = this.sceneNorm?.dim ?? 0;
    this.sceneIdx = this.sceneNorm ? sceneIndices(c, model.environmentNames ?? [], label) : [];
    const de = this.sceneIdx.length;
    this.sceneRaw = new Float32Array(c.obsSteps * deFull);
    this.sceneFull = new Float32Array(c.obsSteps * deFull);
    this.sceneBuf = new Float32Array(c.obsSteps * de);
    this.sound = soundWindowOf(c, AUDIO_SAMPLE_RATE / model.fps);
    this.historySteps = historyStepsOf(c);
    this.audioNorm = model.normalizer.audio ?? { mean: 0, std: 1 };
    this.audioBuf = new Float32Array(this.sound?.size ?? 0);
    if (this.sound) this.feeds[IO.audio] = { data: this.audioBuf, dims: [1, this.sound.rows, this.sound.mels] };
    const ds = model.stateNames.length;
    const dx = model.actionNames.length + (c.predictStates ? ds : 0);
    this.stateRaw = new Float32Array(c.obsSteps * ds);
    this.stateBuf = new Float32Array(c.obsSteps * ds);
    this.imageBufs = model.cameras.map((cam) => new Float32Array(c.obsSteps * cam.height * cam.width * 3));
    this.x = new Float32Array(c.predSteps * dx);
    const steps = options.inferenceSteps ?? c.scheduler.inferenceSteps;
    const hasSampler = graphs.sampler !== null && c.objective === "diffusion";
    this.mode = options.mode ?? (hasSampler && steps === c.scheduler.inferenceSteps ? "unrolled" : "loop");
    if (this.mode === "unrolled" && !hasSampler) {
      throw new DuetError(`${label}: no unrolled sampler graph in this model; use mode "loop"`);
    }
    if (this.mode === "unrolled" && steps !== c.scheduler.inferenceSteps) {
      throw new DuetError(
        `${label}: the unrolled sampler graph runs the trained ${c.scheduler.inferenceSteps} DDIM steps, not ${steps}; use mode "loop"`,
      );
    }
    const schedule = new NoiseSchedule(c.scheduler);
    this.sampler =
      c.objective === "regression"
        ? null
        : c.scheduler.sampler === "ddpm"
          ? new DdpmSampler(schedule)
          : new DdimSampler(schedule, options.inferenceSteps ?? c.scheduler.inferenceSteps);
    // the state is still read (relative actions, NaN checks); the encoder only takes it when it looks at it
    if (c.observeState) this.feeds[IO.state] = { data: this.stateBuf, dims: [1, c.obsSteps, ds] };
    if (de > 0) this.feeds[IO.environment] = { data: this.sceneBuf, dims: [1, c.obsSteps, de] };
    model.cameras.forEach((cam, i) => {
      this.feeds[imageInput(cam.name)] = {
        data: this.imageBufs[i] as Float32Array,
        dims: [1, c.obsSteps, cam.height, cam.width, 3],
      };
    });
    this.tokenizer = c.language ? new ByteTokenizer(c.language.maxTokens) : null;
    const goal = c.goal;
    this.goalCamera = goal ? (model.cameras.find((cam) => cam.name === goal.camera) ?? null) : null;
    if (goal && !this.goalCamera) {
      throw new DuetError(`${label}: config.goal.camera "${goal.camera}" is not one of the model's cameras`);
    }
    const gc = this.goalCamera;
    this.goalBuf = new Float32Array(gc ? gc.height * gc.width * 3 : 0);
    if (gc) this.feeds[IO.goal] = { data: this.goalBuf, dims: [1, gc.height, gc.width, 3] };
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
      const scale = this.options.noiseScale ?? this.model.config.scheduler.noiseScale ?? 1;
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
        for (let k = 0; k < s.steps; k++) {
          this.tBuf[0] = s.timesteps[k] as number;
          const eps = await this.denoise(x, cond);
          if (s instanceof DdpmSampler) s.step(k, eps, x, this.rng);
          else s.step(k, eps, x);
        }
      }
    }
    const da = this.model.actionNames.length;
    const actions = new Float32Array(rows * da);
    const row = new Float32Array(da);
    // relative: offsets from the latest observed state (its raw values are the last row of stateRaw)
    const base = this.model.config.actions === "relative" ? this.stateRaw.subarray(this.stateRaw.length - da) : null;
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
    const beta = this.options.ensemble ?? this.model.config.ensemble;
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

  /** Copy observation step k's scene state (privileged policies), refusing a missing, short or non-finite one. */
  private readScene(obs: Observation, age: number, k: number): void {
    const names = this.model.environmentNames ?? [];
    const de = names.length;
    const e = obs.environmentState;
    if (!e || e.length !== de) {
      throw new DuetError(
        `${this.label}: observation t-${age} has ${e ? `${e.length} environment-state values` : "no environment state"}, expected ${de}: this policy observes the simulator's scene state (config.observeScene) and runs in simulation only`,
      );
    }
    for (let j = 0; j < de; j++) {
      const v = e[j] as number;
      if (!Number.isFinite(v)) {
        throw new DuetError(
          `${this.label}: observation t-${age} environment state ${names[j]} is ${v}; no action taken`,
        );
      }
      this.sceneRaw[k * de + j] = v;
    }
  }

  /**
   * The sound of the last `window` observations (fewer: the oldest repeated, as in training) → the spectrogram feed, refusing an
   * observation without sound, with another number of samples, or with a non-finite one.
   */
  private readAudio(history: readonly Observation[], sound: SoundWindow): void {
    const { periods, samples, wave } = sound;
    for (let k = 0; k < periods; k++) {
      const obs = history[Math.max(0, history.length - periods + k)] as Observation;
      const age = Math.min(periods - 1 - k, history.length - 1);
      const a = obs.audio;
      if (!a || a.length !== samples) {
        throw new DuetError(
          `${this.label}: observation t-${age} has ${a ? `${a.length} audio samples` : "no audio"}, expected ${samples} (one control period at ${AUDIO_SAMPLE_RATE} Hz): this policy hears (config.audio); run the simulator with audio; no action taken`,
        );
      }
      const bad = a.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new DuetError(`${this.label}: observation t-${age} audio sample ${bad} is ${a[bad]}; no action taken`);
      wave.set(a, k * samples);
    }
    sound.write(this.audioBuf, 0, this.audioNorm.mean, this.audioNorm.std);
  }

  /** Tokenize the latest observation's instruction into the feeds (again only when it changed). */
  private readInstruction(obs: Observation, tokenizer: ByteTokenizer): void {
    const text = obs.instruction;
    if (text === undefined) {
      throw new DuetError(
        `${this.label}: the observation carries no instruction, and this policy is language-conditioned ` +
          `(config.language): it needs to be told the task (duet sim/eval --instruction, or a multi-task scenario); no action taken`,
      );
    }
    if (text === this.instruction) return;
    const t = tokenizer.batch([text]);
    this.feeds[IO.instructionIds] = { data: t.ids, dims: t.dims };
    this.feeds[IO.instructionEos] = { data: t.eos, dims: t.dims };
    this.instruction = text;
  }

  /** Copy the latest observation's goal picture into its feed, refusing a missing or mis-sized one. */
  private readGoal(obs: Observation, cam: { name: string; width: number; height: number }): void {
    const goal = obs.goal;
    if (!goal) {
      throw new DuetError(
        `${this.label}: the observation carries no goal picture, and this policy is goal-conditioned (config.goal): ` +
          `give it a ${cam.width}x${cam.height} frame of camera "${cam.name}" showing the task done (duet sim/eval --goal); no action taken`,
      );
    }
    if (goal.width !== cam.width || goal.height !== cam.height || goal.data.length !== cam.width * cam.height * 3) {
      throw new DuetError(
        `${this.label}: the goal picture is ${goal.width}x${goal.height} (${goal.data.length} bytes), expected a ${cam.width}x${cam.height} RGB frame of camera "${cam.name}"`,
      );
    }
    for (let p = 0; p < goal.data.length; p++) this.goalBuf[p] = (goal.data[p] as number) / 127.5 - 1;
  }

  /** Validate the observations, fill the input buffers, run the encoder graph → cond `1,To,Dobs`. */
  private async encode(history: readonly Observation[]): Promise<TensorData> {
    const to = this.obsHorizon;
    if (history.length === 0) throw new DuetError(`${this.label}: predictChunk needs at least one observation`);
    const ds = this.model.stateNames.length;
    for (let k = 0; k < to; k++) {
      const obs = history[Math.max(0, history.length - to + k)] as Observation;
      const age = to - 1 - k;
      if (obs.state.length !== ds) {
        throw new DuetError(`${this.label}: observation t-${age} has ${obs.state.length} state values, expected ${ds}`);
      }
      for (let j = 0; j < ds; j++) {
        const v = obs.state[j] as number;
        if (!Number.isFinite(v)) {
          throw new DuetError(
            `${this.label}: observation t-${age} state[${j}] (${this.model.stateNames[j]}) is ${v}; no action taken`,
          );
        }
        this.stateRaw[k * ds + j] = v;
      }
      if (this.sceneNorm) this.readScene(obs, age, k);
      if (k === to - 1 && this.tokenizer) this.readInstruction(obs, this.tokenizer);
      if (k === to - 1 && this.goalCamera) this.readGoal(obs, this.goalCamera);
      this.model.cameras.forEach((cam, i) => {
        const frame = obs.images[cam.name];
        if (!frame) {
          throw new DuetError(
            `${this.label}: observation t-${age} has no image from camera "${cam.name}" (has: ${Object.keys(obs.images).join(", ") || "none"})`,
          );
        }
        if (frame.width !== cam.width || frame.height !== cam.height) {
          throw new DuetError(
            `${this.label}: camera "${cam.name}" frame is ${frame.width}x${frame.height}, expected ${cam.width}x${cam.height}`,
          );
        }
        const buf = this.imageBufs[i] as Float32Array;
        const n = cam.width * cam.height * 3;
        const src = frame.data;
        for (let p = 0, q = k * n; p < n; p++, q++) buf[q] = (src[p] as number) / 127.5 - 1;
      });
    }
    this.stateNorm.normalize(this.stateRaw, this.stateBuf);
    if (this.sceneNorm) {
      this.sceneNorm.normalize(this.sceneRaw, this.sceneFull);
      pickEntries(this.sceneFull, this.sceneIdx, this.sceneBuf);
    }
    if (this.sound) this.readAudio(history, this.sound);
    const out = await this.graphs.encoder.run(this.feeds);
    const cond = out[IO.cond];
    if (!cond) throw new DuetError(`${this.label}: encoder output '${IO.cond}' missing`);
    return cond;
  }
}
