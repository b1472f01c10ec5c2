// Losses (scalar outputs): mean squared error, cross-entropy with integer labels, symmetric InfoNCE.
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

/**
 * Symmetric InfoNCE (CLIP): a, b [B, D] paired by row; logits = â·b̂ᵀ/τ; mean of the a→b and b→a cross-entropies
 * with the diagonal as labels.
 */
export function infoNce(g: GraphBuilder, a: Tensor, b: Tensor, temperature = 0.07): Tensor {
  const n = a.shape[0] as number;
  const logits = g.mul(g.matmul(l2Normalize(g, a), g.transpose(l2Normalize(g, b), [1, 0])), 1 / temperature);
  const eye = new Float32Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  const labels = g.constant(eye, [n, n]);
  const ab = softCrossEntropy(g, logits, labels);
  const ba = softCrossEntropy(g, g.transpose(logits, [1, 0]), labels);
  return g.mul(g.add(ab, ba), 0.5);
}
