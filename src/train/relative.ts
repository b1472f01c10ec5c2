// Relative actions (policy.actions "relative"): a window's targets become offsets from its latest observed state,
// a[t+k] − s[t]; the runtime adds the state back (src/policy/diffusion-policy.ts).
import type { Dataset, WindowBuffers } from "../data/index.ts";
import { WindowSampler } from "../data/index.ts";
import type { FeatureRange } from "../policy/index.ts";

/** In place: every action row of `w` minus the window's latest state row (state and action entries pair up). */
export function toRelative(w: WindowBuffers, obsSteps: number): void {
  const d = w.state.length / obsSteps;
  const s = w.state.subarray((obsSteps - 1) * d, obsSteps * d);
  for (let i = 0; i < w.action.length; i++) w.action[i] = (w.action[i] as number) - (s[i % d] as number);
}

/**
 * Min-max range of the relative targets over every window of `episodes` (no images are read): one entry per action
 * name, or with `perStep` one per chunk step and action name (`predSteps·D`, row-major).
 */
export async function relativeActionRange(
  dataset: Dataset,
  episodes: readonly number[],
  obsSteps: number,
  predSteps: number,
  perStep: boolean,
): Promise<FeatureRange> {
  const sampler = await WindowSampler.create(dataset, { obsSteps, actionSteps: predSteps, cameras: [], episodes });
  const d = dataset.spec.actionNames.length * (perStep ? predSteps : 1);
  const min = new Array<number>(d).fill(Infinity);
  const max = new Array<number>(d).fill(-Infinity);
  const w = sampler.createBuffers();
  for (let i = 0; i < sampler.length; i++) {
    toRelative(sampler.fill(i, w), obsSteps);
    for (let k = 0; k < w.action.length; k++) {
      const j = k % d;
      const v = w.action[k] as number;
      if (v < (min[j] as number)) min[j] = v;
      if (v > (max[j] as number)) max[j] = v;
    }
  }
  return { min, max };
}
