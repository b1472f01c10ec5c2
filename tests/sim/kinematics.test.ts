import { describe, expect, it } from "vitest";
import { Rng, loadRobot } from "../../src/core/index.ts";
import { ArmKinematics, newPose } from "../../src/sim/index.ts";
import { rotationError } from "../../src/sim/pose.ts";

const robot = loadRobot("robots/panda-pair.json");

describe("ArmKinematics", () => {
  it("puts the flange of a Panda at q = 0 at (0.088, 0, 0.926) pointing down (public Franka FK)", () => {
    const k = new ArmKinematics(
      { ...robot, arms: { ...robot.arms, left: { ...robot.arms.left, position: [0, 0, 0] } } },
      "left",
    );
    k.forward([0, 0, 0, 0, 0, 0, 0]);
    expect(k.flange[9]).toBeCloseTo(0.088, 6);
    expect(k.flange[10]).toBeCloseTo(0, 6);
    expect(k.flange[11]).toBeCloseTo(0.926, 6);
    expect(k.flange[8]).toBeCloseTo(-1, 6); // tool z = −world z
  });

  it("applies the base mount and the TCP offset along the tool axis", () => {
    const k = new ArmKinematics(robot, "right");
    const q = [0.1, -0.4, 0.2, -2.0, 0.1, 1.8, 0.3];
    k.forward(q);
    const axis = [k.flange[2]!, k.flange[5]!, k.flange[8]!];
    for (let i = 0; i < 3; i++) {
      expect(k.tcp[9 + i]! - k.flange[9 + i]!).toBeCloseTo(robot.gripper.tcp_offset * axis[i]!, 9);
    }
    const origin = new ArmKinematics(
      { ...robot, arms: { ...robot.arms, right: { ...robot.arms.right, position: [0, 0, 0] } } },
      "right",
    );
    origin.forward(q);
    expect(k.tcp[10]! - origin.tcp[10]!).toBeCloseTo(robot.arms.right.position[1], 9);
  });

  it("matches the Jacobian to finite differences", () => {
    const k = new ArmKinematics(robot, "left");
    const q = [0.3, -0.2, 0.1, -1.9, 0.4, 1.6, -0.5];
    k.forward(q);
    const J = Float64Array.from(k.jacobian());
    // central differences: position directly, orientation as the rotation vector between the two poses
    const h = 1e-5;
    const err = new Float64Array(6);
    for (let j = 0; j < 7; j++) {
      const qp = [...q];
      const qm = [...q];
      qp[j]! += h;
      qm[j]! -= h;
      k.forward(qm);
      const minus = Float64Array.from(k.tcp);
      k.forward(qp);
      rotationError(k.tcp, minus, err, 3);
      for (let r = 0; r < 3; r++) expect((k.tcp[9 + r]! - minus[9 + r]!) / (2 * h)).toBeCloseTo(J[r * 7 + j]!, 5);
      for (let r = 0; r < 3; r++) expect(err[3 + r]! / (2 * h)).toBeCloseTo(J[(3 + r) * 7 + j]!, 5);
    }
  });

  it("reaches random reachable targets within 1 mm and 0.01 rad", () => {
    const rng = new Rng(3);
    const k = new ArmKinematics(robot, "left");
    const home = robot.arms.left.home;
    let worstPos = 0;
    let worstRot = 0;
    for (let trial = 0; trial < 30; trial++) {
      // a reachable target: FK of a random configuration near home
      const qt = home.map((h, i) => Math.min(k.upper[i]!, Math.max(k.lower[i]!, h + rng.uniform(-0.6, 0.6))));
      k.forward(qt);
      const target = newPose();
      target.set(k.tcp);
      const r = k.solveIk(target, home, { iterations: 300 });
      worstPos = Math.max(worstPos, r.positionError);
      worstRot = Math.max(worstRot, r.rotationError);
      for (let i = 0; i < 7; i++) {
        expect(r.q[i]).toBeGreaterThanOrEqual(k.lower[i]!);
        expect(r.q[i]).toBeLessThanOrEqual(k.upper[i]!);
      }
    }
    expect(worstPos).toBeLessThan(1e-3);
    expect(worstRot).toBeLessThan(0.01);
  });
});
