// Dropout (training graphs only): a keep-mask from an in-graph hash of a per-step seed, so resume is exact.
import type { GraphBuilder } from "../graph.ts";
import type { Tensor } from "../tensor.ts";
import { numel } from "../tensor.ts";

/**
 * Zero each element with probability `p` and scale the rest by 1/(1−p); identity unless `g.training`.
 * Noise: u = frac(43758.5453·sin(φ_i + seed)), φ_i a per-element phase fixed at build time, seed = `g.noiseSeed()`.
 */
export function dropout(g: GraphBuilder, x: Tensor, p: number): Tensor {
  if (!g.training || p <= 0) return x;
  const n = numel(x.shape);
  const offset = g.nodes.length * 0.618034; // distinct per dropout site, deterministic per graph
  const phase = Float32Array.from({ length: n }, (_, i) => (i * 12.9898 + offset) % (2 * Math.PI));
  const h = g.mul(g.sin(g.add(g.constant(phase, x.shape), g.noiseSeed())), 43758.5453);
  const u = g.sub(h, g.floor(h));
  const keep = g.cast(g.less(u, 1 - p), "float32");
  return g.mul(x, g.mul(keep, 1 / (1 - p)));
}
