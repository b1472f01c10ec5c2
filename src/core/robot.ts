// The robot description (robots/*.json): kinematics, limits, geometry and mounting of both arms.
// Shared by sim (to build and move the arms) and bridge (to check limits before publishing).
import { z } from "zod";
import { ARM_DOF } from "./keys.ts";
import { loadJsonFile } from "./validate.ts";

const vec3 = z.tuple([z.number(), z.number(), z.number()]);

/** One revolute joint in modified (Craig) DH convention: T = RotX(alpha)·TransX(a)·RotZ(theta)·TransZ(d). */
const jointSchema = z
  .object({
    /** Joint name suffix, e.g. "joint1" (full name is `<arm>_<name>` unless the arm maps it). */
    name: z.string().min(1),
    a: z.number(),
    d: z.number(),
    alpha: z.number(),
    /** Position limits (rad). */
    lower: z.number(),
    upper: z.number(),
    /** Velocity limit (rad/s). */
    velocity: z.number().positive(),
    /** Collision capsule for the link this joint moves: radius (m) and length along the link (m). */
    link_radius: z.number().positive(),
  })
  .refine((j) => j.lower < j.upper, { message: "lower < upper", path: ["upper"] });

const armMountSchema = z.object({
  /** Base position in the world (m), z up. */
  position: vec3,
  /** Rotation of the base about world z (rad). */
  yaw: z.number(),
  /** Joint configuration the arm starts in (rad). */
  home: z.array(z.number()).length(ARM_DOF),
});

export const robotSchema = z.strictObject({
  name: z.string().min(1),
  joints: z.array(jointSchema).length(ARM_DOF),
  /** Flange offset along the last joint's z axis (m). */
  flange_d: z.number().nonnegative(),
  gripper: z.strictObject({
    /** Distance from flange to fingertip centre along the tool axis (m). */
    tcp_offset: z.number().positive(),
    /** Maximum opening per finger (m). */
    max_opening: z.number().positive(),
    /** Finger speed (m/s). */
    velocity: z.number().positive(),
    /** Maximum grip force (N). */
    max_force: z.number().positive(),
    /** Finger pad size [width, thickness, length] (m). */
    finger_size: vec3,
    /** Pad friction coefficient. */
    friction: z.number().positive(),
  }),
  arms: z.strictObject({ left: armMountSchema, right: armMountSchema }),
});

export type RobotDescription = z.output<typeof robotSchema>;
export type JointSpec = RobotDescription["joints"][number];

export function loadRobot(file: string): RobotDescription {
  return loadJsonFile(file, robotSchema);
}
