// Episode replays for the viewer: the body descriptions once, then every body's pose at every control step.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DuetError, ValidationError, encodePng, loadJsonFile, type Observation } from "../../core/index.ts";
import { POSE_STRIDE, type BodySpec, type SimEnv } from "../../sim/index.ts";
import type { EpisodeOutcome } from "../rollout/episode.ts";

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

/** Write an observation's camera images as `<dir>/<camera>/<step>.png`. */
export function writeFrames(dir: string, step: number, observation: Observation): void {
  for (const [camera, frame] of Object.entries(observation.images)) {
    const cameraDir = join(dir, camera);
    ensureOutputDir(cameraDir, "frames folder");
    writeOutput(join(cameraDir, `${String(step).padStart(4, "0")}.png`), encodePng(frame), "camera frame");
  }
}

/**
 * Create folder `dir` (and its parents) for output, or throw a DuetError naming it (`what`: "--frames", "replay
 * folder") and the reason: a file in the way, no permission.
 */
export function ensureOutputDir(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new DuetError(`${what} ${dir}: cannot be created as a folder (${reason(e)}); name a folder to write into`);
  }
}

function writeOutput(file: string, data: string | Uint8Array, what: string): void {
  try {
    writeFileSync(file, data);
  } catch (e) {
    throw new DuetError(`${file}: cannot write the ${what} (${reason(e)})`);
  }
}

/** A file-system error in words: its code's meaning, without node's stack. */
function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOTDIR: "a path component is a file, not a folder",
    EEXIST: "a file of that name is in the way",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "read-only file system",
    ENOSPC: "no space left on the device",
  };
  return code ? `${code}: ${words[code] ?? (e as Error).message}` : (e as Error).message;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
