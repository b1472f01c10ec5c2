// The prior from words to goals (DALL-E 2's prior, small): a diffusion model that maps the CLIP text embedding of an
// instruction to a CLIP image embedding of its goal frame, both through a `duet clip` run's frozen encoders.
//
// Pairs: each of the last `lastFrames` frames of every training episode (the frames `duet clip` pairs) with the
// episode's instruction. The held-out episodes are the clip run's own (its seed and share over the same dataset), so
// neither CLIP nor the prior saw them.
//
// Evaluation: each held-out episode's instruction is a query, its last frame's embedding its true goal.
// - cosine: the mean cosine of the query's answer with its true goal. The prior answers with one sample; the text
//   baseline with the text embedding itself. `same_meaning_cosine` is about what a perfect prior would score: the
//   mean cosine of a goal with the goals of the other held-out episodes that did what its instruction asks;
//   `other_meaning_cosine` the same with those that did not (how far apart the meanings' goals lie).
// - retrieval: the nearest of the other held-out goals to the answer by cosine; a hit when its episode did what the
//   query asks (the same task, and the named hand, if any, held first). Chance: the mean share of such goals.
//   The text baseline is CLIP's own text→image retrieval.
//
// Not `train()`: embeddings instead of windows, no rollouts; but its loop (trainer.ts, through `optimise`).
import { appendFileSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuetError, Rng, parseWith } from "../core/index.ts";
import { Dataset } from "../data/index.ts";
import { inferenceModel, type OnnxModel, type ParamLayout } from "../nn/index.ts";
import {
  PRIOR_FILES,
  PRIOR_IO,
  PriorNetwork,
  fileSha256,
  priorConfigSchema,
  type PriorConfig,
  type PriorConfigInput,
} from "../policy/index.ts";
import { Session } from "../runtime/index.ts";
import { openClipRun } from "./clip-run.ts";
import {
  contrastiveSplit,
  embedFrames,
  embedTexts,
  lastFrames,
  optimise,
  ranking,
  similarity,
  subsetParams,
  type ContrastiveRegularisation,
  type Embeddings,
} from "./embedding.ts";
import { episodeDeeds, matches, type EpisodeDeed, type InstructionMeaning } from "./text-image.ts";

export interface PriorFitOptions extends ContrastiveRegularisation {
  /** Row i conditions row i of `image` (unit-norm CLIP text embeddings `N,D`). */
  text: Embeddings;
  /** Unit-norm CLIP image embeddings `N,D`. */
  image: Embeddings;
  config?: PriorConfigInput;
  /** Optimizer steps (default 2000). */
  steps?: number;
  /** Pairs per batch (default 64). */
  batch?: number;
  /** Peak learning rate (default 1e-3). */
  lr?: number;
  /** Parameters, batches and diffusion noise (default 0). */
  seed?: number;
  onStep?: (step: number, loss: number) => void;
}

export interface FittedPrior {
  network: PriorNetwork;
  layout: ParamLayout;
  params: Float32Array;
  /** The last step's loss. */
  loss: number;
  /** prior.onnx: the unrolled DDIM sampler (PRIOR_IO text, noise → image). */
  model: OnnxModel;
}

/** Train a prior on embedding pairs and compile its sampler. */
export async function fitPrior(options: PriorFitOptions): Promise<FittedPrior> {
  const d = options.image.dim;
  const n = options.image.data.length / d;
  if (options.text.dim !== d || options.text.data.length !== n * d) {
    throw new DuetError(
      `prior: ${options.text.data.length / options.text.dim} text embeddings of ${options.text.dim} dimensions do ` +
        `not pair with ${n} image embeddings of ${d}`,
    );
  }
  const network = new PriorNetwork(parseWith(priorConfigSchema, options.config ?? {}, "prior config"), d);
  const b = options.batch ?? 64;
  const { g, loss } = network.trainingLoss(b);
  const seed = options.seed ?? 0;
  const rng = new Rng(seed + 1);
  const text = new Float32Array(b * d);
  const image = new Float32Array(b * d);
  const noise = new Float32Array(b * d);
  const t = new Float32Array(b);
  const sa = new Float32Array(b);
  const sb = new Float32Array(b);
  const { schedule } = network;
  const trained = await optimise(g, loss, {
    steps: options.steps ?? 2000,
    lr: options.lr ?? 1e-3,
    seed,
    weightDecay: options.weightDecay,
    clipNorm: options.clipNorm,
    batchSize: b,
    onStep: options.onStep,
    batch: () => {
      for (let i = 0; i < b; i++) {
        const k = rng.int(n);
        text.set(options.text.data.subarray(k * d, (k + 1) * d), i * d);
        image.set(options.image.data.subarray(k * d, (k + 1) * d), i * d);
        t[i] = rng.int(schedule.trainSteps);
        const ab = schedule.alphaBar(t[i] as number);
        sa[i] = Math.sqrt(ab);
        sb[i] = Math.sqrt(1 - ab);
      }
      for (let i = 0; i < noise.length; i++) noise[i] = rng.normal();
      return {
        [PRIOR_IO.text]: { data: text, dims: [b, d] },
        [PRIOR_IO.image]: { data: image, dims: [b, d] },
        [PRIOR_IO.noise]: { data: noise, dims: [b, d] },
        [PRIOR_IO.timestep]: { data: t, dims: [b] },
        [PRIOR_IO.sqrtAlphaBar]: { data: sa, dims: [b, 1, 1] },
        [PRIOR_IO.sqrtOneMinusAlphaBar]: { data: sb, dims: [b, 1, 1] },
      };
    },
  });
  const sampler = network.samplerGraph();
  const model = inferenceModel(sampler, subsetParams(trained.layout, trained.params, sampler));
  return { network, layout: trained.layout, params: trained.params, loss: trained.loss, model };
}

/** Answers to queries (row i: held-out episode i's), scored against the held-out goals. */
interface Scores {
  /** Mean cosine of each answer with its own episode's goal. */
  cosine: number;
  /** Share of scored queries whose nearest other goal did what the query asks. */
  recallAt1: number;
  /** Mean share of other goals that did what the query asks, over the scored queries. */
  chance: number;
  /** Queries with at least one other goal that did what they ask (the others cannot be scored). */
  queries: number;
}

function score(answers: Embeddings, goals: Embeddings, deeds: readonly EpisodeDeed[], rows: readonly number[]): Scores {
  let cosine = 0;
  let hits = 0;
  let chance = 0;
  let queries = 0;
  for (const i of rows) {
    cosine += similarity(answers, i, goals, i);
    const asked = deeds[i]!.meaning;
    const good = deeds.filter((did, j) => j !== i && matches(asked, did)).length;
    if (good === 0) continue;
    queries++;
    chance += good / (deeds.length - 1);
    const nearest = ranking(answers, i, goals).find((j) => j !== i)!;
    if (matches(asked, deeds[nearest]!)) hits++;
  }
  return {
    cosine: rows.length ? cosine / rows.length : 0,
    recallAt1: queries ? hits / queries : 0,
    chance: queries ? chance / queries : 0,
    queries,
  };
}

/**
 * Mean over goals of their mean cosine with the other goals that did (`same`) or did not do what their episode was
 * asked: the scale on which a sample's cosine with its true goal reads.
 */
function goalCosine(goals: Embeddings, deeds: readonly EpisodeDeed[], same: boolean): number {
  const means = deeds.flatMap((d, i) => {
    const others = deeds.flatMap((other, j) => (j !== i && matches(d.meaning, other) === same ? [j] : []));
    return others.length ? [others.reduce((s, j) => s + similarity(goals, i, goals, j), 0) / others.length] : [];
  });
  return means.length ? means.reduce((a, b) => a + b, 0) / means.length : 0;
}

export interface PriorOptions extends Omit<PriorFitOptions, "text" | "image" | "onStep"> {
  /** A `duet clip` output folder: its frozen image.onnx and text.onnx, its camera and held-out split. */
  clip: string;
  dataset: string;
  /** Every phrasing of the scenario → what it asks (the CLI reads it from the scenario's task list). */
  meanings: ReadonlyMap<string, InstructionMeaning>;
  /** Output folder: prior.onnx, text.onnx (the clip run's, copied), result.json, log.jsonl. */
  out: string;
  /** Frames from each training episode's end that are its goal (default 5, as duet clip pairs). */
  lastFrames?: number;
  onStep?: (step: number, loss: number) => void;
}

export interface PriorResult {
  camera: string;
  /** D: the CLIP embedding width. */
  dim: number;
  /**
   * SHA-256 of the clip run's image.onnx, whose embeddings the prior samples: a goal-embedding policy takes the
   * prior's samples only if its goal encoder is that file (duet sim|eval --prior).
   */
  image_encoder_sha256: string;
  prior_cosine: number;
  text_cosine: number;
  same_meaning_cosine: number;
  other_meaning_cosine: number;
  prior_recall_at_1: number;
  text_recall_at_1: number;
  chance_at_1: number;
  queries: number;
  /** The same over the queries that name a hand. */
  named_hand_queries: number;
  prior_named_hand_recall_at_1: number;
  text_named_hand_recall_at_1: number;
  named_hand_chance_at_1: number;
  train_pairs: number;
  train_episodes: number;
  held_out_episodes: number;
  steps: number;
  final_loss: number;
  config: PriorConfig;
  wall_s: number;
}

/** Log lines: the mean loss of every this many steps (at least one line per 50th of the run). */
const LOG_LINES = 50;

export async function trainPrior(options: PriorOptions): Promise<PriorResult> {
  const started = performance.now();
  const clip = await openClipRun(options.clip);
  try {
    const ds = await Dataset.open(options.dataset);
    const cam = ds.spec.cameras.find((c) => c.name === clip.camera);
    if (!cam) {
      throw new DuetError(
        `${options.dataset} has no camera ${JSON.stringify(clip.camera)}, whose frames the --clip run ${options.clip} paired`,
      );
    }
    const takes = clip.image.inputs.find((i) => i.name === "images")?.shape ?? [];
    if (takes[1] !== cam.height || takes[2] !== cam.width) {
      throw new DuetError(
        `${options.dataset}: camera ${cam.name} is ${cam.height}×${cam.width}, but ${options.clip}/image.onnx takes ` +
          `${takes[1]}×${takes[2]}`,
      );
    }
    const deeds = episodeDeeds(options.dataset, ds, options.meanings);
    const { train: trainEpisodes, val: heldOut } = contrastiveSplit(
      options.dataset,
      ds.episodes.map((e) => e.episodeIndex),
      clip.heldOutShare,
      clip.seed,
    );
    await ds.load();
    const pairs = lastFrames(ds, trainEpisodes, options.lastFrames ?? 5);
    const goalFrames = lastFrames(ds, heldOut, 1);
    const phrasings = [...new Set(deeds.map((d) => d.instruction))];
    const phrased = await embedTexts(clip.text, phrasings);
    const d = clip.dim;
    const textsOf = (episodes: readonly number[]): Embeddings => {
      const data = new Float32Array(episodes.length * d);
      episodes.forEach((e, i) => {
        const k = phrasings.indexOf(deeds[e]!.instruction);
        data.set(phrased.data.subarray(k * d, (k + 1) * d), i * d);
      });
      return { data, dim: d };
    };

    mkdirSync(options.out, { recursive: true });
    const logFile = join(options.out, "log.jsonl");
    writeFileSync(logFile, "");
    const steps = options.steps ?? 2000;
    const every = Math.max(1, Math.floor(steps / LOG_LINES));
    let window = 0;
    const {
      clip: _clip,
      dataset: _dataset,
      meanings: _meanings,
      out: _out,
      lastFrames: _last,
      onStep,
      ...fit
    } = options;
    const fitted = await fitPrior({
      ...fit,
      text: textsOf(pairs.map((p) => p.episode)),
      image: await embedFrames(clip.image, ds, cam, pairs),
      steps,
      onStep: (step, loss) => {
        onStep?.(step, loss);
        window += loss;
        if (step % every === 0 || step === steps) {
          appendFileSync(logFile, `${JSON.stringify({ step, loss: window / (step % every || every) })}\n`);
          window = 0;
        }
      },
    });
    writeFileSync(join(options.out, PRIOR_FILES.prior), fitted.model.bytes);
    // the folder is self-contained at run time: instruction → the clip run's text encoder → prior.onnx
    copyFileSync(join(options.clip, "text.onnx"), join(options.out, PRIOR_FILES.text));

    // One sample per held-out query, through the exported sampler.
    const goals = await embedFrames(clip.image, ds, cam, goalFrames);
    const asked = textsOf(heldOut);
    const n = heldOut.length;
    const rng = new Rng((options.seed ?? 0) + 2);
    const noise = Float32Array.from({ length: n * d }, () => rng.normal());
    const session = await Session.create(fitted.model.bytes);
    const sampled = (
      await session.run({
        [PRIOR_IO.text]: { data: asked.data, dims: [n, d] },
        [PRIOR_IO.noise]: { data: noise, dims: [n, d] },
      })
    )[PRIOR_IO.image]!.data as Float32Array;
    await session.release();
    const answers: Embeddings = { data: sampled, dim: d };
    const heldDeeds = heldOut.map((e) => deeds[e]!);
    const all = heldOut.map((_, i) => i);
    const named = all.filter((i) => heldDeeds[i]!.meaning.hand !== null);
    const [prior, text] = [answers, asked].map((a) => score(a, goals, heldDeeds, all)) as [Scores, Scores];
    const [priorNamed, textNamed] = [answers, asked].map((a) => score(a, goals, heldDeeds, named)) as [Scores, Scores];
    const result: PriorResult = {
      camera: cam.name,
      dim: d,
      image_encoder_sha256: fileSha256(join(options.clip, "image.onnx")),
      prior_cosine: prior.cosine,
      text_cosine: text.cosine,
      same_meaning_cosine: goalCosine(goals, heldDeeds, true),
      other_meaning_cosine: goalCosine(goals, heldDeeds, false),
      prior_recall_at_1: prior.recallAt1,
      text_recall_at_1: text.recallAt1,
      chance_at_1: prior.chance,
      queries: prior.queries,
      named_hand_queries: priorNamed.queries,
      prior_named_hand_recall_at_1: priorNamed.recallAt1,
      text_named_hand_recall_at_1: textNamed.recallAt1,
      named_hand_chance_at_1: priorNamed.chance,
      train_pairs: pairs.length,
      train_episodes: trainEpisodes.length,
      held_out_episodes: n,
      steps,
      final_loss: fitted.loss,
      config: fitted.network.config,
      wall_s: (performance.now() - started) / 1000,
    };
    writeFileSync(join(options.out, "result.json"), `${JSON.stringify(result, null, 2)}\n`);
    appendFileSync(logFile, `${JSON.stringify({ result })}\n`);
    return result;
  } finally {
    await clip.release();
  }
}
