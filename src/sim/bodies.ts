// Body descriptions: the one source from which both the physics bodies (cannon-es) and the rendered scene (three.js,
// in the CPU rasterizer and in the browser viewer) are built. Plain data, so replays can carry them.
import { ARM_DOF, type Arm, type RobotDescription } from "../core/index.ts";
import type { Scenario } from "./scenario.ts";

/**
 * A primitive in body coordinates. Cylinders run along the shape's local z axis.
 * `contact` narrows what the shape touches: "not-table" (the bottle wall: its table contact comes from its feet),
 * "table-only" (hidden feet), "none" (visual only). Default: whatever the body touches.
 */
export type ShapeSpec = (
  | { kind: "box"; half: [number, number, number] }
  | {
      kind: "cylinder";
      radius: number;
      length: number;
      /** Sides of the collision polygon (default 8). */ sides?: number;
    }
  | { kind: "sphere"; radius: number }
) & { offset: Vec3; rotation: Quat; color: number; contact?: "not-table" | "table-only" | "none"; hidden?: boolean };

export type Vec3 = [number, number, number];
/** Quaternion [x, y, z, w]. */
export type Quat = [number, number, number, number];

/** Which physics role a body plays; decides mass, motion type and collision groups. */
export type BodyRole = "table" | "base" | "link" | "hand" | "finger" | "bottle" | "cap";

export interface BodySpec {
  name: string;
  role: BodyRole;
  /** kg; only for dynamic bodies (bottle, cap). */
  mass: number;
  shapes: ShapeSpec[];
}

const IDENTITY: Quat = [0, 0, 0, 1];
/** Default colours (sRGB hex); a scenario's `colors` replaces those of the table, bottle, neck and cap. */
export const COLORS = {
  table: 0x8a6f4e,
  base: 0x3a3f47,
  link: 0xe8e8e8,
  joint: 0x4a505a,
  hand: 0x30343b,
  finger: 0x9aa0a6,
  bottle: 0x2e8b57,
  neck: 0x3aa86a,
  cap: 0xd62728,
};

/** The parts whose colour a scenario sets (`colors`). */
export const COLORED_PARTS = ["table", "bottle", "neck", "cap"] as const;
/** An episode's colours of those parts (sRGB hex numbers; sim/appearance.ts draws them). */
export type PartColors = Record<(typeof COLORED_PARTS)[number], number>;

/** Quaternion rotating +z onto the direction (x, y, z). */
export function quatFromZ(x: number, y: number, z: number): Quat {
  const n = Math.hypot(x, y, z);
  x /= n;
  y /= n;
  z /= n;
  if (z < -0.999999) return [1, 0, 0, 0];
  // axis = z × d, angle = acos(z·d)
  const w = 1 + z;
  const q: Quat = [-y, x, 0, w];
  const m = Math.hypot(...q);
  return [q[0] / m, q[1] / m, q[2] / m, q[3] / m];
}

/** Body names of one arm, in the order `armBodies` returns them. */
export function armBodyNames(arm: Arm): string[] {
  return [
    `${arm}_base`,
    ...Array.from({ length: ARM_DOF }, (_, i) => `${arm}_link${i + 1}`),
    `${arm}_hand`,
    `${arm}_finger_a`,
    `${arm}_finger_b`,
  ];
}

/**
 * One arm: a static base pillar, 7 link bodies posed at joint frames 1..7 (each a capsule-like cylinder toward the next
 * joint's origin plus a joint sphere), the hand at the flange, and two finger pads that slide along the hand's y axis.
 */
export function armBodies(robot: RobotDescription, arm: Arm): BodySpec[] {
  const names = armBodyNames(arm);
  const j1 = robot.joints[0]!;
  const bodies: BodySpec[] = [
    {
      name: names[0]!,
      role: "base",
      mass: 0,
      shapes: [
        {
          kind: "cylinder",
          radius: 0.08,
          length: j1.d,
          offset: [0, 0, j1.d / 2],
          rotation: IDENTITY,
          color: COLORS.base,
        },
      ],
    },
  ];
  for (let i = 0; i < ARM_DOF; i++) {
    const joint = robot.joints[i]!;
    const next = robot.joints[i + 1];
    // origin of frame i+1 in frame i (modified DH): (a, −sin(α)·d, cos(α)·d) of the next row; the flange after joint 7
    const seg: Vec3 = next
      ? [next.a, -Math.sin(next.alpha) * next.d, Math.cos(next.alpha) * next.d]
      : [0, 0, robot.flange_d];
    const length = Math.hypot(...seg);
    const shapes: ShapeSpec[] = [
      {
        kind: "sphere",
        radius: joint.link_radius,
        offset: [0, 0, 0],
        rotation: IDENTITY,
        color: COLORS.joint,
      },
    ];
    if (length > 0.01) {
      shapes.push({
        kind: "cylinder",
        radius: joint.link_radius * 0.9,
        length,
        offset: [seg[0] / 2, seg[1] / 2, seg[2] / 2],
        rotation: quatFromZ(...seg),
        color: COLORS.link,
      });
    }
    bodies.push({ name: names[i + 1]!, role: "link", mass: 0, shapes });
  }
  const g = robot.gripper;
  const palm = fingerCenter(robot) - g.finger_size[2] / 2;
  bodies.push({
    name: names[8]!,
    role: "hand",
    mass: 0,
    shapes: [
      { kind: "box", half: [0.025, 0.095, 0.03], offset: [0, 0, 0.03], rotation: IDENTITY, color: COLORS.hand },
      {
        kind: "box",
        half: [0.01, 0.09, 0.005],
        offset: [0, 0, palm - 0.005],
        rotation: IDENTITY,
        color: COLORS.hand,
      },
    ],
  });
  for (const side of ["a", "b"] as const) {
    bodies.push({
      name: `${arm}_finger_${side}`,
      role: "finger",
      mass: 0,
      shapes: [
        {
          kind: "box",
          half: [g.finger_size[0] / 2, g.finger_size[1] / 2, g.finger_size[2] / 2],
          offset: [0, 0, 0],
          rotation: IDENTITY,
          color: COLORS.finger,
        },
      ],
    });
  }
  return bodies;
}

/** How far the fingertips reach past the tool centre point (m): the TCP sits in the pads' grasping zone. */
const FINGERTIP_PAST_TCP = 0.015;

/** Distance of a finger body's centre from the flange along the tool axis (m). */
export function fingerCenter(robot: RobotDescription): number {
  return robot.gripper.tcp_offset + FINGERTIP_PAST_TCP - robot.gripper.finger_size[2] / 2;
}

/** Table top at z = 0. */
export function tableBody(color: number): BodySpec {
  return {
    name: "table",
    role: "table",
    mass: 0,
    shapes: [{ kind: "box", half: [0.5, 0.6, 0.025], offset: [0.35, 0, -0.025], rotation: IDENTITY, color }],
  };
}

/** Radius of the hidden feet that carry the bottle on the table (m). */
const FOOT_RADIUS = 0.004;

/**
 * Bottle: body cylinder + neck, origin at the base centre, z up. It stands on three hidden spheres at its rim: three
 * contact points instead of a 16-gon face against the table cut the solver's work ≈4× (measured in bench/sim).
 */
export function bottleBody(s: Scenario, colors: Readonly<PartColors>): BodySpec {
  const b = s.bottle;
  const color = colors.bottle;
  const feet: ShapeSpec[] = [0, 1, 2].map((i) => {
    const a = (i * 2 * Math.PI) / 3;
    const r = b.radius - FOOT_RADIUS;
    return {
      kind: "sphere",
      radius: FOOT_RADIUS,
      offset: [r * Math.cos(a), r * Math.sin(a), FOOT_RADIUS],
      rotation: IDENTITY,
      color,
      contact: "table-only",
      hidden: true,
    };
  });
  return {
    name: "bottle",
    role: "bottle",
    mass: b.mass,
    shapes: [
      ...feet,
      {
        kind: "cylinder",
        radius: b.radius,
        length: b.height,
        offset: [0, 0, b.height / 2],
        rotation: IDENTITY,
        color,
        contact: "not-table",
      },
      {
        kind: "cylinder",
        radius: b.neck_radius,
        length: b.neck_height,
        offset: [0, 0, b.height + b.neck_height / 2],
        rotation: IDENTITY,
        color: colors.neck,
      },
    ],
  };
}

/** Cap: a cylinder, origin at its centre. A stripe box makes its rotation visible to cameras. */
export function capBody(s: Scenario, colors: Readonly<PartColors>): BodySpec {
  const c = s.cap;
  return {
    name: "cap",
    role: "cap",
    mass: c.mass,
    shapes: [
      // 16 sides: fingers closing on an 8-sided cap can meet a corner and twist it off-centre
      {
        kind: "cylinder",
        radius: c.radius,
        length: c.height,
        sides: 16,
        offset: [0, 0, 0],
        rotation: IDENTITY,
        color: colors.cap,
        hidden: c.hidden,
      },
      {
        kind: "box",
        half: [c.radius * 0.9, 0.003, 0.001],
        offset: [0, 0, c.height / 2 + 0.0005],
        rotation: IDENTITY,
        color: 0xffffff,
        hidden: c.hidden,
      },
    ],
  };
}

/** Height of the cap centre above the bottle origin when screwed fully on. */
export function capSeatHeight(s: Scenario): number {
  return s.bottle.height + s.cap.height / 2 + 0.002;
}
