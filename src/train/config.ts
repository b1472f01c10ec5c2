// A training config file: the policy to train and how to train it. Plain JSON, validated with zod; defaults documented.
import { z } from "zod";
import { loadJsonFile } from "../core/index.ts";
import { policyConfigSchema } from "../policy/index.ts";

export const trainSettingsSchema = z
  .object({
    /** Optimizer steps (default 20000). */
    steps: z.int().positive().default(20000),
    /** Windows per batch (default 64). */
    batchSize: z.int().positive().max(4096).default(64),
    /** Peak AdamW learning rate (default 1e-4, Diffusion Policy's). */
    lr: z.number().positive().max(1).default(1e-4),
    /** Linear warm-up steps before the cosine decay (default 500). */
    warmupSteps: z.int().nonnegative().default(500),
    /** Decoupled weight decay (default 1e-6, Diffusion Policy's). */
    weightDecay: z.number().nonnegative().default(1e-6),
    /** Clip the global gradient norm to this (default null: no clipping). */
    clipNorm: z.number().positive().nullable().default(null),
    /** EMA of the weights (Diffusion Policy: power 0.75, max 0.9999); the EMA weights are exported. */
    ema: z
      .object({ power: z.number().positive().default(0.75), maxValue: z.number().min(0).max(1).default(0.9999) })
      .strict()
      .prefault({}),
    /** Share of episodes held out for the validation loss (default 0.1). */
    valFraction: z.number().min(0).max(0.9).default(0.1),
    /** Validation loss every this many steps (default 500; 0 = only at the end). */
    valEvery: z.int().nonnegative().default(500),
    /** Batches in one validation pass (default 4; fixed windows and noise, so passes compare). */
    valBatches: z.int().positive().default(4),
    /** Evaluation in simulation every this many steps (default 0: only at the end, if an evaluator is wired). */
    evalEvery: z.int().nonnegative().default(0),
    /** Checkpoint (and export the model) every this many steps (default 1000). */
    checkpointEvery: z.int().positive().default(1000),
    /** Log line every this many steps (default 50). */
    logEvery: z.int().positive().default(50),
    /** Seed of initialization, batches, noise and augmentation (default 0). */
    seed: z.int().nonnegative().default(0),
    /**
     * Weight of the scene auxiliary loss (default 0: off). With w > 0 a linear head reads the latest frame's
     * `observation.environment_state` (a simulator's privileged scene state: where the bottle and the cap are, in the
     * world and in each hand's frame; min-max normalized) from that frame's image features, and w·mse joins the loss.
     * Meant to make the observer localize the bottle: the head learns the scene on held-out episodes (validation scene
     * loss ≈ 0.002), but closed loop the policies did not improve (docs/experiments). Needs a dataset recorded with
     * environment state; training only: the head is not exported.
     */
    sceneLoss: z.number().nonnegative().default(0),
    /**
     * Learn only from episodes recorded as successful (default true): a failed demonstration (an expert that lost
     * the bottle after a lead policy's takeover, an operator's botched try) teaches the failure.
     */
    successfulOnly: z.boolean().default(true),
    /**
     * Distillation (`duet train --teacher DIR`; default unset: train on the demonstrations; unset rather than null so
     * that checkpoints saved before this field resume). The policy becomes a
     * student of the teacher model: its `ddimSteps`-step DDIM sampler learns to reproduce the teacher's own
     * deterministic DDIM sample from the same starting noise and observation (train/teacher.ts). The student's
     * `policy.inference.inferenceSteps` must be `ddimSteps`, and its noise scale the teacher's.
     */
    distill: z
      .object({
        /** K: DDIM steps of the student's sampler, the steps it is trained through and exports (≥ 1). */
        ddimSteps: z.int().min(1).max(1000),
        /**
         * Starting noises per training window (default 4): the teacher's samples are computed ahead for every window
         * and each of its noises, so this many pairs per window are what the student learns the map from.
         */
        noisesPerWindow: z.int().min(1).max(256).default(4),
        /**
         * Start the student from the teacher's denoiser weights (default false: a fresh initialisation); the student's
         * `policy.denoiser` must then be the teacher's. A teacher that loses little at K steps starts near its goal.
         */
        initFromTeacher: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** onnxruntime threads for the training graph (default 2: this machine's cores). */
    threads: z.int().positive().max(64).default(2),
    augment: z
      .object({
        /** Random image shift of up to ± this many pixels, edges replicated (default 4; 0 = off). */
        imageShift: z.int().nonnegative().default(4),
        /**
         * Colour jitter: each image's brightness scaled by a factor from [1 − brightness, 1 + brightness], drawn per
         * camera and window (default 0 = off). Only a jointly trained observer sees it (not --observer-from).
         */
        brightness: z.number().min(0).max(1).default(0),
        /** Colour jitter: each image's contrast about its mean grey, a factor from [1 − contrast, 1 + contrast] (default 0). */
        contrast: z.number().min(0).max(1).default(0),
        /** Gaussian noise added to normalized states, std (default 0). */
        stateNoise: z.number().nonnegative().default(0),
        /**
         * Language-conditioned policies: the probability that a training window's instruction is replaced by another
         * phrasing of the same task and hand, drawn from the paraphrase grammar (src/sim/instruction-grammar.ts; every
         * episode's instruction must be one it knows, as every phrasing of scenarios/multi-task.json is). Default 0.
         */
        paraphrase: z.number().min(0).max(1).default(0),
        /**
         * Language-conditioned policies: the probability that a training window's instruction is replaced by the
         * null instruction (Tokenizer.blank), the condition dropout that classifier-free guidance
         * (`policy.inference.guidance`, `duet sim --guidance`) needs: the policy also learns to act without being told
         * the task. Validation batches keep the recorded instruction. Unset: 0, none (unset rather than 0 so that
         * checkpoints saved before this field resume).
         */
        dropInstruction: z.number().min(0).lt(1).optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type TrainSettings = z.output<typeof trainSettingsSchema>;

/** What the dataset must be (training refuses to start otherwise). All optional. */
export const datasetExpectationSchema = z
  .object({
    /** Dataset robot_type. */
    robotType: z.string().min(1).optional(),
    /** Ds */
    stateDim: z.int().positive().optional(),
    /** Da */
    actionDim: z.int().positive().optional(),
    /** Frames per second. */
    fps: z.int().positive().optional(),
  })
  .strict();

export const trainConfigSchema = z
  .object({
    policy: policyConfigSchema.prefault({}),
    train: trainSettingsSchema.prefault({}),
    dataset: datasetExpectationSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const drop = c.train.augment.dropInstruction ?? 0;
    if (drop > 0 && c.policy.language === null) {
      ctx.addIssue({
        code: "custom",
        path: ["train", "augment", "dropInstruction"],
        message: `0 or unset for a policy without policy.language (there is no instruction to drop)`,
      });
    }
  });
export type TrainConfig = z.output<typeof trainConfigSchema>;
export type TrainConfigInput = z.input<typeof trainConfigSchema>;

/** Read and validate a training config file (errors name the file and every bad field). */
export function loadTrainConfig(file: string): TrainConfig {
  return loadJsonFile(file, trainConfigSchema);
}
