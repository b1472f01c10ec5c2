// DALL-E 2's prior, small: a diffusion model over CLIP image embeddings conditioned on a CLIP text embedding, so an
// instruction can be turned into the embedding of a picture of its goal. One definition → the training graph and the
// unrolled DDIM sampler (prior.onnx). The denoiser predicts the sample x̂0, as DALL-E 2's prior does.
//
// Scale: every graph takes CLIP's unit-norm embeddings and works on them times √D (D the embedding width), so each
// coordinate has about unit variance, like the N(0, 1) noise it is mixed with (DALL-E 2 scales its prior's image
// embeddings the same way). Without it a unit vector's coordinates (≈ 1/√D) would drown in the noise after the first
// few diffusion steps. x̂0 is not clipped (coordinates of the scaled vector exceed 1), and the sampler's output is
// normalised back onto the unit sphere, where CLIP compares embeddings by cosine.
import { z } from "zod";
import { DuetError } from "../../core/index.ts";
import { GraphBuilder, l2Normalize, mseLoss, type Tensor } from "../../nn/index.ts";
import { MlpDenoiser, mlpConfigSchema } from "../denoisers/mlp.ts";
import { DdimSampler } from "../schedulers/ddim.ts";
import { NoiseSchedule } from "../schedulers/noise-schedule.ts";

export const priorConfigSchema = z
  .object({
    /** The residual MLP denoiser (default: its defaults). */
    denoiser: mlpConfigSchema.prefault({}),
    /** Diffusion steps the denoiser is trained on (default 100; cosine schedule). */
    trainSteps: z.int().min(2).max(1000).default(100),
    /** DDIM steps unrolled into the exported sampler (default 10; at most trainSteps). */
    samplingSteps: z.int().min(1).max(1000).default(10),
  })
  .strict();
export type PriorConfig = z.output<typeof priorConfigSchema>;
export type PriorConfigInput = z.input<typeof priorConfigSchema>;

/** Graph tensor names of the prior's graphs. */
export const PRIOR_IO = {
  /** CLIP text embedding `B,D` (unit norm). */
  text: "text_embedding",
  /** CLIP image embedding `B,D` (unit norm): the training target, and the sampler's output. */
  image: "image_embedding",
  /** Standard normal `B,D`: the diffusion noise (training), the starting point x_T (sampler). */
  noise: "noise",
  /** Training: diffusion step `B`, √ᾱ and √(1−ᾱ) `B,1,1`. */
  timestep: "timestep",
  sqrtAlphaBar: "sqrt_alpha_bar",
  sqrtOneMinusAlphaBar: "sqrt_one_minus_alpha_bar",
} as const;

export class PriorNetwork {
  readonly denoiser: MlpDenoiser;
  readonly schedule: NoiseSchedule;
  /** √D: unit-norm embeddings times this have coordinates of about unit variance. */
  readonly scale: number;

  constructor(
    readonly config: PriorConfig,
    /** D: the CLIP embedding width (text and image alike). */
    readonly dim: number,
  ) {
    if (config.samplingSteps > config.trainSteps) {
      throw new DuetError(
        `prior: samplingSteps ${config.samplingSteps} is more than the ${config.trainSteps} trainSteps it samples from`,
      );
    }
    this.denoiser = new MlpDenoiser(config.denoiser, { horizon: 1, sampleDim: dim, obsSteps: 1, obsDim: dim });
    this.schedule = new NoiseSchedule({
      trainSteps: config.trainSteps,
      betaSchedule: "squaredcos_cap_v2",
      clipSample: false,
      prediction: "sample",
    });
    this.scale = Math.sqrt(dim);
  }

  /** The denoiser's x̂0 `B,1,D` (scaled) from the noisy scaled sample `x: B,1,D`, timestep `B` (or `1`), text `B,D`. */
  denoise(g: GraphBuilder, x: Tensor, timestep: Tensor, text: Tensor): Tensor {
    const b = text.shape[0] as number;
    return this.denoiser.apply(g, x, timestep, g.reshape(g.mul(text, this.scale), [b, 1, this.dim]));
  }

  /** Training loss for batch `b` (PRIOR_IO's training inputs): mse(x̂0(√ᾱ·x0 + √(1−ᾱ)·noise, t, text), x0), x0 = √D·image. */
  trainingLoss(b: number): { g: GraphBuilder; loss: Tensor } {
    const g = new GraphBuilder();
    const d = this.dim;
    const text = g.input(PRIOR_IO.text, [b, d]);
    const x0 = g.reshape(g.mul(g.input(PRIOR_IO.image, [b, d]), this.scale), [b, 1, d]);
    const noise = g.reshape(g.input(PRIOR_IO.noise, [b, d]), [b, 1, d]);
    const t = g.input(PRIOR_IO.timestep, [b]);
    const sa = g.input(PRIOR_IO.sqrtAlphaBar, [b, 1, 1]);
    const sb = g.input(PRIOR_IO.sqrtOneMinusAlphaBar, [b, 1, 1]);
    const noisy = g.add(g.mul(x0, sa), g.mul(noise, sb));
    return { g, loss: mseLoss(g, this.denoise(g, noisy, t, text), x0) };
  }

  /**
   * The DDIM loop of `config.samplingSteps` steps unrolled into one graph (built for batch 1; exported with the batch
   * axis free): text `B,D`, noise `B,D` → image embedding `B,D`, the last step's x̂0 normalised to unit length.
   */
  samplerGraph(): GraphBuilder {
    const g = new GraphBuilder();
    g.inference = true;
    const d = this.dim;
    const text = g.input(PRIOR_IO.text, [1, d]);
    const noise = g.reshape(g.input(PRIOR_IO.noise, [1, d]), [1, 1, d]);
    const ddim = new DdimSampler(this.schedule, this.config.samplingSteps);
    const x0 = ddim.unroll(g, noise, (x, t) => this.denoise(g, x, g.constant(Float32Array.of(t), [1]), text));
    g.output(PRIOR_IO.image, l2Normalize(g, g.reshape(x0, [1, d])));
    return g;
  }
}
