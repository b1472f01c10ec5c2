// models/NAME/model.json: everything needed to run a trained policy besides the ONNX graphs — config, normalizer
// ranges, cameras, horizons (To/Tp/Ta in `config`), robot and provenance. Validated with zod when loaded.
import { z } from "zod";
import { AUDIO_SAMPLE_RATE } from "../../core/index.ts";
import { policyConfigSchema } from "./config.ts";
import { rangeSchema } from "../normalizer.ts";

export const MODEL_FORMAT = "duet-policy-v1";
export const MODEL_FILE = "model.json";
/** Graph files inside a model directory. */
export const GRAPH_FILES = { encoder: "encoder.onnx", denoiser: "denoiser.onnx", sampler: "sampler.onnx" } as const;
/** A goal-embedding policy's goal encoder in its model directory: a copy of its duet clip run's image.onnx. */
export const GOAL_ENCODER_FILE = "goal-image.onnx";

const cameraShapeSchema = z
  .object({ name: z.string().min(1), height: z.int().positive(), width: z.int().positive() })
  .strict();

export const policyModelSchema = z
  .object({
    format: z.literal(MODEL_FORMAT),
    /** Fully resolved policy config (defaults filled in). */
    config: policyConfigSchema,
    /** Robot the data came from (dataset `robot_type`). */
    robotType: z.string().min(1),
    /** Control rate the data was recorded at (Hz); actions are spaced 1/fps apart. */
    fps: z.int().positive(),
    stateNames: z.array(z.string()).min(1),
    actionNames: z.array(z.string()).min(1),
    /**
     * With config.observeScene: the environment-state entries observations carry, in order (the policy reads those
     * config.sceneEntries names, or all).
     */
    environmentNames: z.array(z.string()).min(1).optional(),
    /** Cameras the policy looks through, in input order. */
    cameras: z.array(cameraShapeSchema),
    /**
     * Min-max ranges ([−1, 1] normalization): the training dataset's meta/stats.json; with config.actions
     * "relative" the action range is that of the offsets a[t+k] − s[t] over the dataset's windows (with
     * config.actionRange "per-step" one range per chunk step: predSteps × the action names, row-major).
     */
    normalizer: z
      .object({
        state: rangeSchema,
        action: rangeSchema,
        environment: rangeSchema.optional(),
        /** With config.audio: the spectrogram's scalar normalisation x → (x − mean) / std (training windows). */
        audio: z.object({ mean: z.number(), std: z.number().positive() }).strict().optional(),
      })
      .strict(),
    /** Graph files; `sampler` (the unrolled DDIM loop at config.inference.inferenceSteps) may be null. */
    files: z
      .object({ encoder: z.string().min(1), denoiser: z.string().min(1), sampler: z.string().min(1).nullable() })
      .strict(),
    /**
     * With config.goal.embedding: the goal encoder, a copy of the duet clip run's image.onnx (camera frame `N,H,W,3`
     * → unit-norm embedding `N,D`) that made the training goals, its SHA-256 and D. Run time embeds goal frames with
     * it, and a prior (duet sim --prior) must have been trained on the same encoder.
     */
    goalEncoder: z
      .object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), dim: z.int().positive() })
      .strict()
      .optional(),
    /** Where the model came from: dataset, steps, seed, wall time, commands, evaluation… (free-form). */
    provenance: z.record(z.string(), z.unknown()),
  })
  .strict()
  .superRefine((m, ctx) => {
    const check = (path: (string | number)[], got: number, want: number, what: string): void => {
      if (got !== want) ctx.addIssue({ code: "custom", path, message: `${want} entries (${what}); found ${got}` });
    };
    check(["normalizer", "state", "min"], m.normalizer.state.min.length, m.stateNames.length, "one per state name");
    const perStep = m.config.actionRange === "per-step";
    check(
      ["normalizer", "action", "min"],
      m.normalizer.action.min.length,
      (perStep ? m.config.predSteps : 1) * m.actionNames.length,
      perStep ? "one per chunk step and action name" : "one per action name",
    );
    if (m.config.observeScene) {
      if (!m.environmentNames || !m.normalizer.environment) {
        ctx.addIssue({
          code: "custom",
          path: [m.environmentNames ? "normalizer" : "environmentNames"],
          message: "environmentNames and normalizer.environment (config.observeScene is true)",
        });
      } else {
        const want = m.environmentNames.length;
        check(
          ["normalizer", "environment", "min"],
          m.normalizer.environment.min.length,
          want,
          "one per environment name",
        );
      }
    }
    if (m.config.audio && AUDIO_SAMPLE_RATE % m.fps !== 0) {
      ctx.addIssue({
        code: "custom",
        path: ["fps"],
        message: `a divisor of ${AUDIO_SAMPLE_RATE} (config.audio: a whole number of sound samples per control period); found ${m.fps}`,
      });
    }
    if ((m.config.goal?.embedding !== undefined) !== (m.goalEncoder !== undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["goalEncoder"],
        message: m.goalEncoder
          ? "absent: config.goal.embedding is not set"
          : "the goal encoder's file, sha256 and dim (config.goal.embedding is set)",
      });
    }
    if (m.config.audio && !m.normalizer.audio) {
      ctx.addIssue({ code: "custom", path: ["normalizer", "audio"], message: "mean and std (config.audio is set)" });
    }
    const unknown = (m.config.sceneEntries ?? []).filter((n) => !(m.environmentNames ?? []).includes(n));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["config", "sceneEntries"],
        message: `names among environmentNames; ${unknown.join(", ")} are not`,
      });
    }
    if (m.config.actions === "relative") {
      check(
        ["actionNames"],
        m.actionNames.length,
        m.stateNames.length,
        'config.actions "relative": one per state name',
      );
    }
    if (m.config.cameras !== null) {
      const names = m.cameras.map((c) => c.name).join(",");
      if (names !== m.config.cameras.join(",")) {
        ctx.addIssue({
          code: "custom",
          path: ["cameras"],
          message: `the cameras of config.cameras (${m.config.cameras.join(", ")})`,
        });
      }
    }
  });
export type PolicyModel = z.output<typeof policyModelSchema>;
