// Shared by the embedding trainers (text–image, audio–image, the prior): the held-out split, optimisation in the one
// training loop (trainer.ts), parameter subsets for exported encoders, frozen encoders run over frames and texts, and
// ranking over unit-norm embeddings.
import { DuetError } from "../core/index.ts";
import { splitEpisodes, type Dataset } from "../data/index.ts";
import { GoalEncoder } from "../policy/index.ts";
import { ParamLayout, TrainingGraph, buildTrainingGraph, type GraphBuilder, type Tensor } from "../nn/index.ts";
import { Session, type TensorData } from "../runtime/index.ts";
import { trainLoop } from "./trainer.ts";

/** The values of `sub`'s parameters (a graph holding part of the trained network) taken by name from `values`. */
export function subsetParams(layout: ParamLayout, values: Float32Array, sub: GraphBuilder): Float32Array {
  const subLayout = ParamLayout.of(sub);
  const out = new Float32Array(subLayout.total);
  for (const e of subLayout.entries) out.set(layout.view(values, e.name), e.offset);
  return out;
}

/** Row-major `[N, D]` embeddings. */
export interface Embeddings {
  data: Float32Array;
  dim: number;
}

/** Frame t of an episode. */
export interface FrameRef {
  episode: number;
  t: number;
}

/** The last `frames` frames of each of `episodes` (all of a shorter episode), in order. */
export function lastFrames(ds: Dataset, episodes: readonly number[], frames: number): FrameRef[] {
  return episodes.flatMap((e) => {
    const length = ds.episodes[e]!.length;
    const from = Math.max(0, length - frames);
    return Array.from({ length: length - from }, (_, k) => ({ episode: e, t: from + k }));
  });
}

/** Frames in memory at a time while embedding (decoded frames are not kept). */
const CHUNK = 64;

/**
 * `frames` of camera `cam` (a dataset camera, loaded) through a frozen image encoder (input `images` `N,H,W,3`,
 * output `embedding` `N,D`), preprocessed as in evaluation (no augmentation): the policy's GoalEncoder, which embeds
 * goal frames at run time the same way.
 */
export async function embedFrames(
  session: Session,
  ds: Dataset,
  cam: { name: string; height: number; width: number },
  frames: readonly FrameRef[],
): Promise<Embeddings> {
  const encoder = new GoalEncoder(session, `${ds.root}: camera ${cam.name}`);
  const data = new Float32Array(frames.length * encoder.dim);
  for (let from = 0; from < frames.length; from += CHUNK) {
    const part = frames.slice(from, from + CHUNK).map((p) => ({
      data: ds.frame(cam.name, p.episode, p.t),
      height: cam.height,
      width: cam.width,
    }));
    data.set(await encoder.embed(part), from * encoder.dim);
  }
  return { data, dim: encoder.dim };
}

/** `texts` through a frozen text encoder (inputs `ids`, `eos` `N,T`; output `embedding` `N,D`), 64 at a time. */
export { embedTexts } from "../policy/index.ts";

/** Dot product of row i of `a` and row j of `b` (cosine for unit-norm rows). */
export function similarity(a: Embeddings, i: number, b: Embeddings, j: number): number {
  let s = 0;
  for (let k = 0; k < a.dim; k++) s += (a.data[i * a.dim + k] as number) * (b.data[j * b.dim + k] as number);
  return s;
}

/** Rows of `gallery` by similarity to row `q` of `queries`, best first. */
export function ranking(queries: Embeddings, q: number, gallery: Embeddings): number[] {
  const n = gallery.data.length / gallery.dim;
  const scores = Array.from({ length: n }, (_, j) => similarity(queries, q, gallery, j));
  return scores.map((_, j) => j).sort((x, y) => (scores[y] as number) - (scores[x] as number));
}

/** Training and held-out episodes of a contrastive run; throws when either side would be empty. */
export function contrastiveSplit(
  dataset: string,
  episodes: readonly number[],
  valFraction: number,
  seed: number,
): { train: number[]; val: number[] } {
  const split = splitEpisodes(episodes, { valFraction, seed });
  if (split.train.length === 0 || split.val.length === 0) {
    throw new DuetError(`${dataset}: ${episodes.length} episodes cannot be split into training and held-out`);
  }
  return split;
}

/** How a contrastive trainer regularises its optimisation (options of each trainer). */
export interface ContrastiveRegularisation {
  /** Decoupled AdamW weight decay (default 0.1). */
  weightDecay?: number | undefined;
  /** Clip the global gradient norm to this (default 1; null: no clipping). */
  clipNorm?: number | null | undefined;
}

export interface ContrastiveRun extends ContrastiveRegularisation {
  steps: number;
  /** Peak learning rate: warm-up over min(50, steps/10) steps, then cosine decay. */
  lr: number;
  seed: number;
  /** Pairs per batch (for samples per second). */
  batchSize: number;
  /** The data inputs of optimizer step `step` (0-based); may reuse its buffers. */
  batch: (step: number) => Record<string, TensorData>;
  onStep?: ((step: number, loss: number) => void) | undefined;
}

/**
 * Optimise scalar `loss` on `g` (AdamW fused into the graph) for `run.steps` steps from the seeded initialisation,
 * in the training loop every trainer runs. → the layout, the trained parameters and the last loss.
 */
export async function optimise(
  g: GraphBuilder,
  loss: Tensor,
  run: ContrastiveRun,
): Promise<{ layout: ParamLayout; params: Float32Array; loss: number }> {
  const clipNorm = run.clipNorm === undefined ? 1 : run.clipNorm;
  const program = buildTrainingGraph(g, loss, {
    weightDecay: run.weightDecay ?? 0.1,
    ...(clipNorm !== null && { clipNorm }),
  });
  const session = await Session.create(program.model.bytes);
  const trainer = new TrainingGraph(program, session, { params: program.layout.init(run.seed) });
  try {
    const done = await trainLoop({
      trainer,
      schedule: { peak: run.lr, warmupSteps: Math.min(50, run.steps / 10), totalSteps: run.steps },
      stopAt: run.steps,
      batchSize: run.batchSize,
      batch: run.batch,
      // every step's own loss
      logEvery: 1,
      ...(run.onStep && { onLog: run.onStep }),
    });
    return { layout: program.layout, params: trainer.state.params, loss: done.loss };
  } finally {
    await session.release();
  }
}
