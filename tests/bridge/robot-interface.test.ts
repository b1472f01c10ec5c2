/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures poke into untyped JSON messages and files */
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { isStamped, loadRobotInterface, slotJointNames } from "../../src/bridge/index.ts";
import { ValidationError } from "../../src/core/index.ts";

const examples = ["panda-pair-ros2.json", "panda-pair-ros1.json", "panda-pair-ros2-action.json"];

/** What loading `file` throws (undefined if it loads). */
function refusal(file: string): unknown {
  try {
    loadRobotInterface(file);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("robot-interface files", () => {
  it.each(examples)("%s validates and maps 16 slots to distinct joint names", (name) => {
    const ri = loadRobotInterface(resolve("robot-interfaces", name));
    const names = slotJointNames(ri.spec);
    expect(names).toHaveLength(16);
    expect(new Set(names).size).toBe(16);
    expect(names[7]).toBe("left_panda_finger_joint1");
    expect(names[8]).toBe("right_panda_joint1");
    expect(ri.robot.joints[3]?.upper).toBeCloseTo(-0.0698, 6);
  });

  it.each(examples)(
    "%s feeds the shipped models' cameras at their size and rate, with stamped trajectory commands",
    (name) => {
      const { spec } = loadRobotInterface(resolve("robot-interfaces", name));
      expect(Object.keys(spec.cameras).sort()).toEqual(["front", "left_wrist", "right_wrist"]);
      expect([spec.image_size, spec.control_hz]).toEqual([{ width: 96, height: 96 }, 10]);
      for (const arm of ["left", "right"] as const)
        for (const c of [spec.arms[arm].command, spec.arms[arm].gripper_command]) {
          expect(isStamped(c)).toBe(true);
          if (c.kind !== "position_controller") expect(c.time_from_start_s).toBeUndefined(); // one control period
        }
      expect(spec.connection.command_settle_ms).toBeGreaterThan(0);
    },
  );

  it("refuses a trajectory time_from_start longer than one control period, saying why", () => {
    const dir = mkdtempSync(join(tmpdir(), "duet-ri-"));
    const j = JSON.parse(readFileSync("robot-interfaces/panda-pair-ros2-action.json", "utf8")) as Record<string, any>;
    j.robot = resolve("robots/panda-pair.json");
    j.arms.left.command.time_from_start_s = 0.2;
    j.arms.right.gripper_command.time_from_start_s = 0.1;
    const file = join(dir, "slow.json");
    writeFileSync(file, JSON.stringify(j));
    const err = refusal(file);
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual(["arms.left.command.time_from_start_s"]);
    expect((err as Error).message).toMatch(/at most one control period \(1\/control_hz = 0\.1 s\), received 0\.2/);
  });

  it("reports every bad field of a broken file at once, with paths", () => {
    const dir = mkdtempSync(join(tmpdir(), "duet-ri-"));
    const good = JSON.parse(readFileSync("robot-interfaces/panda-pair-ros2.json", "utf8")) as Record<string, any>;
    good.robot = resolve("robots/panda-pair.json");
    good.ros_version = 3;
    good.arms.left.joints = good.arms.left.joints.slice(0, 6);
    good.arms.right.command = { kind: "velocity", topic: "/x" };
    good.arms.right.gripper_joint = "left_panda_finger_joint1";
    good.cameras.front.format = "bmp";
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(good));
    const err = refusal(file);
    expect(err).toBeInstanceOf(ValidationError);
    const paths = (err as ValidationError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(
      ["arms.left.joints", "arms.right.command.kind", "cameras.front.format", "ros_version"].sort(),
    );
    expect((err as Error).message).toContain(file);
  });

  it("instruction_topic: optional, a ROS name and nothing else, an error naming the file and the field", () => {
    const dir = mkdtempSync(join(tmpdir(), "duet-ri-"));
    const j = JSON.parse(readFileSync("robot-interfaces/panda-pair-ros1.json", "utf8")) as Record<string, any>;
    j.robot = resolve("robots/panda-pair.json");
    expect(j.instruction_topic).toEqual({ topic: "/duet/instruction" });
    delete j.instruction_topic;
    const none = join(dir, "none.json");
    writeFileSync(none, JSON.stringify(j));
    expect(loadRobotInterface(none).spec.instruction_topic).toBeUndefined();
    j.instruction_topic = { topic: "duet instruction", type: "std_msgs/String" };
    const bad = join(dir, "bad-instruction.json");
    writeFileSync(bad, JSON.stringify(j));
    const err = refusal(bad);
    expect((err as ValidationError).issues.map((i) => i.path).sort()).toEqual([
      "instruction_topic",
      "instruction_topic.topic",
    ]);
    expect((err as Error).message).toContain(bad);
    expect((err as Error).message).toContain(
      '  - instruction_topic.topic: expected a ROS name such as /joint_states, received "duet instruction"\n' +
        "  - instruction_topic: expected no unknown keys (found type), received extra keys",
    );
  });

  it("names a duplicate joint and where it was first used", () => {
    const dir = mkdtempSync(join(tmpdir(), "duet-ri-"));
    const j = JSON.parse(readFileSync("robot-interfaces/panda-pair-ros2.json", "utf8")) as Record<string, any>;
    j.robot = resolve("robots/panda-pair.json");
    j.arms.right.joints[2] = "left_panda_joint5";
    const file = join(dir, "dup.json");
    writeFileSync(file, JSON.stringify(j));
    expect(() => loadRobotInterface(file)).toThrow(
      /arms\.right\.joints\.2: expected a joint name not already used by arms\.left\.joints\.4/,
    );
  });

  it("names the robot file when it does not load", () => {
    const dir = mkdtempSync(join(tmpdir(), "duet-ri-"));
    const j = JSON.parse(readFileSync("robot-interfaces/panda-pair-ros2.json", "utf8")) as Record<string, any>;
    j.robot = "nowhere.json";
    const file = join(dir, "norobot.json");
    writeFileSync(file, JSON.stringify(j));
    expect(() => loadRobotInterface(file)).toThrow(/field "robot" names .*nowhere\.json.*cannot read file \(ENOENT\)/s);
  });
});
