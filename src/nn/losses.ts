// Losses (scalar outputs): mean squared error, cross-entropy with integer labels, symmetric InfoNCE (CLIP) with a
// fixed or learned temperature.
import type { GraphBuilder } from "./graph.ts";
import type { Tensor } from "./tensor.ts";

/** mean((pred − target)²) over every element. */
export function mseLoss(g: GraphBuilder, pred: Tensor, target: Tensor): Tensor {
  const d = g.sub(pred, target);
  return g.reduceMean(
    g.mul(d, d),
    pred.shape.map((_, i) => i),
  );
}

/** One-hot float rows [N, K] for int64 labels [N]. */
export function oneHot(g: GraphBuilder, labels: Tensor, classes: number): Tensor {
  const n = labels.shape[0] as number;
  const range = g.constant(
    BigInt64Array.from({ length: classes }, (_, i) => BigInt(i)),
    [1, classes],
  );
  return g.cast(g.equal(g.reshape(labels, [n, 1]), range), "float32");
}

/** Mean over N of −log softmax(logits)[label]; logits [N, K], labels int64 [N]. */
export function crossEntropy(g: GraphBuilder, logits: Tensor, labels: Tensor): Tensor {
  const k = logits.shape[1] as number;
  return softCrossEntropy(g, logits, oneHot(g, labels, k));
}

/** Mean over N of −Σ_k target·log softmax(logits); target [N, K] rows of probabilities. */
export function softCrossEntropy(g: GraphBuilder, logits: Tensor, target: Tensor): Tensor {
  const picked = g.reduceSum(g.mul(g.logSoftmax(logits, 1), target), [1]);
  return g.neg(g.reduceMean(picked, [0]));
}

/** Rows scaled to unit L2 norm (ε = 1e-12 under the square root). */
export function l2Normalize(g: GraphBuilder, x: Tensor): Tensor {
  return g.div(x, g.sqrt(g.add(g.reduceSum(g.mul(x, x), [-1], true), 1e-12)));
}

/** CLIP's initial temperature and its cap on the logit scale 1/τ. */
export const CLIP_INIT_TEMPERATURE = 0.07;
export const CLIP_MAX_LOGIT_SCALE = 100;

/**
 * CLIP's learned logit scale 1/τ: exp(s), s a parameter (`name`, not decayed) initialised at ln(1/0.07) and the
 * result clamped at 100 (beyond it the gradient to s is zero). → [1]
 */
export function logitScale(g: GraphBuilder, name = "logit_scale"): Tensor {
  const s = g.param(name, [1], { kind: "const", value: Math.log(1 / CLIP_INIT_TEMPERATURE) }, false);
  return g.min(g.exp(s), CLIP_MAX_LOGIT_SCALE);
}

export interface InfoNceOptions {
  /** A fixed temperature τ: logits = cosine / τ (default 0.07). Ignored when `scale` is given. */
  temperature?: number;
  /** A [1] tensor multiplying the cosines (the learned `logitScale`). */
  scale?: Tensor;
  /**
   * [B, B] 0/1 matrix, 1 where a_i and b_j match (default: the identity). With repeated instructions in a batch
   * several b match one a: each row's target spreads equally over its positives (multi-positive InfoNCE).
   */
  positives?: Tensor;
}

/**
 * Symmetric InfoNCE (CLIP): a, b [B, D] paired by row; logits = â·b̂ᵀ·scale; mean of the a→b and b→a
 * cross-entropies against the positives (the diagonal unless given). All logits equal → ln B.
 */
export function infoNce(g: GraphBuilder, a: Tensor, b: Tensor, options: InfoNceOptions = {}): Tensor {
  const n = a.shape[0] as number;
  const scale = options.scale ?? 1 / (options.temperature ?? CLIP_INIT_TEMPERATURE);
  const logits = g.mul(g.matmul(l2Normalize(g, a), g.transpose(l2Normalize(g, b), [1, 0])), scale);
  let positives = options.positives;
  if (!positives) {
    const eye = new Float32Array(n * n);
    for (let i = 0; i < n; i++) eye[i * n + i] = 1;
    positives = g.constant(eye, [n, n]);
  }
  const rows = (p: Tensor): Tensor => g.div(p, g.reduceSum(p, [1], true));
  const ab = softCrossEntropy(g, logits, rows(positives));
  const ba = softCrossEntropy(g, g.transpose(logits, [1, 0]), rows(g.transpose(positives, [1, 0])));
  return g.mul(g.add(ab, ba), 0.5);
}
