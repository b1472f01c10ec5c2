// What the page shows of one episode, whatever it came from (a sim replay or a dataset): the wire format of
// GET /api/episode/<id>. Built on the server so the page only draws.
import { ACTION_DIM, ARMS, ARM_DOF, SLOT_NAMES, armOffset, type Arm, type RobotDescription } from "../core/index.ts";
import { ArmKinematics, type BodySpec } from "../sim/index.ts";
import type { ReplayChunk, ReplayWithChunks } from "../runner/replay/index.ts";

/** One candidate's gripper-tip path for one arm: `points: Tp·3` world positions (m). */
export interface ChunkPath {
  arm: Arm;
  candidate: number;
  /** True for the candidate that was executed. */
  executed: boolean;
  points: number[];
}

/** The paths of every candidate of one planning step. */
export interface ChunkPaths {
  /** Control step (frame) at which the chunk was planned. */
  step: number;
  paths: ChunkPath[];
}

/** One camera of an episode: frame t's image is served at /api/frame/<episode>/<name>/<t>. */
export interface EpisodeCamera {
  name: string;
  width: number;
  height: number;
  /** Images: one per recorded step. */
  frames: number;
}

/** An episode as the page receives it. F = pose frames, T = recorded steps (F = T + 1 for sim replays). */
export interface ViewerEpisode {
  id: string;
  label: string;
  fps: number;
  bodies: BodySpec[];
  /** `poses: F × (Nbodies·7)`. */
  poses: number[][];
  /** `joints: F × 16` measured joints at each pose frame (the last state repeated where a frame has none). */
  joints: number[][];
  /** `actions: T × 16` commanded targets. */
  actions: number[][];
  jointNames: readonly string[];
  cameras: EpisodeCamera[];
  chunks: ChunkPaths[];
  /** Notes shown under the title (how the 3D view was obtained, what is missing). */
  notes: string[];
  outcome: Record<string, unknown>;
}

/** Gripper-tip (TCP) paths of every candidate of a chunk, by forward kinematics of its joint targets. */
export function chunkPaths(robot: RobotDescription, chunk: ReplayChunk): ChunkPaths {
  const kin = { left: new ArmKinematics(robot, "left"), right: new ArmKinematics(robot, "right") };
  const q = new Float64Array(ARM_DOF);
  const paths: ChunkPath[] = [];
  chunk.candidates.forEach((cand, k) => {
    for (const arm of ARMS) {
      const points: number[] = [];
      const o = armOffset(arm);
      for (let t = 0; t < chunk.horizon; t++) {
        for (let j = 0; j < ARM_DOF; j++) q[j] = cand[t * ACTION_DIM + o + j]!;
        kin[arm].forward(q);
        points.push(kin[arm].tcp[9]!, kin[arm].tcp[10]!, kin[arm].tcp[11]!);
      }
      paths.push({ arm, candidate: k, executed: k === chunk.executed, points });
    }
  });
  return { step: chunk.step, paths };
}

/** A sim replay as a viewer episode; chunk paths need the robot description (null: chunks are left out). */
export function episodeFromReplay(
  id: string,
  label: string,
  replay: ReplayWithChunks,
  robot: RobotDescription | null,
): ViewerEpisode {
  const notes: string[] = [];
  let chunks: ChunkPaths[] = [];
  if (replay.chunks && replay.chunks.length > 0) {
    if (robot) chunks = replay.chunks.map((c) => chunkPaths(robot, c));
    else notes.push(`action chunks not drawn: no scenario file found for "${replay.scenario}" (pass --scenario)`);
  }
  return {
    id,
    label,
    fps: replay.fps,
    bodies: replay.bodies as BodySpec[],
    poses: replay.poses,
    joints: alignJoints(replay.states, replay.poses.length),
    actions: replay.actions,
    jointNames: SLOT_NAMES,
    cameras: [],
    chunks,
    notes,
    outcome: { ...replay.outcome },
  };
}

/** States per pose frame: state t belongs to frame t; frames past the last state repeat it. */
export function alignJoints(states: readonly number[][], frames: number): number[][] {
  const last = states.at(-1) ?? new Array<number>(ACTION_DIM).fill(0);
  return Array.from({ length: frames }, (_, t) => states[t] ?? last);
}
