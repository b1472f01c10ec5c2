// The one training loop: a fused AdamW training graph stepped on seeded batches at a warm-up + cosine learning rate,
// with EMA weights, the mean loss of every few steps, and work done at its own cadence (validation, evaluation,
// checkpoints). `train()` runs it for any policy config on any dataset; the contrastive trainers run it on their pairs
// (`optimise` in embedding.ts).
//
// train(), in order: the run directory's refusals (run-dir.ts); what the policy trains on (policy-setup.ts: the
// dataset checked, the network, its normalizers, seeded batches of windows, the training and validation graphs); where
// the run starts (fresh, resumed exactly, warm-restarted: run-dir.ts); then the loop, with periodic evaluation through
// an injected evaluator (train does not import sim or runner) and checkpoints that export the model.
import { existsSync } from "node:fs";
import { DuetError, Rng } from "../core/index.ts";
import {
  NonFiniteLossError,
  cosineWithWarmup,
  type CosineSchedule,
  type Ema,
  type TrainingGraph,
  type WeightPrecision,
} from "../nn/index.ts";
import type { TensorData } from "../runtime/index.ts";
import type { Rephrase } from "./batch.ts";
import type { TrainConfig } from "./config.ts";
import type { Curves } from "./plot.ts";
import { setUpPolicy } from "./policy-setup.ts";
import { RunDir, type DistilledFrom } from "./run-dir.ts";
import { Teacher } from "./teacher.ts";
import { loadTextWeights } from "./text-weights.ts";

/** Success rate of the policy exported to a directory (wired by the CLI to simulation rollouts). */
export type Evaluator = (policyDir: string) => Promise<{ success_rate: number }>;

export type TrainEvent =
  | { kind: "start"; step: number; totalSteps: number; params: number; trainWindows: number; valWindows: number }
  /**
   * A frozen observer's features (`--observer-from`): `done` of `total` camera frames, `readBack` of them read from
   * the run's `train/features.f32` (once, before any are computed), the rest computed (after each batch).
   */
  | { kind: "features"; done: number; total: number; readBack: number }
  /** Computing a distillation's teacher samples (`--teacher`): `done` of `total` windows of one part. */
  | { kind: "targets"; done: number; total: number }
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
   * their EMA weights are exported unchanged, every frame's features are computed once (kept in
   * `out/train/features.f32`, so a resume reads them back), and only the rest of the policy trains — at about the
   * speed of a state-only policy, without image shifts or the scene loss (both train the observer).
   */
  observerFrom?: string;
  /**
   * Distill this teacher model directory (config.train.distill says how): the policy trains its unrolled DDIM
   * sampler to give the teacher's sample from the same starting noise and observation, on the teacher's frozen
   * observer and normalization (train/teacher.ts).
   */
  teacher?: string;
  /**
   * Goal-embedding policies (policy.goal.embedding "clip"): a `duet clip` output folder, whose image encoder embeds
   * each episode's last goal-camera frame as its goal (computed once, before training) and is exported with the model
   * (goal-image.onnx). Required for such a policy, refused for any other.
   */
  clip?: string;
  /**
   * A `duet clip` output folder whose text encoder (its text.safetensors, of the same config as policy.language) a
   * new run's instruction encoder starts from; every other parameter starts as without it, the optimizer afresh.
   * Refused with `initFrom`, for a policy without language, and on resume unless the run started from it.
   */
  textFrom?: string;
  evaluate?: Evaluator;
  onEvent?: (event: TrainEvent) => void;
  /** Stop (with a checkpoint) after this step, as if interrupted; default: the config's steps. */
  stopAtStep?: number;
  /** Extra provenance (e.g. the command line) stored in model.json. */
  provenance?: Record<string, unknown>;
  /** The paraphrase grammar of train.augment.paraphrase (`duet train` gives src/sim/instruction-grammar.ts's). */
  rephrase?: Rephrase;
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

/** Train (or resume training) a policy; exports the EMA model to `out` at every checkpoint and at the end. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const { config, out } = options;
  const source = options.configSource ?? "training config";
  const ts = config.train;
  const precision = options.weights ?? "float32";
  const observerFrom = observerOf(options, config, source);
  const run = RunDir.open({ ...options, ...(observerFrom !== undefined && { observerFrom }) });
  // read (and refused) before any data; a resume continues from its checkpoint instead
  const text =
    options.textFrom !== undefined && !run.resumesCheckpoint
      ? loadTextWeights(options.textFrom, config.policy.language, source)
      : undefined;
  const teacher = options.teacher !== undefined ? await Teacher.open(options.teacher, ts.threads) : null;
  let setUp;
  let features: TrainEvent | undefined; // the last progress of a frozen observer's features, for the log
  try {
    setUp = await setUpPolicy({
      dataset: options.dataset,
      config,
      source,
      ...(observerFrom !== undefined && { observerFrom }),
      ...(options.clip !== undefined && { clip: options.clip }),
      precision,
      trainDir: run.trainDir,
      resume: run.resumesCheckpoint,
      onFeatures: (done, total, readBack) => {
        features = { kind: "features", done, total, readBack };
        options.onEvent?.(features);
      },
      ...(options.rephrase && { rephrase: options.rephrase }),
      ...(teacher && {
        distill: {
          teacher,
          onTargets: (done: number, total: number) => options.onEvent?.({ kind: "targets", done, total }),
        },
      }),
    });
  } finally {
    await teacher?.release();
  }
  const { network, program, session, batches, validate, ...setup } = setUp;
  const distilledFrom: DistilledFrom | null = teacher && {
    ...teacher.provenance(),
    noises_per_window: ts.distill?.noisesPerWindow ?? 0,
    targets_s: setup.targetsSeconds,
    init_from_teacher: ts.distill?.initFromTeacher ?? false,
  };
  const rng = new Rng(ts.seed);
  const initial = teacher && ts.distill?.initFromTeacher ? teacher.weightsFor(program.layout, source) : undefined;
  const state = run.start(program, session, config, source, rng, {
    ...(initial && { initial }),
    ...(text && { text }),
  });
  const { trainer, ema, curves } = state;
  if (features) run.log(features); // the log starts (or a resume's part of it) with how the features were had
  const emit = (e: TrainEvent): void => {
    run.log(e);
    options.onEvent?.(e);
  };
  const total = ts.steps;
  const stopAt = Math.min(total, options.stopAtStep ?? total);
  const wall = (): number => state.priorWall + (performance.now() - started) / 1000;
  const record = {
    ...setup.record,
    teacher: distilledFrom,
    ...(options.provenance && { provenance: options.provenance }),
  };
  const exportNow = (step: number): void => run.export(network, state, record, { step, wallS: wall(), precision });
  const checkpoint = (step: number): void => {
    run.save(step, state, rng, config, wall());
    exportNow(step);
    run.plot(curves, total);
    emit({ kind: "checkpoint", step, path: run.checkpoint });
  };

  emit({
    kind: "start",
    step: trainer.state.step,
    totalSteps: total,
    params: program.layout.total,
    trainWindows: setup.trainWindows,
    valWindows: setup.valWindows,
  });
  let valLoss: number | null = null;
  let successRate: number | null = null;
  const periodic: Periodic[] = [];
  if (validate) {
    periodic.push({
      every: ts.valEvery,
      at: total,
      run: async (step) => {
        const v = await validate(ema.averaged);
        valLoss = v.loss;
        curves.val.push([step, valLoss]);
        emit({ kind: "val", step, loss: valLoss, ...(v.scene !== null && { sceneLoss: v.scene }) });
      },
    });
  }
  const evaluate = options.evaluate;
  if (evaluate) {
    periodic.push({
      every: ts.evalEvery,
      at: total,
      run: async (step) => {
        exportNow(step);
        successRate = (await evaluate(out)).success_rate;
        curves.success.push([step, successRate]);
        emit({ kind: "eval", step, successRate });
      },
    });
  }
  periodic.push({ every: ts.checkpointEvery, at: stopAt, run: checkpoint });
  const firstStep = trainer.state.step;
  const done = await trainLoop({
    trainer,
    schedule: { peak: ts.lr, warmupSteps: ts.warmupSteps, totalSteps: total },
    stopAt,
    batchSize: ts.batchSize,
    batch: () => batches.fill(rng, true),
    ema,
    logEvery: ts.logEvery,
    onLog: (step, meanLoss, lr, samplesPerSecond) => {
      curves.train.push([step, meanLoss]);
      emit({ kind: "step", step, loss: meanLoss, lr, samplesPerSecond });
    },
    periodic,
    nonFinite: (e) =>
      new DuetError(
        `${e.message}. Training stopped; the last good checkpoint is ${existsSync(run.checkpoint) ? run.checkpoint : "(none written yet)"}`,
      ),
  });
  if (firstStep === stopAt) checkpoint(stopAt);
  emit({ kind: "done", step: trainer.state.step });
  return {
    step: trainer.state.step,
    trainedSteps: done.trainedSteps,
    loss: done.loss,
    valLoss,
    successRate,
    wallSeconds: wall(),
    samplesPerSecond: done.samplesPerSecond,
    curves,
    modelDir: out,
  };
}

/**
 * The frozen observer a run trains on: `--observer-from`'s, or distilling, the teacher's (where the policy has
 * cameras). Refused: `--teacher` without train.distill and the other way round, `--teacher` with `--observer-from`.
 */
function observerOf(options: TrainOptions, config: TrainConfig, source: string): string | undefined {
  const { teacher, observerFrom } = options;
  if (teacher === undefined) {
    if (config.train.distill)
      throw new DuetError(`${source}: train.distill is set; name the model to distill with --teacher DIR`);
    return observerFrom;
  }
  if (!config.train.distill)
    throw new DuetError(
      `--teacher ${teacher}: ${source} has no train.distill; a student config says the DDIM steps it samples in ({"ddimSteps": K})`,
    );
  if (observerFrom !== undefined)
    throw new DuetError(
      `--teacher ${teacher}: a student trains on the teacher's own observer; leave out --observer-from`,
    );
  return config.policy.encoder !== null ? teacher : undefined;
}

/** Work the loop does after a step when it is due: every `every` steps (0: never on a cadence) and after step `at`. */
export interface Periodic {
  every: number;
  at: number;
  run: (step: number) => Promise<void> | void;
}

export interface LoopOptions {
  /** The training graph, at the step the loop continues from (0 for a new run). */
  trainer: TrainingGraph;
  /** The learning rate of each step (warm-up, then cosine decay to 0 at `totalSteps`). */
  schedule: CosineSchedule;
  /** Stop after this step (before `schedule.totalSteps` only for a run stopped early, as if interrupted). */
  stopAt: number;
  /** Samples per batch (for samples per second). */
  batchSize: number;
  /** The data inputs of optimizer step `step` (0-based); may reuse its buffers. */
  batch: (step: number) => Record<string, TensorData>;
  /** Weights averaged after every step (default: none). */
  ema?: Ema;
  /** `onLog` gets the mean loss of every `logEvery` steps (and of the last ones, at `stopAt`). */
  logEvery: number;
  onLog?: (step: number, meanLoss: number, lr: number, samplesPerSecond: number) => void;
  /** Run after the step's log, in this order. */
  periodic?: readonly Periodic[];
  /** The error a non-finite loss becomes (default: nn's NonFiniteLossError, naming the step). */
  nonFinite?: (error: NonFiniteLossError) => Error;
}

export interface LoopResult {
  /** Optimizer steps this loop took. */
  trainedSteps: number;
  /** Mean loss of the last logging window (NaN when no step was taken). */
  loss: number;
  /** Over the whole loop (without a step: 0). */
  samplesPerSecond: number;
}

/** Step `trainer` until `stopAt`: the learning rate from `schedule`, then the EMA, the log and the periodic work. */
export async function trainLoop(loop: LoopOptions): Promise<LoopResult> {
  const { trainer, stopAt } = loop;
  const due = (every: number, at: number, step: number): boolean => (every > 0 && step % every === 0) || step === at;
  let windowLoss = 0;
  let windowSteps = 0;
  let lastLoss = Number.NaN;
  let windowStart = performance.now();
  let samplesPerSecond = 0;
  const loopStart = performance.now();
  const firstStep = trainer.state.step;
  while (trainer.state.step < stopAt) {
    const step = trainer.state.step; // 0-based index of this optimizer step
    const lr = cosineWithWarmup(step, loop.schedule);
    const feeds = loop.batch(step);
    let r;
    try {
      r = await trainer.step(feeds, lr);
    } catch (e) {
      if (e instanceof NonFiniteLossError && loop.nonFinite) throw loop.nonFinite(e);
      throw e;
    }
    loop.ema?.update(trainer.state.params);
    windowLoss += r.loss;
    windowSteps++;
    const done = trainer.state.step;
    if (due(loop.logEvery, stopAt, done)) {
      const now = performance.now();
      lastLoss = windowLoss / windowSteps;
      samplesPerSecond = (windowSteps * loop.batchSize) / Math.max(1e-9, (now - windowStart) / 1000);
      loop.onLog?.(done, lastLoss, lr, samplesPerSecond);
      windowLoss = 0;
      windowSteps = 0;
      windowStart = now;
    }
    for (const p of loop.periodic ?? []) if (due(p.every, p.at, done)) await p.run(done);
  }
  const trainedSteps = trainer.state.step - firstStep;
  return {
    trainedSteps,
    loss: lastLoss,
    samplesPerSecond:
      trainedSteps > 0 ? (trainedSteps * loop.batchSize) / ((performance.now() - loopStart) / 1000) : samplesPerSecond,
  };
}
