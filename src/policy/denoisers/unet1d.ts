// Diffusion Policy's ConditionalUnet1D, channels-last: residual Conv1d(k)–GroupNorm–Mish blocks with FiLM from
// (diffusion-step embedding ⊕ flattened observation features), stride-2 downsampling, transposed-conv upsampling, skips.
import { z } from "zod";
import {
  Conv1d,
  Film,
  GroupNorm,
  type FilmCondition,
  Linear,
  Upsample1d,
  mish,
  sinusoidalEmbedding,
  type GraphBuilder,
  type Tensor,
} from "../../nn/index.ts";
import { DuetError } from "../../core/index.ts";
import type { Denoiser, DenoiserDims } from "./denoiser.ts";

export const unetConfigSchema = z
  .object({
    name: z.literal("unet"),
    /** Channels per level (default [64, 128, 256]; Diffusion Policy uses [256, 512, 1024]). Each a multiple of groups. */
    downDims: z.array(z.int().positive()).min(1).max(5).default([64, 128, 256]),
    /** Conv kernel size (default 5, odd). */
    kernel: z
      .int()
      .min(1)
      .max(9)
      .refine((k) => k % 2 === 1, { message: "an odd kernel size" })
      .default(5),
    /** GroupNorm groups (default 8). */
    groups: z.int().positive().default(8),
    /** Width of the diffusion-step embedding (default 64, even). */
    stepEmbedDim: z
      .int()
      .min(4)
      .refine((d) => d % 2 === 0, { message: "an even width" })
      .default(64),
  })
  .strict();
export type UnetConfig = z.output<typeof unetConfigSchema>;

/** Conv1d → GroupNorm → Mish. */
function convBlock(g: GraphBuilder, name: string, x: Tensor, cin: number, cout: number, k: number, groups: number) {
  return g.scope(name, () =>
    mish(g, new GroupNorm("norm", groups, cout).apply(g, new Conv1d("conv", cin, cout, k).apply(g, x))),
  );
}

/**
 * The 1-D U-Net. Tp is not a power of two: the time axis is zero-padded at the end to the next multiple of
 * 2^(levels−1) (Tp = 10 with 3 levels → 12) inside the net, and the output is cropped back to Tp.
 *
 *   x: B,12,Dx → [res(Dx,64) res(64,64) down] 6 → [res(64,128) res(128,128) down] 3 → [res(128,256) res(256,256)]
 *   → mid res(256,256)×2 → [cat skip 3 → res(512,128) res(128,128) up] 6 → [cat skip 6 → res(256,64) res(64,64) up] 12
 *   → convBlock(64,64) → Conv1d(64,Dx,k=1) → crop to B,10,Dx
 */
export class ConditionalUnet1d implements Denoiser {
  /** Padded time length inside the net. */
  readonly paddedHorizon: number;
  /** Mish of the flattened observation features, per cond tensor of the unrolled sampler graph. */
  private readonly observationInputs = new WeakMap<Tensor, Tensor>();

  constructor(
    readonly config: UnetConfig,
    readonly dims: DenoiserDims,
  ) {
    const bad = config.downDims.filter((c) => c % config.groups !== 0);
    if (bad.length > 0) {
      throw new DuetError(`unet: downDims ${bad.join(", ")} are not multiples of groups = ${config.groups}`);
    }
    const m = 2 ** (config.downDims.length - 1);
    this.paddedHorizon = Math.ceil(dims.horizon / m) * m;
  }

  /** cond: the Mish-activated FiLM input, [step embedding, observation features]. */
  private resBlock(g: GraphBuilder, name: string, x: Tensor, cond: FilmCondition, cin: number, cout: number): Tensor {
    const { kernel: k, groups, stepEmbedDim } = this.config;
    const condDim = stepEmbedDim + this.dims.obsSteps * this.dims.obsDim;
    return g.scope(name, () => {
      let h = convBlock(g, "block0", x, cin, cout, k, groups);
      h = new Film("film", condDim, cout).apply(g, h, cond);
      h = convBlock(g, "block1", h, cout, cout, k, groups);
      const skip = cin === cout ? x : new Conv1d("residual", cin, cout, 1).apply(g, x);
      return g.add(h, skip);
    });
  }

  apply(g: GraphBuilder, sample: Tensor, timestep: Tensor, cond: Tensor): Tensor {
    return g.scope("denoiser", () => {
      const { downDims, stepEmbedDim: dsed, kernel: k, groups } = this.config;
      const [b] = sample.shape as [number, number, number];
      const { horizon: tp, sampleDim: dx, obsSteps, obsDim } = this.dims;
      let step = sinusoidalEmbedding(g, timestep, dsed);
      step = new Linear("step_fc0", dsed, 4 * dsed).apply(g, step);
      step = new Linear("step_fc1", 4 * dsed, dsed).apply(g, mish(g, step));
      // Every FiLM layer reads Mish([step, observation]) = [Mish(step), Mish(observation)]: computed once here, not
      // once per residual block. With a constant timestep (each step of the unrolled sampler graph) in two parts, so
      // that onnxruntime folds the step's FiLM projections into constants and the observation's are built once per
      // graph (Film); with a timestep input (training, the per-step graph) whole: one projection per layer.
      const obs = () => g.reshape(cond, [b, obsSteps * obsDim]);
      let filmIn: FilmCondition;
      if (timestep.kind === "const") {
        let fixed = this.observationInputs.get(cond);
        if (!fixed) {
          fixed = mish(g, obs());
          this.observationInputs.set(cond, fixed);
        }
        filmIn = { varying: mish(g, step), fixed };
      } else filmIn = mish(g, g.concat([step, obs()], 1));

      let x = this.paddedHorizon > tp ? g.pad(sample, [0, 0, 0, 0, this.paddedHorizon - tp, 0]) : sample;
      const dims = [dx, ...downDims];
      const skips: Tensor[] = [];
      for (let i = 0; i < downDims.length; i++) {
        const cin = dims[i] as number;
        const cout = dims[i + 1] as number;
        x = this.resBlock(g, `down${i}.res0`, x, filmIn, cin, cout);
        x = this.resBlock(g, `down${i}.res1`, x, filmIn, cout, cout);
        skips.push(x);
        if (i < downDims.length - 1) x = new Conv1d(`down${i}.downsample`, cout, cout, 3, { stride: 2 }).apply(g, x);
      }
      const mid = downDims.at(-1) as number;
      x = this.resBlock(g, "mid0", x, filmIn, mid, mid);
      x = this.resBlock(g, "mid1", x, filmIn, mid, mid);
      for (let i = downDims.length - 1; i > 0; i--) {
        const cout = downDims[i - 1] as number;
        const cin = downDims[i] as number;
        x = g.concat([x, skips[i] as Tensor], 2);
        x = this.resBlock(g, `up${i}.res0`, x, filmIn, 2 * cin, cout);
        x = this.resBlock(g, `up${i}.res1`, x, filmIn, cout, cout);
        x = new Upsample1d(`up${i}.upsample`, cout, cout).apply(g, x);
      }
      const c0 = downDims[0] as number;
      x = convBlock(g, "final", x, c0, c0, k, groups);
      x = new Conv1d("head", c0, dx, 1).apply(g, x);
      return this.paddedHorizon > tp ? g.slice(x, [1], [0], [tp]) : x;
    });
  }
}
