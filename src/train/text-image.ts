// CLIP-style text–image training on a multi-task dataset, and its retrieval evaluation.
//
// Pairs: the last `lastFrames` frames of each training episode (one camera) with the episode's instruction (its
// LeRobot task). The end of a demonstration shows what was asked — the cap off, the bottle raised in one hand, or
// in the other hand than the one that took it — where its first frames all look alike. Loss: symmetric InfoNCE with
// CLIP's learned temperature and multi-positive targets: text i matches image j when j's episode did what i asks
// (same task; the hand i names, if any, is the hand that held first), so "unscrew the cap" is not pushed away from a
// left-hand unscrewing frame just because another phrasing was recorded with it. With `paraphrase`, a pair's
// instruction is at times another phrasing of its task and hand from the paraphrase grammar (the one policy training's
// train.augment.paraphrase draws from), so the text encoder reads many phrasings of each; its weights are also written
// on their own (text.safetensors, text-weights.ts) for a policy's instruction encoder to start from (train --text-from).
//
// Evaluation on held-out episodes (never trained on): their last frames are the gallery, every phrasing of the
// scenario a query. text→image Recall@1 = share of queries whose nearest image matches; chance = the mean share of
// matching images per query (1/N when one image matches). image→text likewise over the phrasings.
//
// Not `train()`: pairs instead of windows, two encoders instead of a policy, no rollouts; but its loop (trainer.ts,
// through `optimise` in embedding.ts: weight decay 0.1 and the gradient norm clipped at 1 unless told otherwise).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuetError, Rng, type Arm } from "../core/index.ts";
import { Dataset } from "../data/index.ts";
import { GraphBuilder, inferenceModel, infoNce, l2Normalize, logitScale, type Tensor } from "../nn/index.ts";
import { Session } from "../runtime/index.ts";
import {
  contrastiveSplit,
  embedFrames,
  embedTexts,
  lastFrames,
  optimise,
  ranking,
  subsetParams,
  type ContrastiveRegularisation,
} from "./embedding.ts";
import type { BatchOptions } from "./batch.ts";
import { refuseUnknownToGrammar } from "./dataset-checks.ts";
import { TEXT_WEIGHTS_FILE, saveTextWeights } from "./text-weights.ts";
import {
  ByteTokenizer,
  ImagePreprocessor,
  TextTransformer,
  VitEncoder,
  type TextEncoderConfigInput,
  type VitConfigInput,
} from "../encoders/index.ts";

/** What an instruction asks: the task and the hand it names (null: either). */
export interface InstructionMeaning {
  readonly task: string;
  readonly hand: Arm | null;
}

export interface TextImageOptions extends ContrastiveRegularisation {
  dataset: string;
  /** Every phrasing of the scenario → what it asks (the CLI reads it from the scenario's task list). */
  meanings: ReadonlyMap<string, InstructionMeaning>;
  /**
   * Output folder: image.onnx, text.onnx (unit-norm embeddings), text.safetensors (the text encoder's weights and
   * config, for `duet train --text-from`), result.json.
   */
  out: string;
  /** Camera whose frames are paired (default: the dataset's first). */
  camera?: string;
  /** Frames from each episode's end that are paired with its instruction (default 5). */
  lastFrames?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  /** Share of episodes held out for the retrieval evaluation (default 0.2). */
  valShare?: number;
  image?: VitConfigInput;
  /** The text encoder; byte-level (prior-dir.ts tokenizes the exported text.onnx's instructions as bytes). */
  text?: Omit<TextEncoderConfigInput, "tokens" | "buckets">;
  /**
   * With `probability`, a training pair's instruction is another phrasing of its episode's task and hand drawn by
   * `rephrase` (the paraphrase grammar; seeded by `seed`); every training episode's instruction must be one it knows.
   * Absent or 0: the episode's own instruction, and nothing drawn.
   */
  paraphrase?: BatchOptions["paraphrase"];
  onStep?: (step: number, loss: number) => void;
}

export interface RetrievalResult {
  /** The camera whose frames were paired (the audio binding reads it). */
  camera: string;
  text_to_image_recall_at_1: number;
  text_to_image_chance: number;
  image_to_text_recall_at_1: number;
  image_to_text_chance: number;
  /** Queries with at least one matching held-out image (the others cannot be scored). */
  queries: number;
  gallery: number;
  train_episodes: number;
  held_out_episodes: number;
  /** The seed of the parameters, batches and the held-out split (a prior trained on the run splits alike). */
  seed: number;
  /** Share of the episodes held out. */
  held_out_share: number;
  steps: number;
  /** The share of training pairs whose instruction was paraphrased (absent: none). */
  paraphrase?: number;
  final_loss: number;
  temperature: number;
  wall_s: number;
}

const DEFAULT_IMAGE: VitConfigInput = { patch: 16, dim: 64, depth: 2, heads: 4, featureDim: 64 };
/** The clip text encoder's config where `text` does not say (`duet clip --text-max-tokens` sets maxTokens). */
export const DEFAULT_CLIP_TEXT = {
  maxTokens: 64,
  dim: 64,
  depth: 2,
  heads: 4,
  featureDim: 64,
} satisfies TextEncoderConfigInput;
/** The scope of the text encoder's parameters in the clip graphs (`text.token.weight`, …). */
const TEXT_SCOPE = "text";

/** What an episode was asked and did. */
export interface EpisodeDeed {
  instruction: string;
  meaning: InstructionMeaning;
  /** The arm that held the bottle first in the episode. */
  holder: string;
}

interface Item extends EpisodeDeed {
  episode: number;
  t: number;
}

/** Whether an episode did what `asked` asks: the same task, and the hand it names (if any) held first. */
export const matches = (asked: InstructionMeaning, did: EpisodeDeed): boolean =>
  asked.task === did.meaning.task && (asked.hand === null || asked.hand === did.holder);

/**
 * Every episode's instruction (its LeRobot task), what it asks by `meanings`, and its holder; throws naming the
 * first episode whose task is none of the scenario's instructions.
 */
export function episodeDeeds(
  dataset: string,
  ds: Dataset,
  meanings: ReadonlyMap<string, InstructionMeaning>,
): EpisodeDeed[] {
  return ds.episodes.map((meta) => {
    const instruction = meta.tasks[0] ?? "";
    const meaning = meanings.get(instruction);
    if (!meaning) {
      throw new DuetError(
        `${dataset}: episode ${meta.episodeIndex}'s task ${JSON.stringify(instruction)} is none of the scenario's ` +
          `instructions (record the dataset from the multi-task scenario given with --scenario)`,
      );
    }
    return { instruction, meaning, holder: meta.mode };
  });
}

export async function trainTextImage(options: TextImageOptions): Promise<RetrievalResult> {
  const started = performance.now();
  const ds = await Dataset.open(options.dataset);
  const camera = options.camera ?? ds.spec.cameras[0]?.name;
  const cam = ds.spec.cameras.find((c) => c.name === camera);
  if (!cam) {
    throw new DuetError(
      `${options.dataset}: no camera ${JSON.stringify(camera)} (cameras: ${ds.spec.cameras.map((c) => c.name).join(", ") || "none"})`,
    );
  }
  const last = options.lastFrames ?? 5;
  const deeds = episodeDeeds(options.dataset, ds, options.meanings);
  const items = (episodes: readonly number[], frames: number): Item[] =>
    lastFrames(ds, episodes, frames).map((f) => ({ ...f, ...deeds[f.episode]! }));
  const seed = options.seed ?? 0;
  const heldOutShare = options.valShare ?? 0.2;
  const { train: trainEpisodes, val: heldOut } = contrastiveSplit(
    options.dataset,
    ds.episodes.map((e) => e.episodeIndex),
    heldOutShare,
    seed,
  );
  const paraphrase = options.paraphrase?.probability ? options.paraphrase : undefined;
  if (paraphrase) refuseUnknownToGrammar(ds, trainEpisodes, paraphrase.rephrase, options.dataset, "--paraphrase");
  await ds.load();
  const pool = items(trainEpisodes, last);
  const gallery = items(heldOut, 1);

  const prep = new ImagePreprocessor({ sourceHeight: cam.height, sourceWidth: cam.width, shift: 2 });
  const image = new VitEncoder({ height: prep.height, width: prep.width, ...DEFAULT_IMAGE, ...options.image });
  const text = new TextTransformer({ ...DEFAULT_CLIP_TEXT, ...options.text });
  const tokenizer = new ByteTokenizer(text.config.maxTokens);
  const [h, w] = [prep.height, prep.width];
  const t = text.config.maxTokens;
  const embedImages = (g: GraphBuilder, x: Tensor): Tensor => g.scope("image", () => image.apply(g, x));
  const embedText = (g: GraphBuilder, ids: Tensor, eos: Tensor): Tensor =>
    g.scope(TEXT_SCOPE, () => text.apply(g, ids, eos));

  const b = options.batch ?? 32;
  const g = new GraphBuilder();
  const loss = infoNce(
    g,
    embedText(g, g.input("ids", [b, t], { dtype: "int64" }), g.input("eos", [b, t])),
    embedImages(g, g.input("images", [b, h, w, 3])),
    { scale: logitScale(g), positives: g.input("positives", [b, b]) },
  );
  const steps = options.steps ?? 300;
  const rng = new Rng(seed + 1);
  const images = new Float32Array(b * prep.imageSize);
  const positives = new Float32Array(b * b);
  const params = prep.sampleParams(rng);
  const trained = await optimise(g, loss, {
    steps,
    lr: options.lr ?? 5e-4,
    seed,
    weightDecay: options.weightDecay,
    clipNorm: options.clipNorm,
    batchSize: b,
    onStep: options.onStep,
    batch: () => {
      const batch = Array.from({ length: b }, () => pool[rng.int(pool.length)]!);
      batch.forEach((it, i) => {
        const frame = { data: ds.frame(cam.name, it.episode, it.t), height: cam.height, width: cam.width };
        prep.process(frame, prep.sampleParams(rng, params), images, i * prep.imageSize);
        batch.forEach((other, j) => (positives[i * b + j] = matches(it.meaning, other) ? 1 : 0));
      });
      const tokens = tokenizer.batch(
        batch.map((it) =>
          paraphrase && rng.next() < paraphrase.probability
            ? (paraphrase.rephrase(it.instruction, rng) as string)
            : it.instruction,
        ),
      );
      return {
        images: { data: images, dims: [b, h, w, 3] },
        ids: { data: tokens.ids, dims: tokens.dims },
        eos: { data: tokens.eos, dims: tokens.dims },
        positives: { data: positives, dims: [b, b] },
      };
    },
  });

  // Inference graphs from the same definitions: unit-norm embeddings of any batch.
  const imageGraph = new GraphBuilder();
  imageGraph.output(
    "embedding",
    l2Normalize(imageGraph, embedImages(imageGraph, imageGraph.input("images", [1, h, w, 3]))),
  );
  const textGraph = new GraphBuilder();
  textGraph.output(
    "embedding",
    l2Normalize(
      textGraph,
      embedText(textGraph, textGraph.input("ids", [1, t], { dtype: "int64" }), textGraph.input("eos", [1, t])),
    ),
  );
  const subset = (sub: GraphBuilder): Float32Array => subsetParams(trained.layout, trained.params, sub);
  const imageModel = inferenceModel(imageGraph, subset(imageGraph));
  const textModel = inferenceModel(textGraph, subset(textGraph));
  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, "image.onnx"), imageModel.bytes);
  writeFileSync(join(options.out, "text.onnx"), textModel.bytes);
  const textWeights = { scope: TEXT_SCOPE, layout: trained.layout, params: trained.params };
  saveTextWeights(join(options.out, TEXT_WEIGHTS_FILE), text.config, textWeights, steps);

  const phrasings = [...options.meanings.keys()];
  const imageSession = await Session.create(imageModel.bytes);
  const textSession = await Session.create(textModel.bytes);
  const shown = await embedFrames(imageSession, ds, cam, gallery);
  const asked = await embedTexts(textSession, phrasings);
  await imageSession.release();
  await textSession.release();

  let t2i = 0;
  let t2iChance = 0;
  let queries = 0;
  phrasings.forEach((p, q) => {
    const meaning = options.meanings.get(p)!;
    const hits = gallery.filter((it) => matches(meaning, it)).length;
    if (hits === 0) return;
    queries++;
    t2iChance += hits / gallery.length;
    if (matches(meaning, gallery[ranking(asked, q, shown)[0]!]!)) t2i++;
  });
  let i2t = 0;
  let i2tChance = 0;
  gallery.forEach((it, j) => {
    i2tChance += phrasings.filter((p) => matches(options.meanings.get(p)!, it)).length / phrasings.length;
    const best = phrasings[ranking(shown, j, asked)[0]!]!;
    if (matches(options.meanings.get(best)!, it)) i2t++;
  });
  const scale = trained.layout.view(trained.params, "logit_scale")[0] as number;
  const result: RetrievalResult = {
    camera: cam.name,
    text_to_image_recall_at_1: queries ? t2i / queries : 0,
    text_to_image_chance: queries ? t2iChance / queries : 0,
    image_to_text_recall_at_1: i2t / gallery.length,
    image_to_text_chance: i2tChance / gallery.length,
    queries,
    gallery: gallery.length,
    train_episodes: trainEpisodes.length,
    held_out_episodes: heldOut.length,
    seed,
    held_out_share: heldOutShare,
    steps,
    ...(paraphrase && { paraphrase: paraphrase.probability }),
    final_loss: trained.loss,
    temperature: 1 / Math.min(Math.exp(scale), 100),
    wall_s: (performance.now() - started) / 1000,
  };
  writeFileSync(join(options.out, "result.json"), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
