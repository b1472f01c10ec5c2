// The validation loss: a graph of its own (the action loss, and the scene loss on its own; parameters as one flat
// input, no dropout) run on held-out windows over the same windows and noise at every pass, so passes compare.
import { DuetError, Rng } from "../core/index.ts";
import { ParamLayout, toOnnx } from "../nn/index.ts";
import { IO, type TrainingLossGraph } from "../policy/index.ts";
import { Session } from "../runtime/index.ts";
import type { BatchAssembler } from "./batch.ts";

/** One validation pass over weights laid out as training lays them out: the mean action and scene losses. */
export type Validation = (params: Float32Array) => Promise<{ loss: number; scene: number | null }>;

export interface ValidationOptions {
  /** Batches in one pass (train.valBatches). */
  batches: number;
  /** The run's seed (train.seed): the pass draws its windows and noise from a seed of its own derived from it. */
  seed: number;
  /** onnxruntime threads. */
  threads: number;
}

/**
 * Build the validation graph on the held-out `batches` from `lossGraph` (the training loss's builder: batch size,
 * training) — its scene loss, where it has one, reported apart; refused if its parameters differ from `layout`.
 */
export async function validation(
  lossGraph: (b: number, training: boolean) => TrainingLossGraph,
  batches: BatchAssembler,
  layout: ParamLayout,
  options: ValidationOptions,
): Promise<Validation> {
  const v = lossGraph(batches.batchSize, false);
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
  const session = await Session.create(model.bytes, { intraOpThreads: options.threads, label: "validation graph" });
  const n = options.batches;
  return async (weights) => {
    const rng = new Rng(options.seed + 7919); // the same windows and noise every pass
    let sum = 0;
    let sceneSum = 0;
    for (let i = 0; i < n; i++) {
      const feeds = { ...batches.fill(rng, false), params: { data: weights, dims: [layout.total] } };
      const out = await session.run(feeds);
      sum += (out.loss?.data as Float32Array)[0] as number;
      sceneSum += (out[IO.sceneLoss]?.data as Float32Array | undefined)?.[0] ?? 0;
    }
    return { loss: sum / n, scene: v.sceneLoss ? sceneSum / n : null };
  };
}
