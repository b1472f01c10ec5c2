// A trained policy in the simulator: a model directory checked against the scenario's env, loaded on first use,
// its chunks cut to the receding horizon (Ta), optionally shown a goal (picture or embedding) per episode. On a robot, models are
// loaded by policy-ref.ts against the robot-interface file instead.
import { ACTION_DIM, DuetError, type ActionChunk, type Observation, type Policy } from "../../core/index.ts";
import {
  historyStepsOf,
  loadPolicy,
  readPolicyModel,
  releasePolicy,
  type DiffusionPolicy,
  type InferenceOverrides,
  type SamplingOptions,
} from "../../policy/index.ts";
import type { SimEnv } from "../../sim/index.ts";

/** Something holding native resources (onnxruntime sessions) that must be released before its thread ends. */
export interface Closable {
  /** Release the resources; safe to call more than once. */
  close(): Promise<void>;
}

/** A trained policy of a job: `ready()` loads its graphs now (else the first chunk does). */
export interface TrainedPolicy extends Policy, Closable {
  ready(): Promise<void>;
}

/** Run-time settings of a trained policy that do not change its weights: its inference settings overridden. */
export type PolicyTuning = Pick<SamplingOptions, keyof InferenceOverrides | "episodeNoise">;

/** An episode's goal as a goal-conditioned policy reads it: a picture (config.goal) or its CLIP embedding. */
export type EpisodeGoal = Pick<Observation, "goal" | "goalEmbedding">;

/**
 * Where a goal-conditioned policy's goals come from (a PNG file, the expert's own episode, a prior): the goal of the
 * episode of `seed`, whose first observation is `first` (its instruction, for a prior).
 */
export type GoalSource = (seed: number, first: Observation) => Promise<EpisodeGoal>;

/**
 * A trained policy from a model directory, loaded on first use (loading is asynchronous; the first `predictChunk`
 * comes after `env.reset`, before any step, so a refused model moves nothing). Refuses models made for another
 * action size, camera set or control rate. Chunks are cut to Ta (receding horizon): the model's, or `tuning`'s.
 */
export function trainedPolicy(dir: string, env: SimEnv, tuning: PolicyTuning = {}, goals?: GoalSource): TrainedPolicy {
  const model = readPolicyModel(dir); // a missing or invalid model.json fails now, with the file and field named
  // refused now, before any worker starts, not at the first chunk
  const { actionSteps } = tuning;
  if (actionSteps !== undefined && actionSteps > model.config.predSteps) {
    throw new DuetError(
      `${dir}: Ta ${actionSteps} exceeds the model's chunk of ${model.config.predSteps} steps (config.predSteps)`,
    );
  }
  let loaded: Promise<DiffusionPolicy> | null = null;
  let pendingSeed: number | null = 0;
  let goal: EpisodeGoal | undefined;
  const load = (): Promise<DiffusionPolicy> =>
    (loaded ??= loadPolicy(dir, {
      ...tuning,
      expect: {
        stateDim: ACTION_DIM,
        actionDim: ACTION_DIM,
        cameras: env.cameras.map((name) => ({ name })),
        controlHz: env.controlHz,
        environmentNames: env.environmentNames,
        audio: env.hears,
      },
    }));
  return {
    historySteps: historyStepsOf(model.config),
    reset(s: number): void {
      pendingSeed = s;
    },
    async ready(): Promise<void> {
      await load();
    },
    async close(): Promise<void> {
      const p = loaded;
      loaded = null;
      if (p) await p.then(releasePolicy, () => undefined);
    },
    async predictChunk(history: readonly Observation[]): Promise<ActionChunk> {
      const p = await load();
      if (pendingSeed !== null) {
        p.reset(pendingSeed);
        if (goals) goal = await goals(pendingSeed, history.at(-1) as Observation);
      }
      pendingSeed = null;
      const shown = goal;
      const chunk = await p.predictChunk(shown ? history.map((o) => ({ ...o, ...shown })) : history);
      const ta = Math.min(p.actionHorizon, chunk.horizon);
      return { actions: chunk.actions.subarray(0, ta * chunk.dim), horizon: ta, dim: chunk.dim };
    },
  };
}
