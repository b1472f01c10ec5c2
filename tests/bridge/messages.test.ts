/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures poke into untyped JSON messages and files */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  JointStateMap,
  buildCommand,
  decodeImage,
  loadRobotInterface,
  makeStamp,
  parseCompressedImage,
  parseJointState,
  slotJointNames,
  stampToSeconds,
} from "../../src/bridge/index.ts";
import { encodeTestImage } from "./sim-robot.ts";

const ri = loadRobotInterface(resolve("robot-interfaces/panda-pair-ros2.json"));
const names = slotJointNames(ri.spec);

describe("stamps", () => {
  it("reads ROS 1 and ROS 2 stamps and writes each format", () => {
    expect(stampToSeconds({ secs: 12, nsecs: 500_000_000 })).toBeCloseTo(12.5, 9);
    expect(stampToSeconds({ sec: 3, nanosec: 250_000_000 })).toBeCloseTo(3.25, 9);
    expect(stampToSeconds({ seconds: 3 })).toBeUndefined();
    expect(makeStamp(1, 7.25)).toEqual({ secs: 7, nsecs: 250_000_000 });
    expect(makeStamp(2, 7.25)).toEqual({ sec: 7, nanosec: 250_000_000 });
  });
});

describe("JointState mapping", () => {
  it("maps by name whatever the order, ignoring unknown joints", () => {
    const map = new JointStateMap(names);
    const order = [...names].reverse();
    const msg = parseJointState({
      header: { stamp: { sec: 1, nanosec: 0 } },
      name: [...order, "head_pan"],
      position: [...order.map((n) => names.indexOf(n) / 10), 9],
    });
    if ("problems" in msg) throw new Error(msg.problems.join());
    expect(msg.stamp).toBe(1);
    expect(map.apply(msg, 100)).toBe(16);
    const state = map.read(new Float32Array(16));
    expect(Array.from(state)).toEqual(Array.from({ length: 16 }, (_, i) => Math.fround(i / 10)));
    expect(map.staleJoints(150, 100)).toEqual([]);
  });

  it("lists joints that are missing or stale", () => {
    const map = new JointStateMap(names);
    const msg = parseJointState({ name: names.slice(0, 14), position: new Array(14).fill(0) });
    if ("problems" in msg) throw new Error("unexpected");
    map.apply(msg, 0);
    expect(map.staleJoints(10, 100)).toEqual(["right_panda_joint7", "right_panda_finger_joint1"]);
    const rest = parseJointState({ name: names.slice(14), position: [0, 0] });
    if ("problems" in rest) throw new Error("unexpected");
    map.apply(rest, 90);
    expect(map.staleJoints(150, 100)).toEqual(names.slice(0, 14));
    expect(map.oldestAge(150)).toBe(150);
  });

  it("refuses malformed JointState messages with every problem", () => {
    const r = parseJointState({ name: ["a", "b", 3], position: [0, "x"] });
    expect(r).toEqual({
      problems: [
        "name: expected an array of strings",
        'position.1: expected a finite number, received "x"',
        "position: expected 3 values (one per name), received 2",
      ],
    });
    expect(parseJointState(42)).toEqual({ problems: ["expected a sensor_msgs/JointState object, received number"] });
  });
});

describe("CompressedImage decoding", () => {
  it.each(["png", "jpeg"] as const)("decodes %s and resizes to the policy's input", (format) => {
    const msg = parseCompressedImage({ format: `rgb8; ${format} compressed bgr8`, data: encodeTestImage(format) });
    if ("problems" in msg) throw new Error(msg.problems.join());
    const frame = decodeImage(msg.data, "auto", 16, 12);
    expect(frame.width).toBe(16);
    expect(frame.data.length).toBe(16 * 12 * 3);
    // Halving 32×24 averages source pixel pairs: red(x) = (r[2x] + r[2x+1]) / 2 with r[c] = round(c/31·255);
    // green likewise over rows with g[r] = round(r/23·255); blue constant. JPEG within a few levels.
    const tol = format === "png" ? 1 : 8;
    const px = (x: number, y: number, k: number): number => frame.data[(y * 16 + x) * 3 + k] as number;
    expect(Math.abs(px(0, 0, 0) - 4)).toBeLessThanOrEqual(tol);
    expect(Math.abs(px(15, 0, 0) - 251)).toBeLessThanOrEqual(tol);
    expect(Math.abs(px(0, 11, 1) - 250)).toBeLessThanOrEqual(tol);
    expect(Math.abs(px(7, 5, 2) - 128)).toBeLessThanOrEqual(tol);
  });

  it("refuses data of the wrong or unknown format", () => {
    const png = Buffer.from(encodeTestImage("png"), "base64");
    expect(() => decodeImage(png, "jpeg", 8, 8)).toThrow("expected a JPEG image, received PNG");
    expect(() => decodeImage(Uint8Array.from([1, 2, 3, 4]), "auto", 8, 8)).toThrow(
      "image data is neither PNG nor JPEG (first bytes 01 02 03 04)",
    );
    expect(() => decodeImage(png.subarray(0, 40), "png", 8, 8)).toThrow(/cannot decode PNG image/);
    expect(parseCompressedImage({ format: "jpeg", data: 5 })).toEqual({
      problems: ["data: expected a base64 string or an array of bytes"],
    });
  });
});

describe("command messages", () => {
  const q = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
  const joints = ri.spec.arms.left.joints;
  it("builds a ROS 2 JointTrajectory with {sec,nanosec} durations", () => {
    const c = buildCommand({ kind: "joint_trajectory", topic: "/t" }, 2, joints, q, 0.1, 0);
    expect(c).toMatchObject({ via: "topic", topic: "/t", type: "trajectory_msgs/JointTrajectory" });
    const msg = (c as { msg: any }).msg;
    expect(msg.joint_names).toEqual(joints);
    expect(msg.points[0].positions).toEqual(q);
    expect(msg.points[0].time_from_start).toEqual({ sec: 0, nanosec: 100_000_000 });
    expect(msg.header.stamp).toEqual({ sec: 0, nanosec: 0 });
  });
  it("builds a Float64MultiArray in joint order", () => {
    const c = buildCommand({ kind: "position_controller", topic: "/p" }, 1, joints, q, 0.1, 0);
    expect(c).toEqual({
      via: "topic",
      topic: "/p",
      type: "std_msgs/Float64MultiArray",
      msg: { layout: { dim: [], data_offset: 0 }, data: q },
    });
  });
  it("builds FollowJointTrajectory as a ROS 2 action goal and as a ROS 1 goal topic", () => {
    const iface = { kind: "follow_joint_trajectory", action: "/arm/fjt", time_from_start_s: 0.5 } as const;
    const a = buildCommand(iface, 2, joints, q, 0.1, 0) as { via: string; type: string; goal: any };
    expect(a.via).toBe("action");
    expect(a.type).toBe("control_msgs/action/FollowJointTrajectory");
    expect(a.goal.trajectory.points[0].time_from_start).toEqual({ sec: 0, nanosec: 500_000_000 });
    const b = buildCommand(iface, 1, joints, q, 0.1, 1700000000.5) as {
      via: string;
      topic: string;
      type: string;
      msg: any;
    };
    expect(b).toMatchObject({
      via: "topic",
      topic: "/arm/fjt/goal",
      type: "control_msgs/FollowJointTrajectoryActionGoal",
    });
    expect(b.msg.goal_id.stamp).toEqual({ secs: 1700000000, nsecs: 500_000_000 });
    expect(b.msg.goal.trajectory.points[0].time_from_start).toEqual({ secs: 0, nsecs: 500_000_000 });
  });
});
