// `--policy` references (src/runner/deploy/policy-ref.ts): the one table that resolves them for a robot (`duet deploy`)
// and for the simulator (`duet sim`, `duet eval`).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  HoldPolicy,
  interfaceEdits,
  policyHelp,
  policyModel,
  resolveDeployPolicy,
  resolveSimPolicy,
} from "../../../src/runner/deploy/index.ts";
import { loadRobotInterface, type LoadedRobotInterface } from "../../../src/bridge/index.ts";
import type { Observation } from "../../../src/core/index.ts";
import { readPolicyModel } from "../../../src/policy/index.ts";
import { ScriptedExpert, createEnv } from "../../../src/sim/index.ts";

const SHIPPED = ["panda-pair-ros1.json", "panda-pair-ros2.json", "panda-pair-ros2-action.json"];
const ROS2 = loadRobotInterface("robot-interfaces/panda-pair-ros2.json");
/** The ROS 1 interface as it shipped before issue 35: cameras `top` and `wrist_left`, and other changes. */
function oldStyle(ri: LoadedRobotInterface): LoadedRobotInterface {
  const cam = { topic: "/cameras/top/image_raw/compressed", format: "auto" as const, throttle_ms: 50 };
  return {
    ...ri,
    spec: {
      ...ri.spec,
      cameras: { top: cam, wrist_left: { ...cam, topic: "/left/wrist_camera/image_raw/compressed" } },
      image_size: { width: 64, height: 64 },
      control_hz: 20,
    },
  };
}

function replayFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "duet-replay-")), "r.json");
  writeFileSync(file, JSON.stringify(content));
  return file;
}

const row = (x: number): number[] => Array.from({ length: 16 }, (_, i) => i / 100 + x);

describe("duet deploy --policy", () => {
  it("resolves hold and replay:FILE", async () => {
    expect((await resolveDeployPolicy("hold", ROS2)).policy).toBeInstanceOf(HoldPolicy);
    const file = replayFile({ chunks: [[row(0)]] });
    const { policy: p } = await resolveDeployPolicy(`replay:${file}`, ROS2);
    const obs: Observation = { time: 0, state: new Float32Array(16), images: {} };
    const c = await p.predictChunk([obs]);
    expect(c.horizon).toBe(1);
    expect(c.actions[15]).toBeCloseTo(0.15, 6);
  });

  it("replays every step of each chunk unless the file's actionSteps or --action-steps says fewer", async () => {
    const chunks = [Array.from({ length: 10 }, (_, s) => row(s)), Array.from({ length: 6 }, (_, s) => row(s))];
    const plain = replayFile({ chunks });
    expect((await resolveDeployPolicy(`replay:${plain}`, ROS2)).actionSteps).toBe(10);
    const withTa = replayFile({ chunks, actionSteps: 4 });
    expect((await resolveDeployPolicy(`replay:${withTa}`, ROS2)).actionSteps).toBe(4);
    expect((await resolveDeployPolicy(`replay:${withTa}`, ROS2, { actionSteps: 7 })).actionSteps).toBe(7);
    expect((await resolveDeployPolicy("hold", ROS2, { actionSteps: 3 })).actionSteps).toBe(3);
    await expect(resolveDeployPolicy(`replay:${replayFile({ chunks, actionSteps: 0 })}`, ROS2)).rejects.toThrow(
      /actionSteps: expected > 0, received 0/,
    );
  });

  it.each(SHIPPED)("%s runs models/bottle-cap-unet as it is, with the model's horizons", async (file) => {
    const ri = loadRobotInterface(`robot-interfaces/${file}`);
    expect(interfaceEdits(readPolicyModel("models/bottle-cap-unet"), ri)).toEqual([]);
    const { policy, obsSteps, actionSteps } = await resolveDeployPolicy("models/bottle-cap-unet", ri);
    expect([obsSteps, actionSteps]).toEqual([1, 1]);
    const frame = { width: 96, height: 96, data: new Uint8Array(96 * 96 * 3).fill(90) };
    const images = { front: frame, left_wrist: frame, right_wrist: frame };
    const chunk = await policy.predictChunk([{ time: 0, state: new Float32Array(16), images }]);
    expect([chunk.horizon, chunk.dim, chunk.actions.every(Number.isFinite)]).toEqual([10, 16, true]);
  });

  it("refuses a model that does not fit the interface with the list of edits to make, before loading it", async () => {
    const ri = oldStyle(loadRobotInterface("robot-interfaces/panda-pair-ros1.json"));
    const edits = [
      'cameras.top: the model reads no camera "top"; rename this key to the model camera its topic should feed (front, left_wrist, right_wrist), or remove it',
      'cameras.wrist_left: the model reads no camera "wrist_left"; rename this key to the model camera its topic should feed (front, left_wrist, right_wrist), or remove it',
      'cameras.front: missing; add "front": {"topic": "<the sensor_msgs/CompressedImage topic of the robot\'s camera placed like the model\'s front>"} (or rename one of cameras.top, cameras.wrist_left to it)',
      'cameras.left_wrist: missing; add "left_wrist": {"topic": "<the sensor_msgs/CompressedImage topic of the robot\'s camera placed like the model\'s left_wrist>"} (or rename one of cameras.top, cameras.wrist_left to it)',
      'cameras.right_wrist: missing; add "right_wrist": {"topic": "<the sensor_msgs/CompressedImage topic of the robot\'s camera placed like the model\'s right_wrist>"} (or rename one of cameras.top, cameras.wrist_left to it)',
      'image_size: set {"width": 96, "height": 96} (the model\'s input; every frame is resized to it), not 64x64',
      "control_hz: set 10 (the rate the model was trained at), not 20",
    ];
    expect(interfaceEdits(readPolicyModel("models/bottle-cap-unet"), ri)).toEqual(edits);
    await expect(resolveDeployPolicy("models/bottle-cap-unet", ri)).rejects.toThrow(
      `models/bottle-cap-unet does not fit the robot interface robot-interfaces/panda-pair-ros1.json. Edit robot-interfaces/panda-pair-ros1.json:\n  - ${edits.join("\n  - ")}\n(the keys of "cameras" are the camera names the model reads: front, left_wrist, right_wrist)`,
    );
    // an extra camera the model does not read is fine; a missing one is the only edit
    const shipped = loadRobotInterface("robot-interfaces/panda-pair-ros2.json");
    const { right_wrist: _gone, ...two } = shipped.spec.cameras;
    const extra = { ...shipped, spec: { ...shipped.spec, cameras: { ...two, top: two.front! } } };
    expect(interfaceEdits(readPolicyModel("models/bottle-cap-unet"), extra)).toEqual([
      'cameras.top: the model reads no camera "top"; rename this key to the model camera its topic should feed (right_wrist), or remove it',
      'cameras.right_wrist: missing; add "right_wrist": {"topic": "<the sensor_msgs/CompressedImage topic of the robot\'s camera placed like the model\'s right_wrist>"} (or rename one of cameras.top to it)',
    ]);
    await expect(resolveDeployPolicy("models/bottle-cap-unet", ROS2, { actionSteps: 11 })).rejects.toThrow(
      "--action-steps 11: models/bottle-cap-unet plans chunks of 10 steps (config.predSteps)",
    );
    await expect(resolveDeployPolicy("docs", ROS2)).rejects.toThrow(
      /docs: not a policy model directory: model\.json is missing/,
    );
  });

  it("a language-conditioned model: its instructions from --instruction and the interface's instruction topic", async () => {
    const model = "models/multi-task-unet";
    const left = "hold the bottle in your left hand and unscrew the cap";
    // the shipped interfaces have an instruction topic; --instruction, normalized as the encoder reads it, is the first
    const viaFlag = (await resolveDeployPolicy(model, ROS2, { instruction: `  ${left.replace(/ /g, "  ")} ` }))
      .language;
    expect(viaFlag && { first: viaFlag.first, topic: viaFlag.topic }).toEqual({
      first: left,
      topic: "/duet/instruction",
    });
    expect(viaFlag?.check(` ${left}`, "/duet/instruction")).toBe(left);
    const { instruction_topic: _none, ...noTopic } = ROS2.spec;
    const bare = { ...ROS2, spec: noTopic };
    expect((await resolveDeployPolicy(model, bare, { instruction: left })).language?.topic).toBeUndefined();
    // refused before loading: neither; a text the encoder cannot take; --instruction for a policy that reads none
    await expect(resolveDeployPolicy(model, bare)).rejects.toThrow(
      "models/multi-task-unet is language-conditioned (config.language): it is not run without an instruction. Give " +
        'the first episode\'s task with --instruction "TEXT", or add "instruction_topic": {"topic": "/duet/instruction"} ' +
        "to robot-interfaces/panda-pair-ros2.json and publish the task there as a std_msgs/String (each message sets " +
        "the task of the next episode)",
    );
    await expect(resolveDeployPolicy(model, ROS2, { instruction: `${left}, very gently` })).rejects.toThrow(
      '--instruction: instruction "hold the bottle in your left hand and..." is 66 UTF-8 bytes; the text encoder ' +
        "takes at most 62 (maxTokens 64, BOS and EOS included): the limit of models/multi-task-unet's text encoder",
    );
    await expect(resolveDeployPolicy(model, ROS2, { instruction: "left\thand" })).rejects.toThrow(
      /^--instruction: instruction "left\\thand": character 4 is a control character \(U\+0009\)/,
    );
    expect((await resolveDeployPolicy("models/bottle-cap-unet", ROS2)).language).toBeUndefined();
    await expect(resolveDeployPolicy("models/bottle-cap-unet", ROS2, { instruction: left })).rejects.toThrow(
      "--instruction: models/bottle-cap-unet does not read instructions (its policy.language is null: it was trained " +
        "without them); leave --instruction out, or run a language-conditioned model (e.g. models/multi-task-unet)",
    );
    for (const ref of ["hold", `replay:${replayFile({ chunks: [[row(0)]] })}`])
      await expect(resolveDeployPolicy(ref, ROS2, { instruction: left })).rejects.toThrow(
        `--instruction: ${ref} does not read instructions (only a trained language-conditioned model reads one)`,
      );
  });

  it("names the accepted values for an unknown policy, and the bad field of a replay file", async () => {
    await expect(resolveDeployPolicy("models/nope", ROS2)).rejects.toThrow(
      '--policy: expected one of hold (hold the measured pose), replay:FILE.json (replay recorded chunks ({"chunks": [[[16 numbers] × Tp] × N], "actionSteps"?: Ta}; every step of each chunk unless Ta says fewer)), MODEL_DIR (a trained policy, e.g. models/bottle-cap-unet), received "models/nope"',
    );
    const file = replayFile({ chunks: [[[1, 2, 3]]] });
    await expect(resolveDeployPolicy(`replay:${file}`, ROS2)).rejects.toThrow(
      /chunks\.0\.0: expected length >= 16, received \[1,2,3\]/,
    );
  });
});

describe("duet sim --policy", () => {
  it("resolves the expert and model directories from the same table, and only what runs in the simulator", () => {
    const env = createEnv("scenarios/bottle-cap.json", { cameras: false });
    expect(resolveSimPolicy("expert", env)).toBeInstanceOf(ScriptedExpert);
    expect(policyModel("expert", "sim")).toBeNull();
    expect(policyModel("models/bottle-cap-unet", "sim")?.config.predSteps).toBe(10);
    expect(resolveSimPolicy("models/bottle-cap-unet", env).historySteps).toBe(1);
    const simOnly = "expert (the scripted expert; it reads the simulator's world)";
    const model = "MODEL_DIR (a trained policy, e.g. models/bottle-cap-unet)";
    expect(policyHelp("sim")).toBe(`${simOnly}, ${model}`);
    expect(() => resolveSimPolicy("hold", env)).toThrow(
      `--policy: expected one of ${simOnly}, ${model}, received "hold"`,
    );
    expect(() => policyModel("models/nope", "sim")).toThrow('received "models/nope"');
  });

  it("offers no simulator-only policy to a robot", async () => {
    expect(policyHelp("robot")).not.toContain("expert");
    await expect(resolveDeployPolicy("expert", ROS2)).rejects.toThrow(
      /^--policy: expected one of hold .*received "expert"/,
    );
  });
});
