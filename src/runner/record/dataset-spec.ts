// The dataset spec of a recording source: what its frames hold (state, action, scene state, sound, cameras), which a
// resumed dataset must match.
import { DuetError, SLOT_NAMES, type Env, type Observation, type Policy } from "../../core/index.ts";
import type { RobotInterface } from "../../bridge/index.ts";
import type { DatasetSpec } from "../../data/index.ts";

/** What the dataset's spec needs to know beyond the env: names and the robot type. */
export interface SpecNames {
  robotType: string;
  stateNames: readonly string[] | undefined;
  actionNames: readonly string[] | undefined;
}

function names(given: readonly string[] | undefined, n: number, prefix: string): string[] {
  if (given !== undefined) {
    if (given.length !== n)
      throw new DuetError(`${prefix} names: ${given.length} given, the env produces ${n} entries`);
    return [...given];
  }
  return n === SLOT_NAMES.length ? [...SLOT_NAMES] : Array.from({ length: n }, (_, i) => `${prefix}_${i}`);
}

/**
 * The dataset spec of `env`'s frames, from one of its observations: state size, scene state, camera sizes and audio
 * samples per frame (when the env synthesises sound); `actionDim` actions per frame.
 */
export function envSpec(env: Env, first: Observation, actionDim: number, n: SpecNames): DatasetSpec {
  return {
    fps: env.controlHz,
    robotType: n.robotType,
    stateNames: names(n.stateNames, first.state.length, "state"),
    actionNames: names(n.actionNames, actionDim, "action"),
    ...(env.environmentNames !== undefined && { environmentNames: [...env.environmentNames] }),
    ...(first.audio !== undefined && { audioSamples: first.audio.length }),
    cameras: env.cameras.map((name) => {
      const f = first.images[name];
      if (f === undefined) throw new DuetError(`env lists camera ${name} but its observation has no such image`);
      return { name, height: f.height, width: f.width };
    }),
  };
}

/**
 * The dataset spec for what `env` and `policy` produce: `envSpec` of a reset with `seed`, the action size from the
 * policy's first chunk.
 */
export async function specFromEnv(
  env: Env,
  policy: Policy,
  seed: number,
  obsSteps: number,
  n: SpecNames,
): Promise<DatasetSpec> {
  const first = env.reset(seed);
  policy.reset(seed);
  const firstChunk = await policy.predictChunk(Array.from({ length: obsSteps }, () => first));
  return envSpec(env, first, firstChunk.dim, n);
}

/** The dataset spec of recordings through a robot interface: 16 joint slots, its cameras at `image_size`. */
export function rosDatasetSpec(spec: RobotInterface): DatasetSpec {
  return {
    fps: spec.control_hz,
    robotType: spec.name,
    stateNames: [...SLOT_NAMES],
    actionNames: [...SLOT_NAMES],
    cameras: Object.keys(spec.cameras).map((name) => ({
      name,
      width: spec.image_size.width,
      height: spec.image_size.height,
    })),
  };
}
