import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SafetyLayer, loadRobotInterface, slotLimits, type SafetyOptions } from "../../src/bridge/index.ts";
import { homePose } from "./simRobot.ts";

const ri = loadRobotInterface(resolve("robot-interfaces/panda-pair-ros2.json"));
const limits = slotLimits(ri.robot);
const home = Float32Array.from(homePose());

function layer(over: Partial<SafetyOptions> = {}): SafetyLayer {
  return new SafetyLayer(limits, { ...ri.spec.safety, ...over }, 10);
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

  it("rejects targets outside position limits (with margin) in reject mode", () => {
    const s = layer();
    const t = Float32Array.from(home);
    t[3] = 0; // joint4 upper limit is -0.0698
    const v = s.filter(t, home, new Float32Array(16));
    expect(v.ok).toBe(false);
    expect(v.rejected[0]).toMatch(/^left_joint4 0\.0000 outside \[-3\.0618, -0\.0798\]$/);
  });

  it("clamps out-of-limit targets in clamp mode and says which", () => {
    const s = layer({ limits: "clamp" });
    rampTo(s, home, home);
    const t = Float32Array.from(home);
    t[15] = 0.05; // right gripper max 0.04; then the step bound min(0.01 m, 0.1 m/s · 0.5 · 0.1 s) = 0.005 from 0.02
    const out = new Float32Array(16);
    const v = s.filter(t, home, out);
    expect(v.ok).toBe(true);
    expect(v.clamped.some((c) => c.startsWith("right_gripper 0.0500 outside [0.0000, 0.0400]"))).toBe(true);
    expect(out[15]).toBeCloseTo(0.025, 6);
    expect(v.clamped.some((c) => c.startsWith("right_gripper step 0.0200 exceeds 0.0050"))).toBe(true);
  });

  it("ramps from the measured pose, then enforces the max step per command", () => {
    const s = layer({ max_step_rad: 0.05, ramp_rad_per_s: 0.25 });
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
  });

  it("bounds the step by the velocity limit times the period", () => {
    const s = layer({ max_step_rad: 1, velocity_scale: 0.1 });
    rampTo(s, home, home);
    const t = Float32Array.from(home);
    t[4] = 0.03; // joint5 velocity 2.61 · 0.1 · 0.1 s = 0.0261
    const v = s.filter(t, home, new Float32Array(16));
    expect(v.rejected).toEqual(["left_joint5 step 0.0300 exceeds 0.0261"]);
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
