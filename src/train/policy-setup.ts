// What the training loop runs for a policy, set up from its config and dataset: the dataset checked, the network (on a
// frozen observer: the trained part, with the observer's features computed once and kept in the run's folder), its
// normalizers, seeded batches of windows, the fused training graph and the validation pass. Distilling (a teacher),
// the normalizers are the teacher's, the batches pair windows with starting noises and the teacher's samples from them
// (teacher-targets.ts), and the graph trains the student's unrolled DDIM sampler on them.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { AUDIO_SAMPLE_RATE, DuetError, Rng } from "../core/index.ts";
import { WindowSampler, splitEpisodes } from "../data/index.ts";
import { buildTrainingGraph, type TrainingProgram, type WeightPrecision } from "../nn/index.ts";
import { MinMaxNormalizer, PolicyNetwork, sceneIndices, type TrainingLossGraph } from "../policy/index.ts";
import { Session } from "../runtime/index.ts";
import { BatchAssembler, type Rephrase } from "./batch.ts";
import type { TrainConfig } from "./config.ts";
import { checkedParaphrase, openTrainingDataset, trainingEpisodes } from "./dataset-checks.ts";
import { fitNormalizers } from "./fit-normalizers.ts";
import { FeatureCache, loadFrozenObserver } from "./frozen-observer.ts";
import { goalEmbeddings } from "./goal-embeddings.ts";
import { CHECKPOINT_FILE, type RunRecord } from "./run-dir.ts";
import { TEACHER_BATCH, type Teacher } from "./teacher.ts";
import { TeacherTargets, targetSeedBase } from "./teacher-targets.ts";
import { validation, type Validation } from "./validation.ts";

export interface PolicySetupOptions {
  /** Dataset root. */
  dataset: string;
  config: TrainConfig;
  /** The config's name in errors and provenance. */
  source: string;
  /** Train on the frozen observer of this run or model directory. */
  observerFrom?: string;
  /** Goal-embedding policies (policy.goal.embedding): the duet clip run whose image encoder embeds the goals. */
  clip?: string;
  /** How the exported graphs store their weights (a frozen observer's features are computed as they will be). */
  precision: WeightPrecision;
  /** The run's `train/` folder: a frozen observer's features and a distillation's teacher samples are kept there. */
  trainDir: string;
  /** Continuing the run there from its checkpoint: features computed from another observer or dataset are refused. */
  resume: boolean;
  /** Progress of a frozen observer's features: `done` of `total` camera frames, `readBack` of them read from disk. */
  onFeatures?: (done: number, total: number, readBack: number) => void;
  /** The paraphrase grammar train.augment.paraphrase draws from. */
  rephrase?: Rephrase;
  /**
   * Distill this teacher (config.train.distill says how): its samples are computed into `trainDir` before training,
   * `onTargets(done, total)` in windows of each part.
   */
  distill?: { teacher: Teacher; onTargets?: (done: number, total: number) => void };
}

export interface PolicySetup {
  network: PolicyNetwork;
  /** The training graph (forward + loss → autodiff → AdamW, one ONNX model) and its session. */
  program: TrainingProgram;
  session: Session;
  /** Training batches (a draw fills and returns the same buffers). */
  batches: BatchAssembler;
  trainWindows: number;
  valWindows: number;
  /** The validation pass (null: no held-out episodes). */
  validate: Validation | null;
  /** What model.json records of the run besides the step, the wall time and the caller's provenance. */
  record: RunRecord;
  /** Distilling: seconds spent computing (or reading back) the teacher's samples. */
  targetsSeconds: number;
}

/** Set up training `options.config` on `options.dataset`: every refusal about the data and the config comes first. */
export async function setUpPolicy(options: PolicySetupOptions): Promise<PolicySetup> {
  const { config, source, observerFrom } = options;
  const ts = config.train;
  const p = config.policy;
  const { dataset, cameras } = await openTrainingDataset(options.dataset, config, source, observerFrom !== undefined);
  const spec = dataset.spec;
  const teacher = options.distill?.teacher;
  if (teacher) {
    teacher.checkDataset(spec, options.dataset);
    teacher.checkStudent(config, cameras, source);
  }
  const used = trainingEpisodes(dataset, ts, options.dataset);
  const goals = await goalEmbeddings(options.clip, dataset, options.dataset, used, p, source);
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
      ...(goals && { goalEmbeddingDim: goals.dim }),
    },
    source,
  );
  if (observerFrom !== undefined && (ts.augment.brightness > 0 || ts.augment.contrast > 0)) {
    throw new DuetError(
      `${source}: train.augment.brightness and .contrast jitter the frames a jointly trained observer sees, but with ` +
        `--observer-from ${observerFrom} every frame's features are computed once, unjittered: set both to 0 here ` +
        `(jitter belongs in the config that trains the observer)`,
    );
  }
  const observer =
    observerFrom !== undefined
      ? loadFrozenObserver(observerFrom, join(observerFrom, CHECKPOINT_FILE), network, source)
      : null;
  const paraphrase = checkedParaphrase(dataset, used, config, source, options.rephrase);
  // a student's chunks are the teacher's, in the teacher's normalization
  const {
    normalizer,
    scene: sceneRange,
    heard,
  } = teacher
    ? { normalizer: teacher.model.normalizer, scene: teacher.model.normalizer.environment ?? null, heard: null }
    : await fitNormalizers(dataset, used, config, network);

  // Seeded batches of windows: a frozen observer's features come from its cache instead of the frames.
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
  const sceneNorm = sceneRange ? new MinMaxNormalizer(sceneRange) : undefined;
  const scene = sceneNorm && ts.sceneLoss > 0 && !observer ? { weight: ts.sceneLoss, dim: sceneNorm.dim } : undefined;
  const features = observer
    ? await FeatureCache.load({
        dir: options.trainDir,
        dataset,
        episodes: used,
        network,
        observer,
        precision: options.precision,
        threads: ts.threads,
        resume: options.resume,
        ...(options.onFeatures && { onProgress: options.onFeatures }),
      })
    : null;
  const { brightness, contrast } = ts.augment;
  const augment = {
    imageShift: ts.augment.imageShift,
    ...((brightness > 0 || contrast > 0) && { colorJitter: { brightness, contrast } }),
    stateNoise: ts.augment.stateNoise,
    ...(paraphrase && { paraphrase }),
    ...(ts.augment.dropInstruction !== undefined && { dropInstruction: ts.augment.dropInstruction }),
    ...(scene && sceneNorm && { scene: sceneNorm }),
    ...(sceneNorm && p.observeScene && { observedScene: { norm: sceneNorm, indices: sceneIdx } }),
    ...(heard && { audio: heard }),
    ...(features && { features }),
    ...(goals && { goalEmbeddings: goals.byEpisode }),
  };
  const targetsStarted = performance.now();
  const targets = options.distill && {
    train: await distillTargets(options.distill, "train", trainSampler, split.train),
    val:
      valSampler && valSampler.length > 0 ? await distillTargets(options.distill, "val", valSampler, split.val) : null,
  };
  async function distillTargets(
    distill: NonNullable<PolicySetupOptions["distill"]>,
    part: "train" | "val",
    sampler: WindowSampler,
    episodes: number[],
  ): Promise<TeacherTargets> {
    const t = distill.teacher;
    // the teacher's observation inputs: the student's windows, its observer's features (its own encoder's)
    const windows = new BatchAssembler(t.network(), sampler, TEACHER_BATCH, stateNorm, actionNorm, {
      imageShift: 0,
      stateNoise: 0,
      ...(augment.observedScene && { observedScene: augment.observedScene }),
      ...(features && { features }),
      ...(goals && { goalEmbeddings: goals.byEpisode }),
    });
    const noDraws = new Rng(0); // without augmentation the inputs draw nothing
    return TeacherTargets.load({
      dir: options.trainDir,
      part,
      teacher: t,
      inputsOf: (w) => windows.fillAt(w, noDraws),
      identity: {
        teacher: t.dir,
        teacherModel: createHash("sha256").update(JSON.stringify(t.model)).digest("hex"),
        dataset: options.dataset,
        episodes,
        windows: sampler.length,
        noisesPerWindow: (ts.distill as { noisesPerWindow: number }).noisesPerWindow,
        seedBase: targetSeedBase(ts.seed, part),
      },
      ...(distill.onTargets && { onProgress: distill.onTargets }),
    });
  }
  const batchesOf = (sampler: WindowSampler, size: number, distill: TeacherTargets | null): BatchAssembler =>
    new BatchAssembler(network, sampler, size, stateNorm, actionNorm, { ...augment, ...(distill && { distill }) });

  const lossGraph = (b: number, training: boolean): TrainingLossGraph =>
    ts.distill
      ? network.distillationLoss(b, ts.distill.ddimSteps, training, observer !== null)
      : network.trainingLoss(b, training, scene, observer !== null);
  const { g, loss } = lossGraph(ts.batchSize, true);
  const program = buildTrainingGraph(g, loss, {
    weightDecay: ts.weightDecay,
    ...(ts.clipNorm !== null ? { clipNorm: ts.clipNorm } : {}),
  });
  const session = await Session.create(program.model.bytes, { intraOpThreads: ts.threads, label: "training graph" });
  const validate =
    valSampler && valSampler.length > 0
      ? await validation(
          lossGraph,
          batchesOf(valSampler, Math.min(ts.batchSize, valSampler.length), targets?.val ?? null),
          program.layout,
          {
            batches: ts.valBatches,
            seed: ts.seed,
            threads: ts.threads,
          },
        )
      : null;
  return {
    network,
    program,
    session,
    batches: batchesOf(trainSampler, ts.batchSize, targets?.train ?? null),
    trainWindows: trainSampler.length,
    targetsSeconds: targets ? Math.round((performance.now() - targetsStarted) / 1000) : 0,
    valWindows: valSampler?.length ?? 0,
    validate,
    record: {
      dataset,
      cameras,
      normalizer,
      environmentNames: p.observeScene ? sceneNames : null,
      split,
      source,
      seed: ts.seed,
      totalSteps: ts.steps,
      parameters: program.layout.total,
      observer,
      goalEncoder: goals && options.clip !== undefined ? { clip: options.clip, bytes: goals.encoder } : null,
    },
  };
}
