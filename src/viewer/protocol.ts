// Messages between the page and the viewer's server on /ws. The server validates what pages send (zod);
// what it sends is typed here and read by the page (src/viewer/page).
import { z } from "zod";
import type { BodySpec } from "../sim/index.ts";

const vec3 = z.tuple([z.number(), z.number(), z.number()]);
const quat = z.tuple([z.number(), z.number(), z.number(), z.number()]);

/** Page → server. */
export const pageMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("teleop-target"),
    arm: z.enum(["left", "right"]),
    /** Tool centre point target: world position (m) and orientation (quaternion xyzw). */
    position: vec3,
    quaternion: quat,
    /** Gripper opening target (m). */
    gripper: z.number().nonnegative(),
  }),
  z.object({ type: z.literal("teleop-save") }),
  z.object({ type: z.literal("teleop-discard") }),
]);
export type PageMessage = z.output<typeof pageMessageSchema>;

/** A gripper target: tool centre point pose and opening. */
export interface TeleopTarget {
  position: [number, number, number];
  quaternion: [number, number, number, number];
  gripper: number;
}

/** Server → page. */
export type ServerMessage =
  | { type: "live-begin"; name: string; fps: number; bodies: BodySpec[] }
  | { type: "live-frame"; step: number; poses: number[]; state?: number[] }
  | { type: "live-end"; success?: boolean }
  | {
      type: "teleop-begin";
      seed: number;
      /** Episodes already in the dataset. */
      episodes: number;
      out: string;
      fps: number;
      maxOpening: number;
      bodies: BodySpec[];
      poses: number[];
      targets: { left: TeleopTarget; right: TeleopTarget };
    }
  | {
      type: "teleop-frame";
      step: number;
      poses: number[];
      state: number[];
      /** Reached tool centre points (m). */
      tcp: { left: number[]; right: number[] };
      /** Distance (m) between each arm's IK solution and its target. */
      ikError: { left: number; right: number };
    }
  | { type: "teleop-saved"; episode: number; frames: number; success: boolean; out: string }
  | { type: "error"; message: string };
