// Goal-embedding policies (policy.goal.embedding "clip") in training: each episode's goal is the CLIP image embedding
// of its last frame of the goal camera, by the `--clip` run's frozen image encoder, computed once before training
// (no augmentation: the same embedding in every window of the episode). The encoder's bytes go into the exported
// model (goal-image.onnx), so run time embeds goal frames with the very encoder the policy was trained on.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DuetError } from "../core/index.ts";
import type { Dataset } from "../data/index.ts";
import { GoalEncoder, type PolicyConfig } from "../policy/index.ts";
import { openClipRun } from "./clip-run.ts";

export interface GoalEmbeddings {
  /** Episode index → the unit-norm embedding `D` of its last goal-camera frame (undefined: an episode not used). */
  byEpisode: (Float32Array | undefined)[];
  /** D */
  dim: number;
  /** The clip run's image.onnx, as exported with the model. */
  encoder: Uint8Array;
}

/**
 * The goals of `episodes` of `dataset` (at `root`) for `policy`, by the clip run in `clip`; null for a policy without
 * goal embeddings. Refused, naming the flag: a goal-embedding policy without `--clip`, `--clip` for any other policy,
 * a clip run of another camera than policy.goal.camera, a dataset without that camera or with frames of another size.
 */
export async function goalEmbeddings(
  clip: string | undefined,
  dataset: Dataset,
  root: string,
  episodes: readonly number[],
  policy: PolicyConfig,
  source: string,
): Promise<GoalEmbeddings | null> {
  const goal = policy.goal;
  if (goal?.embedding === undefined) {
    if (clip === undefined) return null;
    throw new DuetError(
      `--clip ${clip}: ${source} reads no CLIP embedding (its policy.goal is ${JSON.stringify(goal)}); leave the ` +
        `flag out, or set policy.goal to {"camera": …, "embedding": "clip"}`,
    );
  }
  if (clip === undefined) {
    throw new DuetError(
      `${source}: policy.goal.embedding "clip" conditions the policy on a duet clip run's image embeddings of goal ` +
        `frames: give that run's output folder with --clip DIR`,
    );
  }
  const run = await openClipRun(clip);
  try {
    if (run.camera !== goal.camera) {
      throw new DuetError(
        `--clip ${clip}: that run paired frames of camera "${run.camera}", but ${source}'s policy.goal.camera is ` +
          `"${goal.camera}": the goal frames must be the clip run's camera's`,
      );
    }
    const cam = dataset.spec.cameras.find((c) => c.name === goal.camera);
    if (!cam) {
      throw new DuetError(
        `${root} has no camera "${goal.camera}" (${source}: policy.goal.camera; it has ${dataset.spec.cameras.map((c) => c.name).join(", ") || "none"})`,
      );
    }
    await dataset.load(episodes);
    const encoder = new GoalEncoder(run.image, join(clip, "image.onnx"));
    const frames = episodes.map((e) => ({
      data: dataset.frame(cam.name, e, dataset.episodes[e]!.length - 1),
      height: cam.height,
      width: cam.width,
    }));
    const all = await encoder.embed(frames);
    const byEpisode: (Float32Array | undefined)[] = [];
    episodes.forEach((e, i) => (byEpisode[e] = all.slice(i * encoder.dim, (i + 1) * encoder.dim)));
    return { byEpisode, dim: encoder.dim, encoder: readFileSync(join(clip, "image.onnx")) };
  } finally {
    await run.release();
  }
}
