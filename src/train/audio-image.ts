// Binding sound to the image space (ImageBind's recipe, small): an audio encoder is trained so that the sound of the
// last second before a frame lands where the frozen image encoder of a `duet clip` run puts that frame. No audio–text
// pairs are used; text reaches audio only through the images the text encoder was aligned with.
//
// Pairs: frames of the training episodes (every `frameStride`-th), each with the log-mel spectrogram of the
// `windowSteps` control periods of sound up to it (the first periods of an episode padded with silence). Loss:
// symmetric InfoNCE between audio embeddings and the fixed image embeddings, learned temperature.
// Evaluation on held-out episodes: `gallery` random frames; for each one's sound, the rank of its own frame among
// all of them by embedding similarity: Recall@1, Recall@5 and the median rank against chance (1/N, 5/N, (N+1)/2).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuetError, Rng } from "../core/index.ts";
import { Dataset } from "../data/index.ts";
import { GraphBuilder, inferenceModel, infoNce, l2Normalize, logitScale } from "../nn/index.ts";
import { Session } from "../runtime/index.ts";
import { AudioEncoder, SoundWindow, scalarNormalisation, type VitConfigInput } from "../encoders/index.ts";
import {
  contrastiveSplit,
  embedFrames,
  optimise,
  ranking,
  subsetParams,
  type ContrastiveRegularisation,
  type Embeddings,
  type FrameRef,
} from "./embedding.ts";

export interface AudioImageOptions extends ContrastiveRegularisation {
  dataset: string;
  /** A `duet clip` output folder: its image.onnx is the frozen anchor, its result.json names the camera. */
  clip: string;
  /** Output folder: audio.onnx (unit-norm embeddings of normalised spectrograms), result.json. */
  out: string;
  /** Control periods of sound before each frame (default 10 = 1 s at 10 Hz). */
  windowSteps?: number;
  /** Use every k-th frame (default 2). */
  frameStride?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  valShare?: number;
  /** Held-out frames in the retrieval gallery (default 100). */
  gallery?: number;
  audio?: VitConfigInput;
  onStep?: (step: number, loss: number) => void;
}

export interface AudioRetrievalResult {
  audio_to_image_recall_at_1: number;
  audio_to_image_recall_at_5: number;
  chance_at_1: number;
  chance_at_5: number;
  median_rank: number;
  chance_median_rank: number;
  gallery: number;
  train_pairs: number;
  train_episodes: number;
  held_out_episodes: number;
  steps: number;
  final_loss: number;
  /** Scalar normalisation of the log-mel values (training windows): x → (x − mean) / std. */
  spectrogram_mean: number;
  spectrogram_std: number;
  wall_s: number;
}

export async function trainAudioImage(options: AudioImageOptions): Promise<AudioRetrievalResult> {
  const started = performance.now();
  const ds = await Dataset.open(options.dataset);
  const samples = ds.spec.audioSamples;
  if (samples === undefined) {
    throw new DuetError(`${options.dataset} has no observation.audio: record it with duet record --audio`);
  }
  const clipResult = JSON.parse(readFileSync(join(options.clip, "result.json"), "utf8")) as { camera?: string };
  const cam = ds.spec.cameras.find((c) => c.name === clipResult.camera);
  if (!cam) {
    throw new DuetError(
      `${options.clip}/result.json names camera ${JSON.stringify(clipResult.camera)}, which ${options.dataset} does not have`,
    );
  }
  const window = options.windowSteps ?? 10;
  const stride = options.frameStride ?? 2;
  const seed = options.seed ?? 0;
  const { train: trainEpisodes, val: heldOut } = contrastiveSplit(
    options.dataset,
    ds.episodes.map((e) => e.episodeIndex),
    options.valShare ?? 0.2,
    seed,
  );
  await ds.load();
  const pairsOf = (episodes: readonly number[]): FrameRef[] =>
    episodes.flatMap((e) =>
      Array.from({ length: Math.ceil(ds.episodes[e]!.length / stride) }, (_, k) => ({ episode: e, t: k * stride })),
    );
  const trainPairs = pairsOf(trainEpisodes);
  const rng = new Rng(seed + 2);
  const heldPairs = pairsOf(heldOut);
  const n = Math.min(options.gallery ?? 100, heldPairs.length);
  const gallery = Array.from({ length: n }, () => heldPairs.splice(rng.int(heldPairs.length), 1)[0]!);

  // Spectrograms of every pair, then one scalar normalisation from the training ones.
  const sound = new SoundWindow(window, samples, new AudioEncoder(options.audio).config.patch);
  const { rows, mels, wave } = sound;
  const spectrogramsOf = (pairs: readonly FrameRef[]): Float32Array => {
    const out = new Float32Array(pairs.length * sound.size);
    pairs.forEach((p, i) => {
      wave.fill(0);
      for (let k = 0; k < window; k++) {
        const t = p.t - window + 1 + k;
        if (t >= 0) ds.readAudio(p.episode, t, wave, k * samples);
      }
      sound.write(out, i * sound.size);
    });
    return out;
  };
  const trainSpecs = spectrogramsOf(trainPairs);
  const gallerySpecs = spectrogramsOf(gallery);
  const { mean, std } = scalarNormalisation([trainSpecs]);
  for (const a of [trainSpecs, gallerySpecs]) for (let i = 0; i < a.length; i++) a[i] = ((a[i] as number) - mean) / std;

  // The frozen anchor: image embeddings of every pair's frame.
  const imageSession = await Session.create(readFileSync(join(options.clip, "image.onnx")));
  const trainImages = await embedFrames(imageSession, ds, cam, trainPairs);
  const galleryImages = await embedFrames(imageSession, ds, cam, gallery);
  await imageSession.release();
  const d = trainImages.dim;

  const encoder = new AudioEncoder({ ...options.audio, height: rows, width: mels, featureDim: d });
  const embedAudio = (graph: GraphBuilder, batch: number) =>
    graph.scope("audio", () => encoder.apply(graph, graph.input("spectrograms", [batch, rows, mels])));
  const b = options.batch ?? 32;
  const g = new GraphBuilder();
  const loss = infoNce(g, embedAudio(g, b), g.input("images", [b, d]), { scale: logitScale(g) });
  const steps = options.steps ?? 400;
  const specBatch = new Float32Array(b * rows * mels);
  const imageBatch = new Float32Array(b * d);
  const trained = await optimise(g, loss, {
    steps,
    lr: options.lr ?? 5e-4,
    seed,
    weightDecay: options.weightDecay,
    clipNorm: options.clipNorm,
    batchSize: b,
    onStep: options.onStep,
    batch: () => {
      for (let i = 0; i < b; i++) {
        const k = rng.int(trainPairs.length);
        specBatch.set(trainSpecs.subarray(k * rows * mels, (k + 1) * rows * mels), i * rows * mels);
        imageBatch.set(trainImages.data.subarray(k * d, (k + 1) * d), i * d);
      }
      return { spectrograms: { data: specBatch, dims: [b, rows, mels] }, images: { data: imageBatch, dims: [b, d] } };
    },
  });

  const infer = new GraphBuilder();
  infer.output("embedding", l2Normalize(infer, embedAudio(infer, 1)));
  const audioModel = inferenceModel(infer, subsetParams(trained.layout, trained.params, infer));
  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, "audio.onnx"), audioModel.bytes);
  const audioSession = await Session.create(audioModel.bytes);
  const heard: Embeddings = {
    data: (await audioSession.run({ spectrograms: { data: gallerySpecs, dims: [n, rows, mels] } })).embedding!
      .data as Float32Array,
    dim: d,
  };
  await audioSession.release();
  const ranks = gallery.map((_, i) => ranking(heard, i, galleryImages).indexOf(i) + 1).sort((x, y) => x - y);
  const result: AudioRetrievalResult = {
    audio_to_image_recall_at_1: ranks.filter((r) => r <= 1).length / n,
    audio_to_image_recall_at_5: ranks.filter((r) => r <= 5).length / n,
    chance_at_1: 1 / n,
    chance_at_5: Math.min(5, n) / n,
    median_rank: ranks[Math.floor((n - 1) / 2)]!,
    chance_median_rank: (n + 1) / 2,
    gallery: n,
    train_pairs: trainPairs.length,
    train_episodes: trainEpisodes.length,
    held_out_episodes: heldOut.length,
    steps,
    final_loss: trained.loss,
    spectrogram_mean: mean,
    spectrogram_std: std,
    wall_s: (performance.now() - started) / 1000,
  };
  writeFileSync(join(options.out, "result.json"), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
