// One demonstration episode: a policy acting in an env from a seed, collected into an EpisodeRecord (PNG frames).
// Used by recordEpisodes in the main thread and by the recording worker threads, so both produce the same bytes.
import { DuetError, SLOT_NAMES, type ActionChunk, type Env, type Observation, type Policy } from "../../core/index.ts";
import { EpisodeBuilder, type DatasetSpec, type EpisodeRecord } from "../../data/index.ts";

/** Thrown by `recordEpisode` when its abort signal fires; the episode is discarded. */
export class EpisodeAborted extends Error {
  constructor() {
    super("recording aborted");
  }
}

/** How episodes are played. Plain data: worker threads receive it. */
export interface EpisodeSettings {
  /** To: observations passed to the policy (the first observation repeated at the start). */
  obsSteps: number;
  /** Ta: actions executed from each chunk before planning again; undefined = the whole chunk. */
  actionsPerChunk: number | undefined;
  /** An episode running longer than this many steps is an error (the env never said done). */
  maxSteps: number;
  /** Task description stored with the episode, unless the env names the episode's own (`info.instruction`). */
  task: string;
}

/** A policy that drives the first `steps(seed)` steps of an episode, unrecorded, before the recorded policy. */
export interface LeadIn {
  policy: Policy;
  steps: (seed: number) => number;
}

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
 * The dataset spec for what `env` and `policy` produce: state size, camera sizes and audio samples per frame (when the
 * env synthesises sound) from a reset with `seed`, the action size from the policy's first chunk.
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
  return {
    fps: env.controlHz,
    robotType: n.robotType,
    stateNames: names(n.stateNames, first.state.length, "state"),
    actionNames: names(n.actionNames, firstChunk.dim, "action"),
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
 * Run `lead` for `steps` steps from the env's current observation `obs`: the observation it leaves, or, when the
 * episode ended (the lead succeeded or ran out of time) within those steps, the number of steps it took.
 */
async function runLead(
  env: Env,
  lead: LeadIn,
  seed: number,
  obs: Observation,
  steps: number,
  settings: EpisodeSettings,
) {
  lead.policy.reset(seed);
  const history: Observation[] = Array.from({ length: settings.obsSteps }, () => obs);
  for (let done = 0; done < steps;) {
    const chunk = await lead.policy.predictChunk(history);
    for (let k = 0; k < chunk.horizon && done < steps; k++, done++) {
      const r = env.step(chunk.actions.subarray(k * chunk.dim, (k + 1) * chunk.dim));
      history.shift();
      history.push(r.observation);
      obs = r.observation;
      if (r.done) return done + 1;
    }
  }
  return obs;
}

/**
 * Play one episode of `policy` in `env` reset with `seed` and collect it. Frame t is the observation at step t and
 * the action taken there. With `lead`, that policy first drives the env for its steps, unrecorded, and `policy` is
 * reset after it (recording starts there: frame 0 is the observation the lead left). Throws `EpisodeAborted` when
 * `signal` fires.
 */
export async function recordEpisode(
  env: Env,
  policy: Policy,
  spec: DatasetSpec,
  seed: number,
  settings: EpisodeSettings,
  signal?: AbortSignal,
  lead?: LeadIn,
): Promise<EpisodeRecord> {
  const builder = new EpisodeBuilder(spec);
  let obs: Observation = env.reset(seed);
  // A lead that ends the episode within its k steps leaves nothing to take over: the episode is played again from the
  // reset with the expert taking over halfway to that end (k = 0 at worst: the expert's own episode), so every seed
  // still yields one episode and the dataset's episode i keeps seed + i.
  for (let k = lead?.steps(seed) ?? 0; lead && k > 0; obs = env.reset(seed)) {
    const left = await runLead(env, lead, seed, obs, k, settings);
    if (typeof left !== "number") {
      obs = left;
      break;
    }
    k = Math.floor(left / 2);
  }
  policy.reset(seed);
  const history: Observation[] = Array.from({ length: settings.obsSteps }, () => obs);
  let mode = "";
  for (;;) {
    // A policy that answers at once (the scripted expert) never leaves the event loop, so a Ctrl-C handler or a timer
    // could not fire until the recording ended; yield to it once per chunk where someone can abort.
    if (signal) await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new EpisodeAborted();
    const chunk: ActionChunk = await policy.predictChunk(history);
    const Ta = Math.min(settings.actionsPerChunk ?? chunk.horizon, chunk.horizon);
    if (Ta < 1) throw new DuetError(`policy returned an empty action chunk (horizon ${chunk.horizon})`);
    for (let k = 0; k < Ta; k++) {
      if (signal?.aborted) throw new EpisodeAborted();
      const action = chunk.actions.subarray(k * chunk.dim, (k + 1) * chunk.dim);
      builder.addFrame(obs, action);
      const result = env.step(action);
      const m = result.info["mode"] ?? result.info["holder"];
      if (typeof m === "string" && m !== "none") mode = m;
      obs = result.observation;
      history.shift();
      history.push(obs);
      if (result.done) {
        const instruction = result.info["instruction"];
        const task = typeof instruction === "string" ? instruction : settings.task;
        return builder.finish({ task, success: result.success, mode, seed });
      }
      if (builder.frames >= settings.maxSteps) {
        throw new DuetError(`episode with seed ${seed}: the env did not finish within ${settings.maxSteps} steps`);
      }
    }
  }
}
