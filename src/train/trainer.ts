// The one training loop, for any policy config and any dataset: seeded batches of windows, AdamW with warm-up + cosine
// (fused into the training graph), EMA weights, periodic validation loss, checkpoints with exact resume, periodic
// evaluation through an injected evaluator (train does not import sim or runner), a log and a curves plot.
//
// Output folder (the model directory):
//   model.json encoder.onnx denoiser.onnx sampler.onnx     the exported policy (EMA weights)
//   train/checkpoint.safetensors                           params, AdamW moments, EMA, step, RNG state, history
//   train/log.jsonl  train/curves.png  train/config.json   one JSON object per event; loss/success plot; the config
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  ACTION_KEY,
  AUDIO_KEY,
  AUDIO_SAMPLE_RATE,
  DuetError,
  ENVIRONMENT_KEY,
  Rng,
  STATE_KEY,
  ValidationError,
  writeAtomic,
  type Issue,
} from "../core/index.ts";
import { Dataset, WindowSampler, formatProblem, splitEpisodes, validateDataset } from "../data/index.ts";
import {
  Ema,
  NonFiniteLossError,
  ParamLayout,
  TrainingGraph,
  buildTrainingGraph,
  checkpointMetadata,
  cosineWithWarmup,
  loadCheckpoint,
  saveCheckpoint,
  toOnnx,
  type WeightPrecision,
} from "../nn/index.ts";
import {
  INFERENCE_ONLY_FIELDS,
  IO,
  MinMaxNormalizer,
  PolicyNetwork,
  exportPolicy,
  sceneIndices,
  type CameraShape,
  type FeatureRange,
  type ModelInfo,
} from "../policy/index.ts";
import { Session } from "../runtime/index.ts";
import { ByteTokenizer } from "../encoders/index.ts";
import { BatchAssembler } from "./batch.ts";
import { FeatureCache, loadFrozenObserver, withObserver, type FrozenObserver } from "./frozen-observer.ts";
import { hearEpisodes, type EpisodeSounds } from "./hearing.ts";
import { relativeActionRange } from "./relative.ts";
import type { TrainConfig } from "./config.ts";
import { plotCurves, type Curves } from "./plot.ts";

/** Success rate of the policy exported to a directory (wired by the CLI to simulation rollouts). */
export type Evaluator = (policyDir: string) => Promise<{ success_rate: number }>;

export type TrainEvent =
  | { kind: "start"; step: number; totalSteps: number; params: number; trainWindows: number; valWindows: number }
  /** Computing a frozen observer's features (`--observer-from`): `done` of `total` camera frames. */
  | { kind: "features"; done: number; total: number }
  | { kind: "step"; step: number; loss: number; lr: number; samplesPerSecond: number }
  | { kind: "val"; step: number; loss: number; sceneLoss?: number }
  | { kind: "eval"; step: number; successRate: number }
  | { kind: "checkpoint"; step: number; path: string }
  | { kind: "done"; step: number };

export interface TrainOptions {
  /** Dataset root (LeRobot v3.0). */
  dataset: string;
  config: TrainConfig;
  /** Where the config came from (in errors and provenance). */
  configSource?: string;
  /** Model directory to write. */
  out: string;
  /** Continue from `out/train/checkpoint.safetensors` (default false: refuse if one exists). */
  resume?: boolean;
  /** Start a new run from another run's weights (`DIR/train/checkpoint.safetensors`, same network): its parameters
   * and EMA carry over, the optimizer moments, learning-rate schedule, data order and step count start afresh — a warm
   * restart, to train a finished model longer or fine-tune it on other data. */
  initFrom?: string;
  /**
   * Train on the frozen camera encoders of another run (`DIR/train/checkpoint.safetensors`, the same policy.encoder):
   * their EMA weights are exported unchanged, every frame's features are computed once, and only the rest of the
   * policy trains — at about the speed of a state-only policy, without image shifts or the scene loss (both train
   * the observer).
   */
  observerFrom?: string;
  evaluate?: Evaluator;
  onEvent?: (event: TrainEvent) => void;
  /** Stop (with a checkpoint) after this step, as if interrupted; default: the config's steps. */
  stopAtStep?: number;
  /** Extra provenance (e.g. the command line) stored in model.json. */
  provenance?: Record<string, unknown>;
  /** How the exported graphs store their weights (default float32; not part of the config, so a finished run can be
   * re-exported with `resume` and another precision). */
  weights?: WeightPrecision;
}

export interface TrainResult {
  step: number;
  /** Optimizer steps taken by this call (0 when a finished run was resumed: it was only re-exported). */
  trainedSteps: number;
  /** Mean training loss over the last logging window. */
  loss: number;
  valLoss: number | null;
  successRate: number | null;
  wallSeconds: number;
  samplesPerSecond: number;
  curves: Curves;
  modelDir: string;
}

export const CHECKPOINT_FILE = "train/checkpoint.safetensors";
/**
 * Decoded-frame cache while training, MB: decoding a PNG costs more than a training sample's share of a step. 8 GB
 * (a third of this 24 GB machine) holds ≈ 100 000 frames of three 96×96 cameras (uint8), so the 450-episode takeover
 * dataset (≈ 68 000 frames) fits; beyond, the least recently used frames are decoded again when drawn.
 */
const TRAIN_IMAGE_CACHE_MB = 8192;

/** Check the dataset against the config; every mismatch in one error, before anything trains. */
function datasetIssues(ds: Dataset, config: TrainConfig): { cameras: CameraShape[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const e = config.dataset;
  const spec = ds.spec;
  if (e.robotType !== undefined && e.robotType !== spec.robotType)
    issues.push({
      path: "dataset.robotType",
      expected: JSON.stringify(e.robotType),
      received: JSON.stringify(spec.robotType),
    });
  if (e.stateDim !== undefined && e.stateDim !== spec.stateNames.length)
    issues.push({ path: "dataset.stateDim", expected: String(e.stateDim), received: String(spec.stateNames.length) });
  if (e.actionDim !== undefined && e.actionDim !== spec.actionNames.length)
    issues.push({
      path: "dataset.actionDim",
      expected: String(e.actionDim),
      received: String(spec.actionNames.length),
    });
  if (e.fps !== undefined && e.fps !== spec.fps)
    issues.push({ path: "dataset.fps", expected: String(e.fps), received: String(spec.fps) });
  const p = config.policy;
  const byName = new Map(spec.cameras.map((c) => [c.name, c]));
  const names = p.cameras ?? (p.encoder ? spec.cameras.map((c) => c.name) : []);
  const cameras: CameraShape[] = [];
  names.forEach((n, i) => {
    const c = byName.get(n);
    if (!c) {
      issues.push({
        path: `policy.cameras.${i}`,
        expected: `a camera of the dataset (${[...byName.keys()].join(", ") || "none"})`,
        received: JSON.stringify(n),
      });
    } else cameras.push({ name: c.name, height: c.height, width: c.width });
  });
  if (names.length > 0 && !p.encoder)
    issues.push({ path: "policy.encoder", expected: "an encoder for the cameras", received: "null" });
  const stats = ds.stats();
  if (config.train.sceneLoss > 0 && ds.spec.environmentNames === undefined)
    issues.push({
      path: "train.sceneLoss",
      expected: `0, or a dataset with ${ENVIRONMENT_KEY} (recorded in simulation)`,
      received: String(config.train.sceneLoss),
    });
  if (p.observeScene && ds.spec.environmentNames === undefined)
    issues.push({
      path: "policy.observeScene",
      expected: `false, or a dataset with ${ENVIRONMENT_KEY} (recorded in simulation)`,
      received: "true",
    });
  if (p.observeScene && p.sceneEntries && ds.spec.environmentNames) {
    const names = ds.spec.environmentNames;
    p.sceneEntries.forEach((n, i) => {
      if (!names.includes(n))
        issues.push({
          path: `policy.sceneEntries.${i}`,
          expected: `an entry of the dataset's scene state (${names.join(", ")})`,
          received: JSON.stringify(n),
        });
    });
  }
  if (p.audio) {
    const want = AUDIO_SAMPLE_RATE / spec.fps;
    if (spec.audioSamples !== want)
      issues.push({
        path: "policy.audio",
        expected: `null, or a dataset with ${AUDIO_KEY} of ${want} samples per frame (duet record --audio)`,
        received:
          spec.audioSamples === undefined ? "a dataset without sound" : `${spec.audioSamples} samples per frame`,
      });
  }
  if (p.language) {
    // every task must tokenize: a language-conditioned policy learns nothing from a window it cannot read
    const tokenizer = new ByteTokenizer(p.language.maxTokens);
    for (const ep of ds.episodes) {
      const task = ep.tasks[0];
      let why: string | null = task === undefined ? "no task" : null;
      if (task !== undefined) {
        try {
          tokenizer.normalize(task);
        } catch (err) {
          why = (err as Error).message;
        }
      }
      if (why !== null) {
        issues.push({
          path: `meta/episodes episode ${ep.episodeIndex} task`,
          expected: `an instruction the text encoder reads (policy.language.maxTokens ${p.language.maxTokens})`,
          received: why,
        });
      }
    }
  }
  const scene = config.train.sceneLoss > 0 || p.observeScene;
  for (const key of [STATE_KEY, ACTION_KEY, ...(scene ? [ENVIRONMENT_KEY] : [])]) {
    if (!stats[key])
      issues.push({ path: `meta/stats.json ${key}`, expected: "min/max statistics", received: "nothing" });
  }
  return { cameras, issues };
}

/**
 * The scene state's normalization (the auxiliary target and the privileged input): min-max, each range widened to at
 * least `SCENE_MIN_SPAN` about its middle. Some entries barely move (the standing bottle's height and tilt: a 4 mm
 * range in a recording); min-max would blow their solver jitter up to ±1 and make the head chase noise. In metres (and
 * turns) 0.1 keeps a millimetre a millimetre.
 */
const SCENE_MIN_SPAN = 0.1;
function sceneRange(r: FeatureRange): FeatureRange {
  const min: number[] = [];
  const max: number[] = [];
  r.min.forEach((lo, i) => {
    const hi = r.max[i] as number;
    const half = Math.max(hi - lo, SCENE_MIN_SPAN) / 2;
    min.push((lo + hi) / 2 - half);
    max.push((lo + hi) / 2 + half);
  });
  return { min, max };
}

/** Training-config paths of the fields only inference reads (policy's list): a resumed run may change them. */
const INFERENCE_ONLY: readonly (readonly string[])[] = INFERENCE_ONLY_FIELDS.map((path) => ["policy", ...path]);

/** `config` as JSON without its inference-only fields: what must match for an exact resume. */
function trainingPart(config: unknown): string {
  const c = structuredClone(config) as Record<string, unknown>;
  for (const keys of INFERENCE_ONLY) {
    const parent = keys.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], c);
    if (parent && typeof parent === "object") delete (parent as Record<string, unknown>)[keys.at(-1) as string];
  }
  return JSON.stringify(c);
}

/**
 * A new run (not --resume) writes into `out` only when it is new or empty, so nothing is replaced by accident: a
 * model or run there is refused unless `--init-from` names that same folder (train it further in place); any other
 * non-empty folder is refused, as `duet record` refuses one.
 */
function checkNewOut(out: string, initFrom: string | undefined): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) {
    throw new DuetError(`--out ${out}: is a file, not a folder; name a new folder for the model`);
  }
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  const run = existsSync(join(out, CHECKPOINT_FILE));
  const model = existsSync(join(out, "model.json"));
  if (run || model) {
    if (initFrom !== undefined && resolve(initFrom) === resolve(out)) return;
    const what = run ? `a training run (${CHECKPOINT_FILE})` : "a model (model.json) that training would replace";
    throw new DuetError(
      `--out ${out}: already holds ${what}; pass --resume to continue it` +
        (run ? `, --init-from ${out} to train it further in place,` : "") +
        " or choose another --out",
    );
  }
  throw new DuetError(
    `--out ${out}: not empty (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", …" : ""}) and not a ` +
      "training run; choose a new or empty folder",
  );
}

/**
 * Resuming from the checkpoint of step `step`: the log keeps what happened up to it, so the steps trained again after
 * it are not logged twice (events without a step, such as observer features, stay).
 */
function truncateLog(file: string, step: number): void {
  if (!existsSync(file)) return;
  const kept = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => {
      if (line.trim() === "") return false;
      try {
        const e = JSON.parse(line) as { step?: unknown };
        return typeof e.step !== "number" || e.step <= step;
      } catch {
        return false; // a line cut short by the interruption
      }
    });
  writeAtomic(file, kept.map((l) => `${l}\n`).join(""));
}

/**
 * Train only on a dataset that `duet dataset validate` accepts, refusing with the problems it lists (an fps that does
 * not match the timestamps would otherwise train a model that `eval` then refuses; a wrong feature shape would be
 * blamed on the config).
 */
async function refuseInvalidDataset(root: string): Promise<void> {
  const report = await validateDataset(root);
  if (report.ok) return;
  const shown = 20;
  const n = report.problems.length;
  throw new DuetError(
    [
      `${root}: INVALID, ${n} problem${n === 1 ? "" : "s"} — training refused (duet dataset validate ${root} lists the same)`,
      ...report.problems.slice(0, shown).map(formatProblem),
      ...(n > shown ? [`  … and ${n - shown} more`] : []),
    ].join("\n"),
  );
}

/** Train (or resume training) a policy; exports the EMA model to `out` at every checkpoint and at the end. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const { config, out } = options;
  const source = options.configSource ?? "training config";
  const ts = config.train;
  const ckptPath = join(out, CHECKPOINT_FILE);
  const initPath = options.initFrom !== undefined ? join(options.initFrom, CHECKPOINT_FILE) : null;
  if (initPath !== null && options.resume) {
    throw new DuetError("--init-from starts a new run and --resume continues one; pass one of them");
  }
  if (!options.resume) checkNewOut(out, options.initFrom);
  if (options.resume && !existsSync(ckptPath)) {
    throw new DuetError(`${out}: nothing to resume (${CHECKPOINT_FILE} is missing)`);
  }
  if (options.resume) {
    const frozenFrom = checkpointMetadata(ckptPath).observer_from;
    if ((frozenFrom && resolve(frozenFrom)) !== (options.observerFrom && resolve(options.observerFrom))) {
      throw new DuetError(
        frozenFrom
          ? `${ckptPath}: was trained on the frozen observer of ${frozenFrom}; resume with --observer-from ${frozenFrom}`
          : `${ckptPath}: trained its own observer; resume without --observer-from`,
      );
    }
  }
  if (initPath !== null && !existsSync(initPath)) {
    throw new DuetError(
      `${options.initFrom}: cannot start from it (${CHECKPOINT_FILE} is missing; the models in git ship without ` +
        "their checkpoints, so start from a run trained on this machine)",
    );
  }

  // Decoded frames of the policy's cameras stay in memory (100 episodes of one 96×96 camera ≈ 440 MB); a frozen
  // observer reads each frame once.
  await refuseInvalidDataset(options.dataset);
  const frozen = options.observerFrom !== undefined;
  const dataset = await Dataset.open(options.dataset, { imageCacheMb: frozen ? 64 : TRAIN_IMAGE_CACHE_MB });
  const { cameras, issues } = datasetIssues(dataset, config);
  if (issues.length > 0) {
    throw new ValidationError(`${source}: does not match the dataset ${options.dataset} — training refused`, issues);
  }
  const stats = dataset.stats();
  const stateStats = stats[STATE_KEY] as { min: number[]; max: number[] };
  const actionStats = stats[ACTION_KEY] as { min: number[]; max: number[] };
  const spec = dataset.spec;
  const p = config.policy;
  const sceneNames = p.observeScene ? (spec.environmentNames ?? []) : [];
  const sceneIdx = p.observeScene ? sceneIndices(p, sceneNames, source) : [];
  const network = new PolicyNetwork(
    p,
    {
      stateDim: spec.stateNames.length,
      actionDim: spec.actionNames.length,
      cameras,
      sceneDim: sceneIdx.length,
      ...(p.audio && { audioSamples: AUDIO_SAMPLE_RATE / spec.fps }),
    },
    source,
  );
  const observer: FrozenObserver | null =
    frozen && options.observerFrom !== undefined
      ? loadFrozenObserver(options.observerFrom, join(options.observerFrom, CHECKPOINT_FILE), network, source)
      : null;
  // one range for the scene state, whether it is the auxiliary target, the privileged input or both
  const sceneStateRange =
    ts.sceneLoss > 0 || p.observeScene ? sceneRange(stats[ENVIRONMENT_KEY] as FeatureRange) : null;
  const used = dataset.episodes.filter((e) => e.success || !ts.successfulOnly).map((e) => e.episodeIndex);
  if (used.length === 0)
    throw new DuetError(`${options.dataset}: no successful episode to learn from (train.successfulOnly is on)`);
  let heard: EpisodeSounds | null = null;
  if (network.sound) {
    await dataset.load(used);
    heard = hearEpisodes(dataset, used, network.sound);
  }
  const normalizer = {
    state: { min: [...stateStats.min], max: [...stateStats.max] },
    action:
      p.actions === "relative"
        ? await relativeActionRange(dataset, used, p.obsSteps, p.predSteps, p.actionRange === "per-step")
        : { min: [...actionStats.min], max: [...actionStats.max] },
    ...(p.observeScene && sceneStateRange && { environment: sceneStateRange }),
    ...(heard && { audio: { mean: heard.mean, std: heard.std } }),
  };
  const split = splitEpisodes(used, { valFraction: ts.valFraction, seed: ts.seed });
  const windowOpts = {
    obsSteps: p.obsSteps,
    actionSteps: p.predSteps,
    cameras: observer ? [] : cameras.map((c) => c.name),
    environment: p.observeScene,
  };
  const trainSampler = await WindowSampler.create(dataset, { ...windowOpts, episodes: split.train });
  const valSampler =
    split.val.length > 0 ? await WindowSampler.create(dataset, { ...windowOpts, episodes: split.val }) : null;
  if (trainSampler.length === 0) throw new DuetError(`${options.dataset}: no training windows (empty dataset?)`);

  const stateNorm = new MinMaxNormalizer(normalizer.state);
  const actionNorm = new MinMaxNormalizer(normalizer.action);
  const sceneNorm = sceneStateRange ? new MinMaxNormalizer(sceneStateRange) : undefined;
  const scene = sceneNorm && ts.sceneLoss > 0 && !observer ? { weight: ts.sceneLoss, dim: sceneNorm.dim } : undefined;
  const features = observer
    ? await FeatureCache.compute(dataset, used, network, observer, {
        precision: options.weights ?? "float32",
        threads: ts.threads,
        onProgress: (done, total) => options.onEvent?.({ kind: "features", done, total }),
      })
    : null;
  const augment = {
    imageShift: ts.augment.imageShift,
    stateNoise: ts.augment.stateNoise,
    ...(scene && sceneNorm && { scene: sceneNorm }),
    ...(sceneNorm && p.observeScene && { observedScene: { norm: sceneNorm, indices: sceneIdx } }),
    ...(heard && { audio: heard }),
    ...(features && { features }),
  };
  const batches = new BatchAssembler(network, trainSampler, ts.batchSize, stateNorm, actionNorm, augment);

  // Training graph: forward + loss → autodiff → AdamW, one ONNX model.
  const { g, loss } = network.trainingLoss(ts.batchSize, true, scene, observer !== null);
  const program = buildTrainingGraph(g, loss, {
    weightDecay: ts.weightDecay,
    ...(ts.clipNorm !== null ? { clipNorm: ts.clipNorm } : {}),
  });
  const layout = program.layout;
  const session = await Session.create(program.model.bytes, { intraOpThreads: ts.threads, label: "training graph" });

  // Validation graph: the action loss (and the scene loss on its own), parameters as one flat input, no dropout.
  let validate: (() => Promise<{ loss: number; scene: number | null }>) | null = null;
  if (valSampler && valSampler.length > 0) {
    const vb = Math.min(ts.batchSize, valSampler.length);
    const v = network.trainingLoss(vb, false, scene, observer !== null);
    const params = v.g.input("params", [layout.total], { batchAxis: null });
    v.g.output("loss", v.actionLoss);
    if (v.sceneLoss) v.g.output(IO.sceneLoss, v.sceneLoss);
    const own = ParamLayout.of(v.g);
    if (own.signature() !== layout.signature())
      throw new DuetError("validation graph: parameter layout differs from training");
    const model = toOnnx(v.g, {
      name: "validation",
      outputs: v.sceneLoss ? ["loss", IO.sceneLoss] : ["loss"],
      params: { mode: "flat", layout: own, input: params },
    });
    const vs = await Session.create(model.bytes, { intraOpThreads: ts.threads, label: "validation graph" });
    const valBatches = new BatchAssembler(network, valSampler, vb, stateNorm, actionNorm, augment);
    validate = async () => {
      const rng = new Rng(ts.seed + 7919); // the same windows and noise every pass
      let sum = 0;
      let sceneSum = 0;
      for (let i = 0; i < ts.valBatches; i++) {
        const feeds = { ...valBatches.fill(rng, false), params: { data: ema.averaged, dims: [layout.total] } };
        const out = await vs.run(feeds);
        sum += (out.loss?.data as Float32Array)[0] as number;
        sceneSum += (out[IO.sceneLoss]?.data as Float32Array | undefined)?.[0] ?? 0;
      }
      return { loss: sum / ts.valBatches, scene: scene ? sceneSum / ts.valBatches : null };
    };
  }

  // State: fresh or from the checkpoint.
  const rng = new Rng(ts.seed);
  let curves: Curves = { train: [], val: [], success: [] };
  let priorWall = 0;
  /** The run a warm restart started from (model.json provenance.init_from). */
  let initFrom: { model: string; steps: number; wall_s: number } | null = null;
  let trainer: TrainingGraph;
  let ema: Ema;
  const configJson = JSON.stringify(config);
  if (options.resume) {
    const ck = loadCheckpoint(ckptPath, layout);
    let saved: unknown = null;
    try {
      saved = JSON.parse(ck.extra.config ?? "null");
    } catch {
      // unreadable: refused below as another config
    }
    if (saved === null || trainingPart(saved) !== trainingPart(config)) {
      throw new DuetError(
        `${ckptPath}: was trained with another config than ${source}; resume with the same config (only ` +
          `${INFERENCE_ONLY.map((keys) => keys.join(".")).join(", ")} may differ)`,
      );
    }
    if (!ck.m || !ck.v || !ck.ema || !ck.rng)
      throw new DuetError(`${ckptPath}: lacks optimizer/EMA/RNG state; cannot resume exactly`);
    trainer = new TrainingGraph(program, session, { params: ck.params, m: ck.m, v: ck.v, step: ck.step });
    ema = new Ema(ck.ema, { power: ts.ema.power, maxValue: ts.ema.maxValue });
    ema.steps = ck.step;
    rng.setState(ck.rng);
    curves = JSON.parse(ck.extra.curves ?? '{"train":[],"val":[],"success":[]}') as Curves;
    priorWall = Number(ck.extra.wall_s ?? 0);
    if (ck.extra.init_from) initFrom = JSON.parse(ck.extra.init_from) as typeof initFrom;
    truncateLog(join(out, "train/log.jsonl"), ck.step);
  } else {
    // A checkpoint made by another network is refused by loadCheckpoint, naming each parameter that differs.
    const start = initPath !== null ? loadCheckpoint(initPath, layout) : null;
    mkdirSync(join(out, "train"), { recursive: true });
    writeFileSync(join(out, "train/log.jsonl"), "");
    const init = start?.params ?? layout.init(ts.seed);
    trainer = new TrainingGraph(program, session, { params: init });
    ema = new Ema(start?.ema ?? init, { power: ts.ema.power, maxValue: ts.ema.maxValue });
    // the average keeps its horizon: a warm restart's first noisy steps do not overwrite it
    ema.steps = start?.step ?? 0;
    if (start && options.initFrom !== undefined) {
      initFrom = { model: options.initFrom, steps: start.step, wall_s: Math.round(Number(start.extra.wall_s ?? 0)) };
    }
  }
  // the config in force (a resume may have changed its inference-only fields)
  writeFileSync(join(out, "train/config.json"), `${JSON.stringify(config, null, 2)}\n`);
  const emit = (e: TrainEvent): void => {
    appendFileSync(join(out, "train/log.jsonl"), `${JSON.stringify({ ...e, time: new Date().toISOString() })}\n`);
    options.onEvent?.(e);
  };

  const total = ts.steps;
  const stopAt = Math.min(total, options.stopAtStep ?? total);
  const wall = (): number => priorWall + (performance.now() - started) / 1000;
  const modelInfo = (step: number): ModelInfo => ({
    robotType: spec.robotType,
    fps: spec.fps,
    stateNames: [...spec.stateNames],
    actionNames: [...spec.actionNames],
    ...(p.observeScene && { environmentNames: [...sceneNames] }),
    cameras,
    normalizer,
    provenance: {
      dataset: options.dataset,
      dataset_episodes: dataset.episodes.length,
      dataset_frames: dataset.totalFrames,
      train_episodes: split.train,
      val_episodes: split.val,
      config: source,
      steps: step,
      // a model exported from a checkpoint before the last step (an interrupted run) says so; commands that load it
      // warn or refuse (provenance.unfinished)
      total_steps: total,
      unfinished: step < total,
      seed: ts.seed,
      wall_s: Math.round(wall()),
      parameters: layout.total,
      ...(initFrom && { init_from: initFrom }),
      ...(observer && { observer_from: { model: observer.from, steps: observer.steps, wall_s: observer.wall_s } }),
      created: new Date().toISOString(),
      ...options.provenance,
    },
  });
  const exportNow = (step: number): void => {
    const w = observer ? withObserver(observer, layout, ema.averaged) : { layout, params: ema.averaged };
    exportPolicy(out, network, w.layout, w.params, modelInfo(step), options.weights ?? "float32");
  };
  const checkpoint = (step: number): void => {
    const s = trainer.state;
    saveCheckpoint(ckptPath, layout, {
      params: s.params,
      m: s.m,
      v: s.v,
      ema: ema.averaged,
      step,
      rng: rng.getState(),
      extra: {
        config: configJson,
        curves: JSON.stringify(curves),
        wall_s: String(wall()),
        dataset: options.dataset,
        ...(initFrom && { init_from: JSON.stringify(initFrom) }),
        ...(observer && { observer_from: observer.from }),
      },
    });
    exportNow(step);
    writeFileSync(join(out, "train/curves.png"), plotCurves(curves, total));
    emit({ kind: "checkpoint", step, path: ckptPath });
  };

  emit({
    kind: "start",
    step: trainer.state.step,
    totalSteps: total,
    params: layout.total,
    trainWindows: trainSampler.length,
    valWindows: valSampler?.length ?? 0,
  });
  let windowLoss = 0;
  let windowSteps = 0;
  let lastLoss = Number.NaN;
  let valLoss: number | null = null;
  let successRate: number | null = null;
  let windowStart = performance.now();
  let samplesPerSecond = 0;
  const loopStart = performance.now();
  const firstStep = trainer.state.step;
  while (trainer.state.step < stopAt) {
    const step = trainer.state.step; // 0-based index of this optimizer step
    const lr = cosineWithWarmup(step, { peak: ts.lr, warmupSteps: ts.warmupSteps, totalSteps: total });
    const feeds = batches.fill(rng, true);
    let r;
    try {
      r = await trainer.step(feeds, lr);
    } catch (e) {
      if (e instanceof NonFiniteLossError) {
        throw new DuetError(
          `${e.message}. Training stopped; the last good checkpoint is ${existsSync(ckptPath) ? ckptPath : "(none written yet)"}`,
        );
      }
      throw e;
    }
    ema.update(trainer.state.params);
    windowLoss += r.loss;
    windowSteps++;
    const done = trainer.state.step;
    if (done % ts.logEvery === 0 || done === stopAt) {
      const now = performance.now();
      lastLoss = windowLoss / windowSteps;
      samplesPerSecond = (windowSteps * ts.batchSize) / Math.max(1e-9, (now - windowStart) / 1000);
      curves.train.push([done, lastLoss]);
      emit({ kind: "step", step: done, loss: lastLoss, lr, samplesPerSecond });
      windowLoss = 0;
      windowSteps = 0;
      windowStart = now;
    }
    if (validate && ((ts.valEvery > 0 && done % ts.valEvery === 0) || done === total)) {
      const v = await validate();
      valLoss = v.loss;
      curves.val.push([done, valLoss]);
      emit({ kind: "val", step: done, loss: valLoss, ...(v.scene !== null && { sceneLoss: v.scene }) });
    }
    const evalDue = options.evaluate && ((ts.evalEvery > 0 && done % ts.evalEvery === 0) || done === total);
    if (evalDue && options.evaluate) {
      exportNow(done);
      successRate = (await options.evaluate(out)).success_rate;
      curves.success.push([done, successRate]);
      emit({ kind: "eval", step: done, successRate });
    }
    if (done % ts.checkpointEvery === 0 || done === stopAt) checkpoint(done);
  }
  if (firstStep === stopAt) checkpoint(stopAt);
  emit({ kind: "done", step: trainer.state.step });
  const trainedSteps = trainer.state.step - firstStep;
  return {
    step: trainer.state.step,
    trainedSteps,
    loss: lastLoss,
    valLoss,
    successRate,
    wallSeconds: wall(),
    samplesPerSecond:
      trainedSteps > 0 ? (trainedSteps * ts.batchSize) / ((performance.now() - loopStart) / 1000) : samplesPerSecond,
    curves,
    modelDir: out,
  };
}
