// Classifier-free guidance on the instruction (Ho & Salimans 2022), in two forms side by side: `guide` on numbers
// (the policy's loop: one denoiser run with the instruction and one with the null instruction per step) and
// `guideGraph` on graph tensors (the unrolled sampler: both in one batch of 2B). Prediction with scale w:
// u + w·(c − u), c with the instruction, u with the null instruction (Tokenizer.blank), for ε and x̂0 alike;
// w = 1 is c itself, and the samplers then run exactly as without guidance (no second prediction).
//
// Decision: the unconditional cond is the conditional one with the instruction's feature slice replaced by the null
// instruction's features (ObservationEncoder.withoutInstruction), not a second encoder run: the instruction's features
// are a slice of their own in cond, and the null instruction's depend on no observation.
import type { GraphBuilder, Tensor } from "../../nn/index.ts";
import type { PolicyConfig } from "./config.ts";

/** The guidance scale a policy samples with: config.inference.guidance, unset 1. */
export function guidanceOf(config: PolicyConfig): number {
  return config.inference.guidance ?? 1;
}

/** In place: cond ← u + w·(cond − u), for the predictions with (cond) and without (u) the instruction. */
export function guide(cond: Float32Array, u: Float32Array, w: number): void {
  for (let i = 0; i < cond.length; i++) cond[i] = (u[i] as number) + w * ((cond[i] as number) - (u[i] as number));
}

/** Predictions `2B,…`, the B rows with the instruction then the B without → the guided `B,…`. */
export function guideGraph(g: GraphBuilder, pred: Tensor, b: number, w: number): Tensor {
  const c = g.slice(pred, [0], [0], [b]);
  const u = g.slice(pred, [0], [b], [2 * b]);
  return g.add(u, g.mul(g.sub(c, u), w));
}
