// How a trained policy is run, in one schema: Ta, temporal ensembling, DDIM steps, the starting noise's scale and the
// instruction's guidance scale.
// These are the settings inference alone reads (the network and its training do not depend on them), so every other
// shape of them derives from this one: model.json's `policy.inference`, loadPolicy's sampling options, the CLI's
// run-time flags (duet sim/eval/deploy), the settings `duet export policy` may rewrite, and the fields a resumed
// training run may change.
import { z } from "zod";

export const inferenceSchema = z
  .object({
    /** Ta: actions executed from each chunk before planning again (default 8; ≤ predSteps). */
    actionSteps: z.int().min(1).max(64).default(8),
    /**
     * Temporal ensembling (as in ACT, recursively): each chunk's actions are blended with the previous chunk's plan
     * for the same instants, weight `ensemble` on the previous (default 0: off). Consecutive chunks start from
     * independent noise, so their plans for one instant differ; replanning every step (actionSteps 1) with the blend
     * averages that out: the shipped U-Net went from 62 to 93 of 100 held-out episodes, the wide one from 77 to 96
     * (docs/experiments).
     */
    ensemble: z.number().min(0).max(0.95).default(0),
    /** DDIM steps per chunk (default 10; ≤ scheduler.trainSteps); the DDPM sampler always takes every step. */
    inferenceSteps: z.int().min(1).max(1000).default(10),
    /**
     * Standard deviation of the noise each chunk starts from (unset: 1, the trained distribution). Below 1 is a
     * sampling temperature: chunks nearer the modes, less different from one replan to the next.
     */
    noiseScale: z.number().min(0).max(10).optional(),
    /**
     * Classifier-free guidance on the instruction, scale w in [0, 20] (unset: 1, no guidance; only language-conditioned
     * diffusion policies): each denoising step predicts with the instruction (c) and with the null instruction (u),
     * and samples with u + w·(c − u). Above 1 the chunk follows the instruction more strongly, at twice the denoiser
     * work; 0 ignores it. Meaningful only for a policy trained with `train.augment.dropInstruction` > 0 (it must
     * have learned what the null instruction means; guidance.ts).
     */
    guidance: z.number().min(0).max(20).optional(),
  })
  .strict();
export type InferenceSettings = z.output<typeof inferenceSchema>;
/** Settings that override a model's own (CLI flags, loadPolicy options, a re-export). */
export type InferenceOverrides = Partial<InferenceSettings>;

/**
 * A policy config written before `inference` existed (the shipped models' first model.json files, old training
 * configs and checkpoints) had these settings at the top (actionSteps, ensemble) and in `scheduler` (inferenceSteps,
 * noiseScale): move them into `inference` (where a setting is given in both places, `inference` wins), so both layouts
 * load. Anything else passes through untouched for the schema to judge.
 */
export function migrateInference(raw: unknown): unknown {
  if (!isObject(raw)) return raw;
  const { actionSteps, ensemble, scheduler, inference, ...rest } = raw;
  const old: Record<string, unknown> = { actionSteps, ensemble };
  let sched = scheduler;
  if (isObject(scheduler)) {
    const { inferenceSteps, noiseScale, ...s } = scheduler;
    Object.assign(old, { inferenceSteps, noiseScale });
    sched = s;
  }
  const moved = Object.fromEntries(Object.entries(old).filter(([, v]) => v !== undefined));
  if (Object.keys(moved).length === 0) return raw;
  return {
    ...rest,
    ...(sched !== undefined && { scheduler: sched }),
    inference: isObject(inference) ? { ...moved, ...inference } : (inference ?? moved),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
