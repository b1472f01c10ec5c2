// Physics bodies built from body descriptions (cannon-es). Cylinders in cannon-es lie along Y; ours along z.
import * as CANNON from "cannon-es";
import type { BodySpec, Quat, ShapeSpec } from "./bodies.ts";

/** Collision groups: arms touch objects only; kinematic–kinematic and arm–table pairs are never generated. */
export const GROUP = { table: 1, arm: 2, object: 4 } as const;

const Y_TO_Z = new CANNON.Quaternion(Math.SQRT1_2, 0, 0, Math.SQRT1_2);
const COLLISION_SIDES = 8;

function cannonShape(s: ShapeSpec): { shape: CANNON.Shape; rotation: CANNON.Quaternion } {
  const q = new CANNON.Quaternion(...(s.rotation as Quat));
  switch (s.kind) {
    case "box":
      return { shape: new CANNON.Box(new CANNON.Vec3(...s.half)), rotation: q };
    case "sphere":
      return { shape: new CANNON.Sphere(s.radius), rotation: q };
    case "cylinder":
      // 8 sides by default for collision (the rendered cylinder has 14): finger–cylinder SAT cost grows with faces ×
      // edges; the cap asks for 16 (see bodies.ts).
      return {
        shape: new CANNON.Cylinder(s.radius, s.radius, s.length, s.sides ?? COLLISION_SIDES),
        rotation: q.mult(Y_TO_Z),
      };
  }
}

/** Create the cannon body for a description: static (table, base), kinematic (links, hand, fingers) or dynamic. */
export function cannonBody(spec: BodySpec, material: CANNON.Material): CANNON.Body {
  const dynamic = spec.role === "bottle" || spec.role === "cap";
  const kinematic = spec.role === "link" || spec.role === "hand" || spec.role === "finger";
  const group = spec.role === "table" ? GROUP.table : dynamic ? GROUP.object : GROUP.arm;
  const mask = spec.role === "table" ? GROUP.object : dynamic ? GROUP.table | GROUP.arm | GROUP.object : GROUP.object;
  const body = new CANNON.Body({
    mass: dynamic ? spec.mass : 0,
    type: dynamic ? CANNON.Body.DYNAMIC : kinematic ? CANNON.Body.KINEMATIC : CANNON.Body.STATIC,
    material,
    collisionFilterGroup: group,
    collisionFilterMask: mask,
    allowSleep: false,
  });
  for (const s of spec.shapes) {
    const { shape, rotation } = cannonShape(s);
    // shape-level filters apply after the body-level ones; a shape's group defaults to 1, so set it to the body's
    shape.collisionFilterGroup = group;
    if (s.contact === "not-table") shape.collisionFilterMask = ~GROUP.table;
    else if (s.contact === "table-only") shape.collisionFilterMask = GROUP.table;
    else if (s.contact === "none") shape.collisionResponse = false;
    body.addShape(shape, new CANNON.Vec3(...s.offset), rotation);
  }
  return body;
}
