// duet record --source ros: demonstrations recorded through the rosbridge v2 test server from the servoed robot
// (./sim-robot.ts), which the test moves along a scripted trajectory as an operator would. Episode boundaries arrive
// as std_msgs/Empty messages on /duet/record/{start,stop}.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ACTION_DIM, ARM_DOF } from "../../../src/core/index.ts";
import { createClock, loadRobotInterface, slotJointNames, type RobotInterface } from "../../../src/bridge/index.ts";
import { Dataset, validateDataset } from "../../../src/data/index.ts";
import { CommandTap, NO_SEED, openRosRecording, type RosSource } from "../../../src/runner/record/index.ts";
import { tempDir } from "../../data/fixtures.ts";
import { sleep, waitFor } from "../../bridge/wait.ts";
import { RosbridgeTestServer } from "../../bridge/rosbridge-server.ts";
import { SimRobot, homePose } from "../../bridge/sim-robot.ts";

interface Rig {
  server: RosbridgeTestServer;
  robot: SimRobot;
  source: RosSource;
  spec: RobotInterface;
  logs: string[];
  out: string;
}

let rig: Rig | undefined;
afterEach(async () => {
  rig?.source.close();
  rig?.robot.detach();
  await rig?.server.kill();
  rig = undefined;
});

function testInterface(file = "panda-pair-ros2.json"): RobotInterface {
  const spec = structuredClone(loadRobotInterface(resolve("robot-interfaces", file)).spec);
  spec.control_hz = 20;
  spec.image_size = { width: 16, height: 16 };
  spec.max_age_ms = { joint_states: 300, camera: 500 };
  spec.connection.reconnect_initial_ms = 50;
  spec.connection.heartbeat_ms = 200;
  return spec;
}

async function startRig(options: { actions?: "measured" | "commanded"; episodes: number }): Promise<{
  rig: Rig;
  done: Promise<Awaited<ReturnType<RosSource["run"]>>>;
}> {
  const spec = testInterface();
  const server = await RosbridgeTestServer.start({ rosVersion: 2 });
  const robot = new SimRobot(server, spec, { jointPeriodMs: 10, cameraPeriodMs: 25 });
  robot.attach(server);
  const out = tempDir("duet-ros-rec-");
  const logs: string[] = [];
  const { source } = await openRosRecording(server.url, {
    interface: spec,
    out,
    episodes: options.episodes,
    actions: options.actions ?? "measured",
    task: "teleop test",
    log: (line) => logs.push(line),
  });
  const r: Rig = { server, robot, source, spec, logs, out };
  rig = r;
  return { rig: r, done: source.run() };
}

/** Publish `msg` on `topic` from the ROS graph until `cond` holds (the subscription may still be on its way). */
async function publishUntil(r: Rig, topic: string, what: string, cond: () => boolean): Promise<void> {
  await waitFor(
    what,
    () => {
      if (cond()) return true;
      r.server.publish(topic, {});
      return false;
    },
    5000,
  );
}

const startEpisode = (r: Rig) =>
  publishUntil(r, "/duet/record/start", "recording", () => r.source.status.state === "recording");
const stopEpisode = (r: Rig) => {
  const before = r.source.status.committed;
  return publishUntil(r, "/duet/record/stop", "commit", () => r.source.status.committed > before);
};

/** Move left joint1 from home by +0.4 rad and right joint2 by −0.2 rad over `ms`, as an operator would. */
async function scriptedMotion(robot: SimRobot, ms: number): Promise<void> {
  const home = homePose();
  const t0 = performance.now();
  for (;;) {
    const f = Math.min(1, (performance.now() - t0) / ms);
    robot.target[0] = (home[0] as number) + 0.4 * f;
    robot.target[ARM_DOF + 2] = (home[ARM_DOF + 2] as number) - 0.2 * f;
    if (f >= 1) return;
    await sleep(10);
  }
}

describe("duet record --source ros", () => {
  it("records a scripted motion with measured next positions as actions; stale inputs end the episode (gap); a disconnect discards it", async () => {
    const { rig: r, done } = await startRig({ episodes: 3 });
    await waitFor("connected", () => r.source.status.state === "idle" && r.source.status.epoch === 1);

    // Episode 0: a smooth motion.
    await startEpisode(r);
    await scriptedMotion(r.robot, 600);
    const framesAtEnd = r.source.status.frames;
    await waitFor("3 frames after the motion", () => r.source.status.frames >= framesAtEnd + 3);
    const skippedFirst = r.source.status.skipped;
    await stopEpisode(r);

    // Episode 1: the joint-state driver stops for a while → the episode ends at the gap; its few frames before it are
    // discarded (fewer than one second's), and recording goes on in a new episode once joint states are back.
    await startEpisode(r);
    await sleep(150);
    r.robot.jointStatesOn = false;
    // generous timeout: on a loaded machine the recorder tick that notices the gap can come late
    await waitFor(
      "stale joint states reported",
      () => /joint states older than 300 ms/.test(r.source.status.reason),
      20_000,
    );
    expect(r.source.status.skipped).toBeGreaterThan(0);
    r.robot.jointStatesOn = true;
    await waitFor("recording again", () => r.source.status.reason === "recording");
    await sleep(150);
    await stopEpisode(r);

    // Episode 2 is cut by a disconnect: not committed. After the server comes back, the next one is.
    await startEpisode(r);
    await sleep(200);
    const port = r.server.port;
    await r.server.kill();
    await waitFor("disconnect noticed", () => r.source.status.state === "disconnected");
    expect(r.source.status.reason).toMatch(/link down .*episode discarded, \d+ frames not committed/);
    expect(r.source.status.datasetEpisodes).toBe(2);
    r.server = await RosbridgeTestServer.start({ rosVersion: 2, port });
    r.robot.attach(r.server);
    await waitFor("reconnected", () => r.source.status.state === "idle", 5000);
    await startEpisode(r);
    await sleep(300);
    await stopEpisode(r);

    const result = await done;
    expect(result.recorded.map((e) => e.episodeIndex)).toEqual([0, 1, 2]);
    // the part before the gap, the episode cut by the disconnect, and any part before a gap an overloaded machine made
    const gapDiscards = r.logs.filter((l) => /^gap \(.*\): the \d+ frames before it are discarded/.test(l)).length;
    expect(gapDiscards).toBeGreaterThanOrEqual(1);
    expect(result.discarded).toBe(1 + gapDiscards);
    expect(
      r.logs.some((l) =>
        /^gap \(joint states older than 300 ms for .*\): the \d+ frames before it are discarded \(fewer than 20\); recording goes on in a new episode/.test(
          l,
        ),
      ),
    ).toBe(true);

    const report = await validateDataset(r.out);
    expect(report.problems).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.episodes).toBe(3);
    const ds = await Dataset.open(r.out);
    expect(ds.info.fps).toBe(20);
    expect(ds.info.robot_type).toBe("panda-pair-ros2");
    expect(ds.spec.cameras).toEqual(
      ["front", "left_wrist", "right_wrist"].map((name) => ({ name, width: 16, height: 16 })),
    );
    expect(ds.episodes.map((e) => [e.seed, e.success])).toEqual([
      [NO_SEED, true],
      [NO_SEED, true],
      [NO_SEED, true],
    ]);

    // Episode 0: action t = the measured state of the next tick; across a skipped tick the pair is broken.
    const ep = await ds.episode(0);
    const T = ep.meta.length;
    expect(T).toBeGreaterThanOrEqual(8);
    let pairs = 0;
    for (let t = 0; t + 1 < T; t++) {
      let same = true;
      for (let j = 0; j < ACTION_DIM; j++)
        if (ep.action[t * ACTION_DIM + j] !== ep.state[(t + 1) * ACTION_DIM + j]) same = false;
      if (same) pairs++;
    }
    expect(pairs).toBeGreaterThanOrEqual(T - 1 - skippedFirst);
    // The recorded states follow the scripted motion: left joint1 rises from home to +0.4, other joints stay home.
    const home = homePose();
    const q1 = Array.from({ length: T }, (_, t) => ep.state[t * ACTION_DIM] as number);
    for (let t = 1; t < T; t++) expect(q1[t]).toBeGreaterThanOrEqual(q1[t - 1] as number);
    expect((q1[0] as number) - (home[0] as number)).toBeLessThan(0.3);
    expect((q1[T - 1] as number) - (home[0] as number)).toBeCloseTo(0.4, 5);
    const lastRight2 = ep.state[(T - 1) * ACTION_DIM + ARM_DOF + 2] as number;
    expect(lastRight2 - (home[ARM_DOF + 2] as number)).toBeCloseTo(-0.2, 5);
    for (let t = 0; t < T; t++) expect(ep.state[t * ACTION_DIM + 3]).toBe(Math.fround(home[3] as number));
    // Camera frames decoded from the JPEG topics and resized to the interface's image_size.
    const frame = ep.images["front"]?.[0];
    expect([frame?.width, frame?.height, frame?.data.length]).toEqual([16, 16, 16 * 16 * 3]);
    expect(frame?.data.some((v) => v > 0)).toBe(true);
  });

  it("records the commanded targets of the interface's command topics, mapped by joint name", async () => {
    const { rig: r, done } = await startRig({ actions: "commanded", episodes: 1 });
    await waitFor("connected", () => r.source.status.state === "idle");
    await startEpisode(r);
    await waitFor("missing commands reported", () =>
      /^no command received for left_panda_joint1/.test(r.source.status.reason),
    );
    expect(r.source.status.frames).toBe(0);

    // A teleop node streams one-point JointTrajectory commands, joint names in reversed order; command k sets
    // joint j of arm a to 0.1·j + 0.5·a + 0.001·k (grippers 0.01 + 0.0001·k).
    const names = slotJointNames(r.spec);
    const value = (slot: number, k: number): number =>
      slot % (ARM_DOF + 1) === ARM_DOF
        ? 0.01 + 0.0001 * k
        : 0.1 * (slot % (ARM_DOF + 1)) + 0.5 * Math.floor(slot / 8) + 0.001 * k;
    let k = 0;
    const publish = (): void => {
      for (const arm of ["left", "right"] as const) {
        const a = r.spec.arms[arm];
        for (const [iface, joints] of [
          [a.command, a.joints],
          [a.gripper_command, [a.gripper_joint]],
        ] as const) {
          if (iface.kind !== "joint_trajectory") throw new Error("test expects joint_trajectory");
          const rev = [...joints].reverse();
          r.server.publish(iface.topic, {
            joint_names: rev,
            points: [
              { positions: rev.map((n) => value(names.indexOf(n), k)), time_from_start: { sec: 0, nanosec: 5e7 } },
            ],
          });
        }
      }
      k++;
    };
    // A malformed command is ignored with a log line naming the topic and field.
    const leftTopic = (r.spec.arms.left.command as { topic: string }).topic;
    r.server.publish(leftTopic, { joint_names: ["a", "b"], points: [{ positions: [1] }] });
    await waitFor("malformed command logged", () =>
      r.logs.some(
        (l) =>
          l === `${leftTopic}: command ignored: points.0.positions: expected 2 values (one per joint name), received 1`,
      ),
    );
    const timer = setInterval(publish, 20);
    try {
      await waitFor("frames", () => r.source.status.frames >= 8);
    } finally {
      clearInterval(timer);
    }
    await stopEpisode(r);
    await done;

    const ds = await Dataset.open(r.out);
    const ep = await ds.episode(0);
    let lastK = -1;
    for (let t = 0; t < ep.meta.length; t++) {
      const row = ep.action.subarray(t * ACTION_DIM, (t + 1) * ACTION_DIM);
      // Each arm's 7 joints come from one message: they share one k, which identifies the slots by name.
      for (const base of [0, ARM_DOF + 1]) {
        const kk = Math.round(((row[base] as number) - value(base, 0)) / 0.001);
        for (let j = 0; j < ARM_DOF; j++) expect(row[base + j]).toBe(Math.fround(value(base + j, kk)));
        if (base === 0) {
          expect(kk).toBeGreaterThanOrEqual(lastK);
          lastK = kk;
        }
      }
    }
    expect(lastK).toBeGreaterThan(0);
    expect((await validateDataset(r.out)).ok).toBe(true);
  });

  it("refuses commanded actions from a ROS 2 FollowJointTrajectory action, naming the field, before writing", async () => {
    const spec = testInterface("panda-pair-ros2-action.json");
    const link = { subscribe: () => undefined };
    const why =
      /arms\.left\.command: a ROS 2 follow_joint_trajectory action's goals are not visible .*\(--actions measured\)/;
    expect(() => new CommandTap(spec, link, createClock(), () => undefined)).toThrow(why);
    const out = join(tempDir("duet-ros-refuse-"), "ds");
    await expect(
      openRosRecording("ws://127.0.0.1:9", { interface: spec, out, episodes: 1, actions: "commanded" }),
    ).rejects.toThrow(why);
    expect(existsSync(out)).toBe(false);
  });
});
