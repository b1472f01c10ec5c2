// The run directory a policy trains into (`--out`): what may be written there, where training starts from (fresh, an
// exact resume of the run there, or a warm restart from another run's weights), and what a run writes. Over 400
// lines because it is one concept: the refusals of what --out holds sit beside the resume and export they guard.
//
//   model.json encoder.onnx denoiser.onnx sampler.onnx     the exported policy (EMA weights)
//   train/checkpoint.safetensors                           params, AdamW moments, EMA, step, RNG state, history
//   train/log.jsonl  train/curves.png  train/config.json   one JSON object per event; loss/success plot; the config
//   train/targets-{train,val}.{f32,json}                   distilling: the teacher's samples (teacher-targets.ts)
//   train/features.{f32,json}                              a frozen observer's features (frozen-observer.ts)
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DuetError, type Rng, writeAtomic } from "../core/index.ts";
import type { Dataset } from "../data/index.ts";
import {
  Ema,
  TrainingGraph,
  checkpointMetadata,
  loadCheckpoint,
  saveCheckpoint,
  type TrainingProgram,
  type WeightPrecision,
} from "../nn/index.ts";
import {
  INFERENCE_ONLY_FIELDS,
  exportPolicy,
  type CameraShape,
  type ModelInfo,
  type PolicyNetwork,
} from "../policy/index.ts";
import type { Session } from "../runtime/index.ts";
import { trainConfigSchema, type TrainConfig } from "./config.ts";
import { FEATURES_FILE, withObserver, type FrozenObserver } from "./frozen-observer.ts";
import { plotCurves, type Curves } from "./plot.ts";
import { setTextWeights, type TextWeights } from "./text-weights.ts";

export const CHECKPOINT_FILE = "train/checkpoint.safetensors";
const LOG_FILE = "train/log.jsonl";
/** A distillation's first file: a run that has it has begun, even before its first checkpoint. */
const TARGETS_FILE = "train/targets-train.json";
/** A frozen observer's features (also a distillation's): a run that has them may have stopped while computing them. */
const FEATURES_META = `train/${FEATURES_FILE}.json`;

/** How a training call uses its run directory (the fields of `TrainOptions` of the same names). */
export interface RunDirOptions {
  /** Dataset root (recorded in checkpoints). */
  dataset: string;
  out: string;
  resume?: boolean;
  initFrom?: string;
  observerFrom?: string;
  /** Distilling: the teacher model directory. */
  teacher?: string;
  /** Goal-embedding policies: the duet clip run whose image encoder embeds the goals. */
  clip?: string;
  /** The duet clip run whose text encoder a new run's instruction encoder starts from. */
  textFrom?: string;
}

/** The run a warm restart started from (model.json provenance.init_from). */
export interface InitFrom {
  model: string;
  steps: number;
  wall_s: number;
}

/** What a run carries from checkpoint to checkpoint besides its data order (the RNG). */
export interface RunState {
  /** The training graph with the parameters, AdamW moments and step. */
  trainer: TrainingGraph;
  ema: Ema;
  curves: Curves;
  /** Training wall time (s) of the calls before this one. */
  priorWall: number;
  initFrom: InitFrom | null;
}

/** What model.json records of the run, besides the step and the wall time of the export. */
export interface RunRecord {
  dataset: Dataset;
  cameras: CameraShape[];
  normalizer: ModelInfo["normalizer"];
  /** The scene-state entries a privileged policy observes (null: it observes none). */
  environmentNames: readonly string[] | null;
  split: { train: number[]; val: number[] };
  /** The config's name (its file). */
  source: string;
  seed: number;
  totalSteps: number;
  parameters: number;
  observer: FrozenObserver | null;
  /**
   * Goal-embedding policies: the duet clip run (`--clip`) and its image.onnx, exported with the model as its goal
   * encoder (model.json provenance.clip).
   */
  goalEncoder: { clip: string; bytes: Uint8Array } | null;
  /** Distilling: the teacher (model.json provenance.distilled_from). */
  teacher?: DistilledFrom | null;
  /** Extra provenance (e.g. the command line). */
  provenance?: Record<string, unknown>;
}

/** What a distilled student's model.json records of its teacher. */
export interface DistilledFrom {
  model: string;
  /** The teacher's training steps and wall time (s), and the DDIM steps it samples with. */
  steps: number;
  wall_s: number;
  ddim_steps: number;
  /** Starting noises per window the student learned from (train.distill.noisesPerWindow). */
  noises_per_window: number;
  /** Computing the teacher's samples (s, this call's; about 0 when they were on disk). */
  targets_s: number;
  /** Whether the student started from the teacher's denoiser weights (train.distill.initFromTeacher). */
  init_from_teacher: boolean;
}

/** Training-config paths of the fields only inference reads (policy's list): a resumed run may change them. */
const INFERENCE_ONLY: readonly (readonly string[])[] = INFERENCE_ONLY_FIELDS.map((path) => ["policy", ...path]);

export class RunDir {
  /** Where the checkpoint is (`out/train/checkpoint.safetensors`). */
  readonly checkpoint: string;
  /** The folder of the run's own files (`out/train`): config, log, checkpoint, a distillation's targets. */
  readonly trainDir: string;
  private readonly logFile: string;

  private constructor(private readonly options: RunDirOptions) {
    this.checkpoint = join(options.out, CHECKPOINT_FILE);
    this.trainDir = join(options.out, "train");
    this.logFile = join(options.out, LOG_FILE);
  }

  /** Whether a resume continues from a checkpoint (not: a run stopped while computing what it trains on). */
  get resumesCheckpoint(): boolean {
    return this.options.resume === true && existsSync(this.checkpoint);
  }

  /**
   * The run directory of `options`, refused before any data is read: `--resume` with `--init-from`, `--text-from`
   * with `--init-from`, a new run into a folder that is not new or empty, a resume with nothing to resume or with
   * another frozen observer, clip run or text encoder, a warm restart from a run without its checkpoint, a resumed
   * distillation with another teacher or none.
   */
  static open(options: RunDirOptions): RunDir {
    const run = new RunDir(options);
    const { out, resume, initFrom } = options;
    if (initFrom !== undefined && resume) {
      throw new DuetError("--init-from starts a new run and --resume continues one; pass one of them");
    }
    if (initFrom !== undefined && options.textFrom !== undefined) {
      throw new DuetError(
        "--init-from starts every weight from another run, its instruction encoder included, and --text-from " +
          "starts the instruction encoder alone; pass one of them",
      );
    }
    if (!resume) checkNewOut(out, initFrom);
    // a run stopped before its first checkpoint, while it computed what it trains on, continues with --resume
    const begun =
      (options.teacher !== undefined && existsSync(join(out, TARGETS_FILE))) ||
      (options.observerFrom !== undefined && existsSync(join(out, FEATURES_META)));
    if (resume && !existsSync(run.checkpoint) && !begun) {
      throw new DuetError(`${out}: nothing to resume (${CHECKPOINT_FILE} is missing)`);
    }
    if (run.resumesCheckpoint) {
      const saved = checkpointMetadata(run.checkpoint);
      const refuse = (was: string | undefined, given: string | undefined, flag: string, how: string[]): void => {
        if ((was && resolve(was)) === (given && resolve(given))) return;
        throw new DuetError(
          `${run.checkpoint}: ${was ? `${how[0]} ${was}; resume with ${flag} ${was}` : `${how[1]}; resume without ${flag}`}`,
        );
      };
      refuse(saved.teacher, options.teacher, "--teacher", ["was distilled from the teacher", "was not distilled"]);
      refuse(saved.observer_from, options.observerFrom, "--observer-from", [
        "was trained on the frozen observer of",
        "trained its own observer",
      ]);
      refuse(saved.clip, options.clip, "--clip", ["embedded its goals with the clip run", "embedded no goals"]);
      refuse(saved.text_from, options.textFrom, "--text-from", [
        "started its instruction encoder from the clip run",
        "started its instruction encoder at random",
      ]);
    }
    if (initFrom !== undefined && !existsSync(join(initFrom, CHECKPOINT_FILE))) {
      throw new DuetError(
        `${initFrom}: cannot start from it (${CHECKPOINT_FILE} is missing; the models in git ship without ` +
          "their checkpoints, so start from a run trained on this machine)",
      );
    }
    return run;
  }

  /**
   * Where training starts: resumed exactly from the checkpoint (its parameters, moments, EMA, step, RNG state and
   * curves; refused when it was trained with another config than `config`, `source` naming it, beyond inference-only
   * fields), or new, from `--init-from`'s parameters and EMA (a warm restart), from `initial` (a student starting
   * from its teacher's weights) or from the seeded initialization, its instruction encoder from `text` where given
   * (`--text-from`), with an empty log. Writes the config in force (a resume may have changed its inference-only
   * fields).
   */
  start(
    program: TrainingProgram,
    session: Session,
    config: TrainConfig,
    source: string,
    rng: Rng,
    from: { initial?: Float32Array; text?: TextWeights } = {},
  ): RunState {
    const { out, initFrom } = this.options;
    const layout = program.layout;
    const ts = config.train;
    const emaOptions = { power: ts.ema.power, maxValue: ts.ema.maxValue };
    let state: RunState;
    if (this.resumesCheckpoint) {
      const ck = loadCheckpoint(this.checkpoint, layout);
      let saved: unknown = null;
      try {
        saved = JSON.parse(ck.extra.config ?? "null");
      } catch {
        // unreadable: refused below as another config
      }
      const was = saved === null ? null : trainingPart(saved);
      if (was === null || was !== trainingPart(config)) {
        throw new DuetError(
          `${this.checkpoint}: was trained with another config than ${source}; resume with the same config (only ` +
            `${INFERENCE_ONLY.map((keys) => keys.join(".")).join(", ")} may differ)`,
        );
      }
      if (!ck.m || !ck.v || !ck.ema || !ck.rng)
        throw new DuetError(`${this.checkpoint}: lacks optimizer/EMA/RNG state; cannot resume exactly`);
      const ema = new Ema(ck.ema, emaOptions);
      ema.steps = ck.step;
      rng.setState(ck.rng);
      state = {
        trainer: new TrainingGraph(program, session, { params: ck.params, m: ck.m, v: ck.v, step: ck.step }),
        ema,
        curves: JSON.parse(ck.extra.curves ?? '{"train":[],"val":[],"success":[]}') as Curves,
        priorWall: Number(ck.extra.wall_s ?? 0),
        initFrom: ck.extra.init_from ? (JSON.parse(ck.extra.init_from) as InitFrom) : null,
      };
      truncateLog(this.logFile, ck.step);
    } else {
      // A checkpoint made by another network is refused by loadCheckpoint, naming each parameter that differs.
      const start = initFrom !== undefined ? loadCheckpoint(join(initFrom, CHECKPOINT_FILE), layout) : null;
      mkdirSync(this.trainDir, { recursive: true });
      writeFileSync(this.logFile, "");
      const init = start?.params ?? from.initial ?? layout.init(ts.seed);
      if (from.text) setTextWeights(from.text, layout, init);
      const ema = new Ema(start?.ema ?? init, emaOptions);
      // the average keeps its horizon: a warm restart's first noisy steps do not overwrite it
      ema.steps = start?.step ?? 0;
      state = {
        trainer: new TrainingGraph(program, session, { params: init }),
        ema,
        curves: { train: [], val: [], success: [] },
        priorWall: 0,
        initFrom:
          start && initFrom !== undefined
            ? { model: initFrom, steps: start.step, wall_s: Math.round(Number(start.extra.wall_s ?? 0)) }
            : null,
      };
    }
    writeFileSync(join(out, "train/config.json"), `${JSON.stringify(config, null, 2)}\n`);
    return state;
  }

  /** Append `event` to the log, with its time. */
  log(event: object): void {
    appendFileSync(this.logFile, `${JSON.stringify({ ...event, time: new Date().toISOString() })}\n`);
  }

  /** Save the checkpoint of `step`, with the config it trains and the wall time so far. */
  save(step: number, state: RunState, rng: Rng, config: TrainConfig, wallS: number): void {
    const s = state.trainer.state;
    saveCheckpoint(this.checkpoint, state.trainer.program.layout, {
      params: s.params,
      m: s.m,
      v: s.v,
      ema: state.ema.averaged,
      step,
      rng: rng.getState(),
      extra: {
        config: JSON.stringify(config),
        curves: JSON.stringify(state.curves),
        wall_s: String(wallS),
        dataset: this.options.dataset,
        ...(state.initFrom && { init_from: JSON.stringify(state.initFrom) }),
        ...(this.options.observerFrom !== undefined && { observer_from: this.options.observerFrom }),
        ...(this.options.teacher !== undefined && { teacher: this.options.teacher }),
        ...(this.options.clip !== undefined && { clip: this.options.clip }),
        ...(this.options.textFrom !== undefined && { text_from: this.options.textFrom }),
      },
    });
  }

  /** Plot the loss and success curves of a run of `totalSteps` steps. */
  plot(curves: Curves, totalSteps: number): void {
    writeFileSync(join(this.options.out, "train/curves.png"), plotCurves(curves, totalSteps));
  }

  /**
   * Export the policy with the EMA weights (a frozen observer's beside them), its model.json saying what `record`
   * says and the step and wall time of the export.
   */
  export(
    network: PolicyNetwork,
    state: RunState,
    record: RunRecord,
    at: { step: number; wallS: number; precision: WeightPrecision },
  ): void {
    const { observer } = record;
    const layout = state.trainer.program.layout;
    const averaged = state.ema.averaged;
    const w = observer ? withObserver(observer, layout, averaged) : { layout, params: averaged };
    const info = modelInfo(record, state, this.options, at);
    exportPolicy(this.options.out, network, w.layout, w.params, info, at.precision, record.goalEncoder?.bytes);
  }
}

/** model.json's contents besides the config and the graph files. */
function modelInfo(
  r: RunRecord,
  state: RunState,
  options: RunDirOptions,
  at: { step: number; wallS: number },
): ModelInfo {
  const spec = r.dataset.spec;
  const { observer } = r;
  const { initFrom } = state;
  return {
    robotType: spec.robotType,
    fps: spec.fps,
    stateNames: [...spec.stateNames],
    actionNames: [...spec.actionNames],
    ...(r.environmentNames && { environmentNames: [...r.environmentNames] }),
    cameras: r.cameras,
    normalizer: r.normalizer,
    provenance: {
      dataset: options.dataset,
      dataset_episodes: r.dataset.episodes.length,
      dataset_frames: r.dataset.totalFrames,
      train_episodes: r.split.train,
      val_episodes: r.split.val,
      config: r.source,
      steps: at.step,
      // a model exported from a checkpoint before the last step (an interrupted run) says so; commands that load it
      // warn or refuse (provenance.unfinished)
      total_steps: r.totalSteps,
      unfinished: at.step < r.totalSteps,
      seed: r.seed,
      wall_s: Math.round(at.wallS),
      parameters: r.parameters,
      ...(initFrom && { init_from: initFrom }),
      ...(observer && { observer_from: { model: observer.from, steps: observer.steps, wall_s: observer.wall_s } }),
      ...(r.teacher && { distilled_from: r.teacher }),
      ...(r.goalEncoder && { clip: r.goalEncoder.clip }),
      ...(options.textFrom !== undefined && { text_from: options.textFrom }),
      created: new Date().toISOString(),
      ...r.provenance,
    },
  };
}

/** `config` as JSON without its inference-only fields: what must match for an exact resume. */
function trainingPart(config: unknown): string | null {
  // Read through this version's schema, as the config file is: a checkpoint saved before a field existed (say an
  // augmentation added since, off by default) reads with that field's default, so only what the run trained with
  // can differ; the old layout before policy.inference is migrated by the policy schema.
  const parsed = trainConfigSchema.safeParse(config);
  if (!parsed.success) return null;
  const c = structuredClone(parsed.data) as Record<string, unknown>;
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
  if (entries.length === 0 || onlyFeatures(out, entries)) return;
  const run = existsSync(join(out, CHECKPOINT_FILE));
  const model = existsSync(join(out, "model.json"));
  if (!run && existsSync(join(out, TARGETS_FILE)))
    throw new DuetError(
      `--out ${out}: holds the teacher targets of a distillation that has not checkpointed yet; pass --resume (with the same --teacher) to continue it, or choose another --out`,
    );
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
 * Whether `out` (its `entries`) holds nothing but a frozen observer's features, as a run that stopped while computing
 * them leaves it: a cache, which the new run continues or replaces (frozen-observer.ts), so `out` counts as empty.
 */
function onlyFeatures(out: string, entries: readonly string[]): boolean {
  const dir = join(out, "train");
  return (
    entries.length === 1 &&
    entries[0] === "train" &&
    statSync(dir).isDirectory() &&
    readdirSync(dir).every((f) => f.startsWith(`${FEATURES_FILE}.`))
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
