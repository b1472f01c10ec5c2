// What every denoiser is: an nn module from a noisy chunk, its diffusion step and observation tokens to a chunk.
import type { GraphBuilder, Tensor } from "../../nn/index.ts";

/** Sizes a denoiser is built for. */
export interface DenoiserDims {
  /** Tp: steps in a chunk. */
  horizon: number;
  /** Dx: numbers per chunk step (Da actions, plus Ds states when states are predicted jointly). */
  sampleDim: number;
  /** To: observation steps (tokens) conditioning the chunk. */
  obsSteps: number;
  /** Dobs: features per observation step. */
  obsDim: number;
}

/** A conditional denoiser defined once with nn: the same `apply` serves the training and inference graphs. */
export interface Denoiser {
  readonly dims: DenoiserDims;
  /**
   * `sample: B,Tp,Dx` (normalized noisy chunk), `timestep: B` (diffusion step as float32), `cond: B,To,Dobs`
   * → `B,Tp,Dx` (predicted noise, or the chunk itself for regression). Parameters live under scope "denoiser".
   */
  apply(g: GraphBuilder, sample: Tensor, timestep: Tensor, cond: Tensor): Tensor;
}
