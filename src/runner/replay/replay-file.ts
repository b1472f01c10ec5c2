// Episode replays for the viewer: the body descriptions once, then every body's pose at every control step.
import { join } from "node:path";
import { z } from "zod";
import { ValidationError, loadJsonFile, type Observation } from "../../core/index.ts";
import { POSE_STRIDE, type BodySpec, type SimEnv } from "../../sim/index.ts";
import type { EpisodeOutcome } from "../rollout/episode.ts";
import { ensureOutputDir, writeOutput } from "./output.ts";

/** Replay file format version; bump when the layout changes. */
export const REPLAY_VERSION = 1;

export const replaySchema = z.object({
  version: z.literal(REPLAY_VERSION),
  scenario: z.string(),
  fps: z.number().positive(),
  /** Body descriptions (bodies.ts), in pose order. */
  bodies: z.array(z.any()),
  /** Per control step: Nbodies·7 numbers (position xyz, quaternion xyzw). */
  poses: z.array(z.array(z.number())),
  /** Per control step: the 16 measured joint positions and the 16 commanded targets. */
  states: z.array(z.array(z.number())),
  actions: z.array(z.array(z.number())),
  outcome: z.object({ seed: z.number(), success: z.boolean(), holder: z.string(), turns: z.number() }).passthrough(),
});
export type Replay = z.output<typeof replaySchema>;

/** Collects one episode's poses step by step, then writes `<dir>/episode_<seed>.json`. */
export class ReplayRecorder {
  private poses: number[][] = [];
  private states: number[][] = [];
  private actions: number[][] = [];
  private bodies: BodySpec[] = [];

  constructor(
    private readonly dir: string,
    private readonly env: SimEnv,
  ) {}

  begin(): void {
    this.bodies = this.env.world.specs;
    this.poses = [Array.from(this.env.world.bodyPoses(), round6)];
    this.states = [];
    this.actions = [];
  }

  step(observation: Observation, action: Float32Array): void {
    this.poses.push(Array.from(this.env.world.bodyPoses(), round6));
    this.states.push(Array.from(observation.state, round6));
    this.actions.push(Array.from(action, round6));
  }

  finish(outcome: EpisodeOutcome): string {
    ensureOutputDir(this.dir, "replay folder");
    const replay: Replay = {
      version: REPLAY_VERSION,
      scenario: this.env.scenario.name,
      fps: this.env.controlHz,
      bodies: this.bodies,
      poses: this.poses,
      states: this.states,
      actions: this.actions,
      outcome: { ...outcome },
    };
    const file = join(this.dir, `episode_${outcome.seed}.json`);
    writeOutput(file, JSON.stringify(replay), "replay");
    return file;
  }
}

/** Load and validate a replay file. */
export function loadReplay(file: string): Replay {
  const replay = loadJsonFile(file, replaySchema);
  const n = replay.bodies.length * POSE_STRIDE;
  const issues = replay.poses.flatMap((p, i) =>
    p.length === n ? [] : [{ path: `poses.${i}`, expected: `${n} numbers (7 per body)`, received: `${p.length}` }],
  );
  if (issues.length > 0) throw new ValidationError(file, issues);
  return replay;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
