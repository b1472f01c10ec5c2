// The policy configuration (stored in model.json and in training configs), with Diffusion Policy's defaults.
import { z } from "zod";
import { DuetError } from "../../core/index.ts";
import { SoundWindow, encoderRefSchema, textEncoderConfigSchema } from "../../encoders/index.ts";
import { schedulerConfigSchema } from "../schedulers/index.ts";
import { inferenceSchema, migrateInference } from "./inference.ts";
import { denoiserConfigSchema } from "../registry.ts";

const policyFields = z
  .object({
    /** "diffusion" (denoise from noise) or "regression" (the baseline: predict the chunk directly, MSE). */
    objective: z.enum(["diffusion", "regression"]).default("diffusion"),
    /** To: observation steps the policy sees (default 2). */
    obsSteps: z.int().min(1).max(16).default(2),
    /** Tp: action steps per chunk (default 10). */
    predSteps: z.int().min(1).max(64).default(10),
    /**
     * "absolute": a chunk holds joint targets. "relative": offsets from the latest observed state, a[t+k] − s[t]
     * (state entry j pairs with action entry j), added back at run time. Relative chunks spare the network
     * reproducing the arm's configuration: fed recorded observations, an absolute U-Net's first target was off by
     * 0.005–0.033 rad, no better than repeating the state, relative 0.003–0.012; the task tolerates ≈ 0.005 rad
     * (configs/README.md).
     */
    actions: z.enum(["absolute", "relative"]).default("absolute"),
    /**
     * Normalization range of relative actions. "shared": one min-max range per joint over the whole chunk.
     * "per-step": one per joint and chunk step k, so the first steps (the ones executed) keep their own, much finer
     * scale: on 200 expert episodes the offsets of joints 1–6 span ±0.04–0.08 rad at k = 0 and ±0.29–0.55 rad at
     * k = 9 (configs/README.md). Only with actions "relative" (absolute targets span the same range at every k).
     */
    actionRange: z.enum(["shared", "per-step"]).default("shared"),
    /**
     * Feed the joint state to the denoiser as a feature (default true). false: the policy sees only the cameras (a
     * "relative" policy still adds its offsets to the latest state). With the state in view, trained U-Nets read the
     * bottle's place from the arm's own path instead of from the images: frames of another episode with the same
     * holder left their output unchanged (configs/README.md), and in closed loop they tipped the bottle. Leaving the
     * state out did not make the observer localize either (docs/experiments: 0/20, output still unchanged).
     */
    observeState: z.boolean().default(true),
    /**
     * Also feed the simulator's scene state (`observation.environment_state`: bottle and cap in each hand's frame,
     * tilt, thread turns) as a feature (default false). Privileged: only the simulator has it, so such a policy runs
     * in simulation only. It is the diagnostic that splits control from perception (does the policy succeed when it
     * is told where things are?) and the teacher a camera policy could be distilled from.
     */
    observeScene: z.boolean().default(false),
    /**
     * With observeScene: the scene-state entries the policy reads, by name (default null: all of them). Leaving some
     * out hides them: the audio ablation's policies read the bottle but nothing of the cap or the thread
     * (configs/README.md).
     */
    sceneEntries: z.array(z.string().min(1)).min(1).nullable().default(null),
    /**
     * Condition on the episode's instruction (the LeRobot `task` in recordings, `Observation.instruction` at run
     * time): a byte-level causal text encoder (src/encoders' TextTransformer, these options) trained with the policy, its
     * features joined to every observation step's (default null: no instruction read). The instruction is what tells
     * a multi-task policy which task, and which hand holds; the images alone cannot.
     */
    language: textEncoderConfigSchema.nullable().default(null),
    /**
     * Condition on a goal picture (`Observation.goal` at run time; in training the last frame of the window's
     * episode): a frame of `camera`, one of the policy's cameras, through that camera's encoder (the same weights,
     * so goal and view share a feature space), its features joined to every observation step's (default null).
     * The image-goal alternative to an instruction: it shows what "done" looks like, including which hand holds.
     * With `embedding: "clip"` the goal is instead the unit-norm CLIP image embedding of such a frame
     * (`Observation.goalEmbedding`), made by a `duet clip` run's frozen image encoder (`duet train --clip DIR`;
     * `camera` must be that run's camera, not necessarily one the policy looks through), so that a prior can give
     * it from an instruction (`duet sim|eval --prior`).
     */
    goal: z
      .object({ camera: z.string().min(1), embedding: z.literal("clip").optional() })
      .strict()
      .nullable()
      .default(null),
    /**
     * Hear (`Observation.audio` at run time, `observation.audio` in recordings): the log-mel spectrogram of the last
     * `window` control periods of sound (src/encoders' SoundWindow) through a spectrogram transformer trained with the
     * policy (src/encoders' AudioEncoder: patch, dim, depth, heads, featureDim), its features joined to every observation
     * step's (default null: deaf). Sound tells what cameras may not see: thread clicks while turning, the release.
     */
    audio: z
      .object({
        window: z.int().min(1).max(50).default(10),
        patch: z.int().min(1).default(16),
        dim: z.int().min(1).default(64),
        depth: z.int().min(1).max(12).default(2),
        heads: z.int().min(1).default(4),
        featureDim: z.int().min(1).default(64),
      })
      .strict()
      .nullable()
      .default(null),
    /** Also denoise the future states alongside the actions (Diffuser-style joint prediction; default false). */
    predictStates: z.boolean().default(false),
    /** Image encoder for every camera (`{ "name": …, …options }`: a preset such as "vit-patch16", or an architecture, "vit", "tubelet" or "cnn"; src/encoders/registry.ts), or null: state only. */
    encoder: encoderRefSchema.nullable().default(null),
    /** Cameras to look through (default null: every camera of the dataset when an encoder is set). */
    cameras: z.array(z.string().min(1)).nullable().default(null),
    /** Denoiser network (default the 1-D U-Net with its defaults). */
    denoiser: denoiserConfigSchema.prefault({ name: "unet" }),
    /** Noise schedule and sampler. */
    scheduler: schedulerConfigSchema.prefault({}),
    /** How the trained policy is run: Ta, ensembling, DDIM steps, noise scale (inference.ts). */
    inference: inferenceSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.inference.actionSteps > c.predSteps) {
      ctx.addIssue({
        code: "custom",
        path: ["inference", "actionSteps"],
        message: `≤ predSteps (${c.predSteps}); received ${c.inference.actionSteps}`,
      });
    }
    if (c.actionRange === "per-step" && c.actions !== "relative") {
      ctx.addIssue({
        code: "custom",
        path: ["actionRange"],
        message: '"shared" unless actions is "relative" (absolute targets span the same range at every step)',
      });
    }
    if (!c.observeState && c.encoder === null) {
      ctx.addIssue({
        code: "custom",
        path: ["observeState"],
        message: "true when there is no encoder: without the state and cameras the policy would see nothing",
      });
    }
    if (c.sceneEntries !== null && !c.observeScene) {
      ctx.addIssue({ code: "custom", path: ["sceneEntries"], message: "null unless observeScene is true" });
    }
    const guidance = c.inference.guidance ?? 1;
    if (guidance !== 1 && (c.language === null || c.objective !== "diffusion")) {
      ctx.addIssue({
        code: "custom",
        path: ["inference", "guidance"],
        message: `unset or 1 ${c.language === null ? "for a policy without language (guidance weighs the instruction)" : 'unless objective is "diffusion"'}`,
      });
    }
    if (c.inference.inferenceSteps > c.scheduler.trainSteps) {
      ctx.addIssue({
        code: "custom",
        path: ["inference", "inferenceSteps"],
        message: `≤ trainSteps (${c.scheduler.trainSteps})`,
      });
    }
  });
/** The policy config; a config of the layout before `inference` is read too (migrateInference). */
export const policyConfigSchema = z.preprocess(migrateInference, policyFields);
export type PolicyConfig = z.output<typeof policyFields>;
export type PolicyConfigInput = z.input<typeof policyFields>;

/**
 * The policy config fields only inference reads, as paths into the policy config: the network and its training do
 * not depend on them, so a resumed (or finished, re-exported) training run may change them. Derived from the schema:
 * the `inference` object, whole.
 */
export const INFERENCE_ONLY_FIELDS = [["inference"]] as const satisfies readonly (readonly [keyof PolicyConfig])[];

/**
 * Where the entries a privileged policy reads sit among the scene state's `names` (every entry without
 * config.sceneEntries). An entry the scene state lacks throws, naming it and `source`.
 */
export function sceneIndices(config: PolicyConfig, names: readonly string[], source: string): number[] {
  const wanted = config.sceneEntries ?? names;
  const missing = wanted.filter((n) => !names.includes(n));
  if (missing.length > 0) {
    throw new DuetError(
      `${source}: policy.sceneEntries names ${missing.join(", ")}, not in the scene state (${names.join(", ")})`,
    );
  }
  return wanted.map((n) => names.indexOf(n));
}

/** Observations a policy with this config wants in its history: To, or the sound window's periods if longer. */
export function historyStepsOf(config: PolicyConfig): number {
  return Math.max(config.obsSteps, config.audio?.window ?? 0);
}

/** The sound window a hearing policy (config.audio) hears, `samples` per control period; null for a deaf one. */
export function soundWindowOf(config: PolicyConfig, samples: number): SoundWindow | null {
  return config.audio ? new SoundWindow(config.audio.window, samples, config.audio.patch) : null;
}

/** The picked entries of every row: out[k·n + i] = full[k·N + idx[i]] for every row k (n = idx.length, N = full.length / rows). */
export function pickEntries(full: Float32Array, idx: readonly number[], out: Float32Array): void {
  const n = idx.length;
  if (n === 0) return;
  const rows = out.length / n;
  const width = full.length / rows;
  for (let k = 0; k < rows; k++)
    for (let i = 0; i < n; i++) out[k * n + i] = full[k * width + (idx[i] as number)] as number;
}
