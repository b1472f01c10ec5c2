// The normalizers a policy trains with and exports in model.json, fitted on the episodes it learns from: min-max ranges
// of states and actions (relative actions: of the chunks relative to their latest state), the scene state's widened
// range, and a hearing policy's spectrogram normalisation.
import { ACTION_KEY, ENVIRONMENT_KEY, STATE_KEY } from "../core/index.ts";
import type { Dataset } from "../data/index.ts";
import type { FeatureRange, ModelInfo, PolicyNetwork } from "../policy/index.ts";
import type { TrainConfig } from "./config.ts";
import { hearEpisodes, type EpisodeSounds } from "./hearing.ts";
import { relativeActionRange } from "./relative.ts";

export interface FittedNormalizers {
  /** What model.json stores (the scene range only when the policy observes the scene). */
  normalizer: ModelInfo["normalizer"];
  /** The scene state's range, whether it is the auxiliary target, the privileged input or both (null: neither). */
  scene: FeatureRange | null;
  /** A hearing policy's sound windows of `episodes` (null: the policy does not hear). */
  heard: EpisodeSounds | null;
}

/**
 * Fit the normalizers of `network` (trained on `config`) on `episodes` of `dataset`, whose statistics the dataset
 * checks have found. A hearing policy's episodes are loaded and their sound windows computed here, once.
 */
export async function fitNormalizers(
  dataset: Dataset,
  episodes: readonly number[],
  config: TrainConfig,
  network: PolicyNetwork,
): Promise<FittedNormalizers> {
  const p = config.policy;
  const stats = dataset.stats();
  const state = stats[STATE_KEY] as FeatureRange;
  const action = stats[ACTION_KEY] as FeatureRange;
  const scene =
    config.train.sceneLoss > 0 || p.observeScene ? sceneRange(stats[ENVIRONMENT_KEY] as FeatureRange) : null;
  let heard: EpisodeSounds | null = null;
  if (network.sound) {
    await dataset.load(episodes);
    heard = hearEpisodes(dataset, episodes, network.sound);
  }
  const normalizer = {
    state: { min: [...state.min], max: [...state.max] },
    action:
      p.actions === "relative"
        ? await relativeActionRange(dataset, episodes, p.obsSteps, p.predSteps, p.actionRange === "per-step")
        : { min: [...action.min], max: [...action.max] },
    ...(p.observeScene && scene && { environment: scene }),
    ...(heard && { audio: { mean: heard.mean, std: heard.std } }),
  };
  return { normalizer, scene, heard };
}

/**
 * The scene state's normalization (the auxiliary target and the privileged input): min-max, each range widened to at
 * least `SCENE_MIN_SPAN` about its middle. Some entries barely move (the standing bottle's height and tilt: a 4 mm
 * range in a recording); min-max would blow their solver jitter up to ±1 and make the head chase noise. In metres (and
 * turns) 0.1 keeps a millimetre a millimetre.
 */
const SCENE_MIN_SPAN = 0.1;
function sceneRange(r: FeatureRange): FeatureRange {
  const min: number[] = [];
  const max: number[] = [];
  r.min.forEach((lo, i) => {
    const hi = r.max[i] as number;
    const half = Math.max(hi - lo, SCENE_MIN_SPAN) / 2;
    min.push((lo + hi) / 2 - half);
    max.push((lo + hi) / 2 + half);
  });
  return { min, max };
}
