import { describe, expect, it } from "vitest";
import {
  ActionError,
  MAX_TWIST_RATE,
  SimEnv,
  loadScenario,
  newPose,
  poseFromAxes,
  twistAngle,
} from "../../src/sim/index.ts";
import * as CANNON from "cannon-es";
import { ACTION_DIM } from "../../src/core/index.ts";

const scenario = loadScenario("scenarios/bottle-cap.json");

/** Make the bottle immovable (static, zero mass) so thread tests see the cap alone. */
function pinBottle(w: SimEnv["world"]): void {
  w.bottle.type = 2; // STATIC
  w.bottle.mass = 0;
  w.bottle.updateMassProperties();
  w.bottle.velocity.setZero();
  w.bottle.angularVelocity.setZero();
}

describe("screw thread", () => {
  it("lifts the cap by pitch × turns and releases it at the configured turns", () => {
    const env = new SimEnv(scenario);
    env.reset(5);
    const w = env.world;
    const seat = w.cap.position.z - w.bottle.position.z;
    // hold the bottle still and turn the cap at 2 rad/s (about the expert's twisting speed) by posing it each step
    pinBottle(w);
    const lifts: [number, number][] = [];
    let before = 0;
    for (let i = 0; i < 240 * 10 && !w.thread.released; i++) {
      before = w.thread.turns;
      const angle = (2 * (i + 1)) / scenario.physics_hz;
      w.cap.quaternion.setFromAxisAngle(new CANNON.Vec3(0, 0, 1), angle).mult(w.bottle.quaternion, w.cap.quaternion);
      w.cap.angularVelocity.set(0, 0, 2);
      w.step();
      if (w.thread.turns > 0.05 && !w.thread.released) {
        lifts.push([w.thread.turns, w.cap.position.z - w.bottle.position.z - seat]);
      }
    }
    // released in the step whose twist crossed release_turns, not before
    expect(w.thread.released).toBe(true);
    expect(before).toBeLessThan(scenario.cap.release_turns);
    expect(w.thread.turns).toBeGreaterThanOrEqual(scenario.cap.release_turns);
    expect(lifts.length).toBeGreaterThan(3);
    // the hinge is a soft constraint: the cap may trail its pivot by a fraction of a millimetre
    for (const [turns, lift] of lifts) expect(Math.abs(lift - scenario.cap.pitch * turns)).toBeLessThan(3e-4);
    const [lastTurns, lastLift] = lifts[lifts.length - 1]!;
    expect(lastTurns).toBeGreaterThan(1.3);
    expect(lastLift).toBeGreaterThan(0.8 * scenario.cap.pitch * lastTurns);
  });

  it("does not count a solver glitch (a twist faster than MAX_TWIST_RATE) as turns", () => {
    const env = new SimEnv(scenario);
    env.reset(5);
    const w = env.world;
    pinBottle(w);
    // 1 rad in one physics step (240 rad/s): the cap moves, the thread does not advance
    w.cap.quaternion.setFromAxisAngle(new CANNON.Vec3(0, 0, 1), 1).mult(w.bottle.quaternion, w.cap.quaternion);
    w.step();
    expect(w.thread.glitches).toBe(1);
    expect(Math.abs(w.thread.turns)).toBeLessThan(0.01);
    // a believable twist after it counts again
    const start = twistAngle(w.bottle.quaternion, w.cap.quaternion);
    for (let i = 1; i <= 24; i++) {
      const angle = start + (4 * i) / scenario.physics_hz;
      w.cap.quaternion.setFromAxisAngle(new CANNON.Vec3(0, 0, 1), angle).mult(w.bottle.quaternion, w.cap.quaternion);
      w.step();
    }
    expect(w.thread.glitches).toBe(1);
    expect(w.thread.turns).toBeGreaterThan(0.3 / (2 * Math.PI));
    expect(MAX_TWIST_RATE).toBeGreaterThan(2 * 2.61);
  });

  it("holds the cap against torques below its friction", () => {
    const env = new SimEnv(scenario);
    env.reset(5);
    const w = env.world;
    pinBottle(w);
    for (let i = 0; i < 240; i++) {
      w.cap.torque.set(0, 0, scenario.cap.friction_torque[0] * 0.5);
      w.step();
    }
    expect(Math.abs(w.thread.turns)).toBeLessThan(0.01);
  });
});

describe("grasping", () => {
  // the friction grasp was tuned on the 66 mm bottle; on the shipped 56 mm one it slides ≈ 4 cm in this shake
  const friction = {
    ...scenario,
    bottle: { ...scenario.bottle, radius: 0.033 },
    grasp: { model: "friction" as const },
  };
  it.each([
    ["grip-force friction", friction],
    ["compliant weld (the shipped scenarios)", scenario],
  ])("keeps a held bottle through a shake (%s)", (_name, scenario) => {
    const env = new SimEnv(scenario);
    env.reset(2);
    const w = env.world;
    const arm = w.arms.left;
    const b = w.bottle.position;
    const grasp = poseFromAxes(newPose(), 0, -1, 0, 1, 0, 0, b.x, b.y, 0.09);
    const ik = arm.kin.solveIk(grasp, arm.q, { rest: scenario.robotDescription.arms.left.home });
    expect(ik.converged).toBe(true);
    arm.q.set(ik.q);
    arm.target.set(ik.q);
    arm.pose(null);
    arm.gripper.target = 0;
    for (let i = 0; i < 120; i++) w.step();
    expect(arm.gripper.holding).toBe(w.bottle);
    // lift 5 cm, then shake joint 1 back and forth for 2 s
    const lift = poseFromAxes(newPose(), 0, -1, 0, 1, 0, 0, b.x, b.y, 0.14);
    arm.target.set(arm.kin.solveIk(lift, arm.q).q);
    for (let i = 0; i < 240; i++) w.step();
    // shake: joint 1 ±0.1 rad at 1 Hz (≈5 cm at the hand, ≈2 m/s²) for 3 s
    const q1 = arm.target[0]!;
    for (let i = 0; i < 720; i++) {
      arm.target[0] = q1 + 0.1 * Math.sin((2 * Math.PI * i) / 240);
      w.step();
    }
    expect(arm.gripper.holding).toBe(w.bottle);
    arm.kin.forward(arm.q);
    const tcp = arm.kin.tcp;
    // the bottle point that was between the fingers is still there (within 1 cm), and the bottle is off the table
    const grip = w.bottle.pointToWorldFrame(new CANNON.Vec3(0, 0, 0.09));
    expect(Math.hypot(grip.x - tcp[9]!, grip.y - tcp[10]!, grip.z - tcp[11]!)).toBeLessThan(0.01);
    expect(w.bottle.position.z).toBeGreaterThan(0.03);
    // opening lets go
    arm.gripper.target = scenario.robotDescription.gripper.max_opening;
    for (let i = 0; i < 60; i++) w.step();
    expect(arm.gripper.holding).toBeNull();
    expect(w.bottle.position.z).toBeLessThan(0.01); // fell back to the table
  });
});

describe("actions", () => {
  it("rejects NaN and wrong lengths, clamps targets beyond joint limits and reports how many", () => {
    const env = new SimEnv(scenario);
    const obs = env.reset(1);
    expect(() => env.step(new Float32Array(15))).toThrow(ActionError);
    expect(() => env.step(new Float32Array(15))).toThrow(/expected 16 joint targets.*received 15/);
    const nan = Float32Array.from(obs.state);
    nan[3] = Number.NaN;
    expect(() => env.step(nan)).toThrow(/left_joint4=NaN/);
    const far = Float32Array.from(obs.state);
    far[0] = 10; // beyond left_joint1's upper limit
    far[15] = -1; // gripper below 0
    const r = env.step(far);
    expect(r.info.clamped).toBe(2);
    expect(env.world.arms.left.target[0]).toBeCloseTo(scenario.robotDescription.joints[0]!.upper, 6);
    for (const x of r.observation.state) expect(Number.isFinite(x)).toBe(true);
    expect(r.observation.state.length).toBe(ACTION_DIM);
  });
});
