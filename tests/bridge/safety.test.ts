import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SafetyLayer, loadRobotInterface, slotLimits, type SafetyOptions } from "../../src/bridge/index.ts";
import { homePose } from "./sim-robot.ts";

const ri = loadRobotInterface(resolve("robot-interfaces/panda-pair-ros2.json"));
const limits = slotLimits(ri.robot);
const home = Float32Array.from(homePose());

/** Settings for these tests (not the shipped file's, which may change). */
const BASE: SafetyOptions = {
  limits: "reject",
  limit_margin_rad: 0.01,
  limit_tolerance_rad: 0.02,
  gripper_limit_tolerance_m: 0.01,
  max_step_rad: 0.5,
  max_gripper_step_m: 0.05,
  velocity_scale: 0.5,
  ramp_rad_per_s: 0.25,
  watchdog_ms: 200,
};

function layer(over: Partial<SafetyOptions> = {}): SafetyLayer {
  return new SafetyLayer(limits, { ...BASE, ...over }, 10);
}

/** Run the ramp to completion from `from` toward `to`; returns the number of commands it took. */
function rampTo(s: SafetyLayer, to: Float32Array, from: Float32Array): number {
  const out = new Float32Array(16);
  for (let n = 1; n < 1000; n++) {
    const v = s.filter(to, from, out);
    expect(v.ok).toBe(true);
    if (!s.isRamping) return n;
  }
  throw new Error("ramp did not finish");
}

describe("SafetyLayer", () => {
  it("rejects NaN and Inf, naming the slots, even in clamp mode", () => {
    const s = layer({ limits: "clamp" });
    const t = Float32Array.from(home);
    t[2] = NaN;
    t[12] = Infinity;
    const out = new Float32Array(16).fill(7);
    const v = s.filter(t, home, out);
    expect(v.ok).toBe(false);
    expect(v.rejected).toEqual(["left_joint3 is NaN", "right_joint5 is Infinity"]);
    expect(out[0]).toBe(7);
  });

  it("rejects targets beyond a position limit (less the margin) by more than the tolerance in reject mode", () => {
    const s = layer();
    const t = Float32Array.from(home);
    t[3] = 0; // joint4 upper limit is -0.0698, less the margin -0.0798: 0.0798 beyond, tolerance 0.02
    const v = s.filter(t, home, new Float32Array(16));
    expect(v.ok).toBe(false);
    expect(v.rejected).toEqual(["left_joint4 0.0000 outside [-3.0618, -0.0798] by more than the tolerance 0.0200"]);
  });

  it("clamps a target within the tolerance beyond a limit in reject mode too, and says which", () => {
    const s = layer();
    const pose = Float32Array.from(home);
    pose[3] = -0.09; // joint4 near its upper limit
    rampTo(s, pose, pose);
    const t = Float32Array.from(pose);
    t[7] = -0.0097; // the U-Net's gripper targets seen on a robot: just below closed
    t[3] = -0.07; // joint4: 0.0098 beyond -0.0798
    const out = new Float32Array(16);
    const v = s.filter(t, pose, out);
    expect(v.ok).toBe(true);
    expect(v.clamped).toEqual([
      "left_joint4 -0.0700 outside [-3.0618, -0.0798], within the tolerance 0.0200",
      "left_gripper -0.0097 outside [0.0000, 0.0400], within the tolerance 0.0100",
      // the ramp is over: the gripper may move at most 0.1 m/s · 0.5 · 0.1 s = 5 mm from its last command (0.02)
      "left_gripper step -0.0200 rate-limited to 0.0050 (velocity limit)",
    ]);
    expect(out[3]).toBeCloseTo(-0.0798, 6);
    expect(out[7]).toBeCloseTo(0.015, 6);
    t[7] = -0.0101; // beyond the tolerance
    const v2 = s.filter(t, pose, out);
    expect(v2.ok).toBe(false);
    expect(v2.rejected).toEqual(["left_gripper -0.0101 outside [0.0000, 0.0400] by more than the tolerance 0.0100"]);
  });

  it("clamps out-of-limit targets beyond the tolerance in clamp mode", () => {
    const s = layer({ limits: "clamp" });
    rampTo(s, home, home);
    const t = Float32Array.from(home);
    t[15] = 0.08; // right gripper max 0.04
    const out = new Float32Array(16);
    const v = s.filter(t, home, out);
    expect(v.ok).toBe(true);
    expect(v.clamped).toEqual([
      "right_gripper 0.0800 outside [0.0000, 0.0400] by more than the tolerance 0.0100",
      "right_gripper step 0.0200 rate-limited to 0.0050 (velocity limit)",
    ]);
    expect(out[15]).toBeCloseTo(0.025, 6);
  });

  it("ramps from the measured pose, then rejects a jump beyond max_step (reject) or clamps it (clamp)", () => {
    const s = layer({ max_step_rad: 0.05, ramp_rad_per_s: 0.25, velocity_scale: 1 });
    const target = Float32Array.from(home);
    target[0] = 0.2;
    const out = new Float32Array(16);
    const v1 = s.filter(target, home, out);
    expect(v1.ok && v1.ramping).toBe(true);
    expect(out[0]).toBeCloseTo(0.025, 6); // 0.25 rad/s · 0.1 s
    expect(out[1]).toBeCloseTo(home[1] as number, 6);
    const n = rampTo(s, target, home);
    expect(n).toBe(7); // 0.2 / 0.025 = 8 steps in all
    const jump = Float32Array.from(target);
    jump[0] = 0.3;
    const v2 = s.filter(jump, home, out);
    expect(v2.ok).toBe(false);
    expect(v2.rejected).toEqual(["left_joint1 step 0.1000 exceeds 0.0500"]);
    jump[0] = 0.24;
    expect(s.filter(jump, home, out).ok).toBe(true);
    expect(out[0]).toBeCloseTo(0.24, 6);
    const c = layer({ limits: "clamp", max_step_rad: 0.05, velocity_scale: 1 });
    rampTo(c, home, home);
    const far = Float32Array.from(home);
    far[0] = 0.3;
    const v3 = c.filter(far, home, out);
    expect([v3.ok, v3.clamped]).toEqual([true, ["left_joint1 step 0.3000 exceeds 0.0500"]]);
    expect(out[0]).toBeCloseTo(0.05, 6);
  });

  it("rate-limits a step beyond velocity · scale · period instead of rejecting it", () => {
    const s = layer({ velocity_scale: 0.1 });
    rampTo(s, home, home);
    const t = Float32Array.from(home);
    t[4] = 0.03; // joint5 velocity 2.61 · 0.1 · 0.1 s = 0.0261
    const out = new Float32Array(16);
    const v = s.filter(t, home, out);
    expect(v.ok).toBe(true);
    expect(v.rejected).toEqual([]);
    expect(v.clamped).toEqual(["left_joint5 step 0.0300 rate-limited to 0.0261 (velocity limit)"]);
    expect(out[4]).toBeCloseTo(0.0261, 6);
    // the next command is measured from the one sent: the rest of the way follows
    expect(s.filter(t, home, out).clamped).toEqual([]);
    expect(out[4]).toBeCloseTo(0.03, 6);
  });

  it("ramps again after reset", () => {
    const s = layer();
    rampTo(s, home, home);
    s.reset();
    expect(s.isRamping).toBe(true);
    const t = Float32Array.from(home);
    t[8] = 0.5;
    const out = new Float32Array(16);
    expect(s.filter(t, home, out).ramping).toBe(true);
    expect(out[8]).toBeCloseTo(0.025, 6);
  });
});
