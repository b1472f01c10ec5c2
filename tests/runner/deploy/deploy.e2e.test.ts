// End to end over the rosbridge v2 protocol: the real bridge (roslib 2 over ws) and deploy loop against the test
// server in ./rosbridge-server.ts (the real rosbridge cannot run in CI; see that file for the facts it reproduces) with
// a servoed two-arm robot behind it (./sim-robot.ts), whose trajectory controllers drop a command that arrives after
// its stamp + time_from_start, as ROS ones do. The fault tests (freeze, kill, late subscriber, stale inputs) check what
// the robot then receives: no command takes effect more than one control period after it was computed.
import { afterEach, describe, expect, it } from "vitest";
import { HoldPolicy, ReplayPolicy } from "../../../src/runner/deploy/index.ts";
import { RosbridgeTestServer } from "../../bridge/rosbridge-server.ts";
import { sleep, waitFor } from "../../bridge/wait.ts";
import { chunksMovingJoint1, startHarness, type Harness } from "./harness.ts";
import { homePose, type RobotCommand } from "../../bridge/sim-robot.ts";
import type { RobotInterface } from "../../../src/bridge/index.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const home = Array.from(homePose());
const f32 = (x: number): number => Math.fround(x);

/** Every arm and gripper command through a Float64MultiArray position controller (unstamped). */
function unstamped(spec: RobotInterface): void {
  for (const arm of ["left", "right"] as const) {
    spec.arms[arm].command = { kind: "position_controller", topic: `/${arm}/position_joint_controller/command` };
    spec.arms[arm].gripper_command = {
      kind: "position_controller",
      topic: `/${arm}/gripper_position_controller/command`,
    };
  }
}

/**
 * The commands that took effect (not dropped as expired) more than `periodS` after they were computed: none may. A
 * stamped command is judged by its stamp (the robot drops it later than stamp + time_from_start ≤ one period).
 */
function lateApplied(commands: readonly RobotCommand[], periodS: number): RobotCommand[] {
  return commands.filter((c) => !c.expired && (c.stampS === undefined || c.wallS - c.stampS > periodS + 1e-3));
}

describe("deploy through rosbridge", () => {
  it("holds the measured pose (ROS 2, JointTrajectory, JPEG camera)", async () => {
    h = await startHarness(new HoldPolicy());
    const hh = h;
    await waitFor("10 commands", () => hh.commands().length >= 20);
    const cmds = h.commands();
    for (const c of cmds) {
      expect(c.positions).toHaveLength(7);
      for (const [i, v] of c.positions.entries()) expect(Math.abs(v - (home[i] as number))).toBeLessThan(1e-6);
    }
    expect(h.controller.status.state).toBe("running");
    expect(h.bridge.stats.frames).toBeGreaterThan(0);
    const traj = h.server.received.find((r) => r.topic === "/left/joint_trajectory_controller/joint_trajectory")
      ?.msg as { header: { stamp: { sec: number; nanosec: number } }; points: { time_from_start: unknown }[] };
    expect(traj.points[0]?.time_from_start).toEqual({ sec: 0, nanosec: 50_000_000 });
    // stamped with the time it was computed: a controller drops it once that + one period (50 ms) has passed
    const stampS = traj.header.stamp.sec + traj.header.stamp.nanosec * 1e-9;
    expect(Math.abs(stampS - Date.now() / 1000)).toBeLessThan(5);
    expect(h.robot.commands.every((c) => c.stampS !== undefined && c.reachS === 0.05)).toBe(true);
    // the command topics were advertised as the connection opened, not on the first publish
    expect(h.server.log).toEqual([]);
  });

  it("replays chunks through a ROS 2 FollowJointTrajectory action, ramping from the measured pose", async () => {
    h = await startHarness(new ReplayPolicy(chunksMovingJoint1([0.04, 0.08, 0.12, 0.16, 0.2])), {
      interfaceFile: "panda-pair-ros2-action.json",
      edit: (spec) => void (spec.safety.ramp_rad_per_s = 0.25),
    });
    const hh = h;
    await waitFor("left joint1 at 0.2", () => Math.abs((hh.robot.position[0] as number) - 0.2) < 1e-3, 8000);
    const cmds = h.commands().filter((c) => c.source.startsWith("/left/joint_trajectory_controller"));
    const rampStep = h.spec.safety.ramp_rad_per_s / h.spec.control_hz;
    expect(cmds[0]?.positions[0]).toBeCloseTo(f32(rampStep), 6);
    let prev = 0;
    for (const c of cmds) {
      expect(Math.abs((c.positions[0] as number) - prev)).toBeLessThanOrEqual(h.spec.safety.max_step_rad + 1e-6);
      prev = c.positions[0] as number;
    }
    expect(h.server.goals.some((g) => g.action === "/left/gripper_controller/follow_joint_trajectory")).toBe(true);
    // goals carry the stamped trajectory too
    expect(h.robot.commands.length).toBeGreaterThan(0);
    expect(h.robot.commands.every((c) => c.stampS !== undefined && c.reachS === 0.05)).toBe(true);
  });

  it("ROS 1: merges two JointState topics by name in reversed order, Float64MultiArray commands, three cameras", async () => {
    h = await startHarness(new ReplayPolicy(chunksMovingJoint1([0.05])), {
      interfaceFile: "panda-pair-ros1.json",
      robot: { order: "reversed" },
      edit: unstamped,
    });
    const hh = h;
    await waitFor("left joint1 at 0.05", () => Math.abs((hh.robot.position[0] as number) - 0.05) < 1e-3, 8000);
    const right = h.server.received.filter((r) => r.topic === "/right/position_joint_controller/command");
    expect(right.length).toBeGreaterThan(0);
    for (const r of right)
      expect((r.msg.data as number[]).map((v, i) => Math.abs(v - (home[8 + i] as number)) < 1e-6)).toEqual(
        new Array(7).fill(true),
      );
    const grip = h.server.received.find((r) => r.topic === "/left/gripper_position_controller/command");
    expect(grip?.msg.data).toEqual([f32(0.02)]);
  });

  it("refuses an observation with missing joints: no command, and the reason names them", async () => {
    h = await startHarness(new HoldPolicy(), { robot: { omit: ["right_panda_joint7"] } });
    const hh = h;
    await waitFor("joint states flowing", () => hh.bridge.stats.jointStates > 10);
    await sleep(300);
    expect(h.commands()).toEqual([]);
    expect(h.controller.status.reason).toBe("joint states missing for right_panda_joint7");
  });

  it("joint states stop arriving → hold within the watchdog period, nothing sent after", async () => {
    h = await startHarness(new HoldPolicy());
    const hh = h;
    await waitFor("commands", () => hh.commands().length >= 10);
    const t0 = performance.now();
    h.robot.jointStatesOn = false;
    await waitFor("hold", () => hh.controller.status.state === "hold", 2000);
    const holdAt = h.logs.find((l) => l.line.startsWith("hold: watchdog"))?.at ?? Infinity;
    expect(holdAt - t0).toBeLessThanOrEqual(h.spec.safety.watchdog_ms + 1000 / h.spec.control_hz + 50);
    const nBefore = h.commands().length;
    const last = h.commands().at(-1)?.at ?? 0;
    expect(last - t0).toBeLessThanOrEqual(h.spec.max_age_ms.joint_states + 50);
    await sleep(300);
    expect(h.commands().length).toBe(nBefore);
    h.robot.jointStatesOn = true;
    await waitFor("running again", () => hh.controller.status.state === "running", 2000);
    expect(lateApplied(h.robot.commands, 1 / h.spec.control_hz)).toEqual([]);
  });

  it("a command beyond limits or with NaN never leaves the process: hold with one line, resumed after 0.5 s of good ones", async () => {
    // Ta = 8 steps of each chunk: chunk 0 step 3 NaN; chunk 1 step 5 beyond a limit; chunk 3 on (and the held final
    // step) Infinity in every step
    const chunks = chunksMovingJoint1([0, 0, 0, 0], (row, k, s) => {
      if (k === 0 && s === 3) row[2] = NaN;
      if (k === 1 && s === 5) row[3] = 0.5; // joint4 upper limit −0.0698
      if (k === 3) row[10] = Infinity;
    });
    h = await startHarness(new ReplayPolicy(chunks));
    const hh = h;
    await waitFor("a long run of refusals", () => hh.controller.status.rejected >= 20, 8000);
    for (const c of h.commands()) {
      expect(c.positions.every((v) => Number.isFinite(v))).toBe(true);
      if (c.positions.length === 7) expect(c.positions[3]).toBeLessThan(-2);
    }
    expect(JSON.stringify(h.server.received)).not.toContain("null");
    const lines = h.logs.map((l) => l.line).filter((l) => /^(hold|running): /.test(l));
    const hold = (why: string): string =>
      `hold: command rejected by the safety layer: ${why}; nothing is sent until commands pass for 0.5 s (safety in the robot-interface file)`;
    expect(lines).toEqual([
      "running: observations fresh on epoch 1",
      hold("left_joint3 is NaN"),
      // 10 good commands in a row (0.5 s at 20 Hz) after the second refusal (joint4 0.5, while holding)
      "running: commands passed the safety checks for 0.5 s after 2 rejected (ramping from the measured pose)",
      // chunk 3 and the held final step: refused on every tick, said once, counted on the status line
      hold("right_joint3 is Infinity"),
    ]);
    const s = h.controller.status;
    expect(s.state).toBe("hold");
    expect(s.reason).toBe(`${s.rejected - 2} command(s) rejected, the latest: right_joint3 is Infinity`);
    expect(h.server.log).toEqual([]);
  });

  it("server dies mid-episode: stop reported within 200 ms, nothing queued during the outage reaches the robot", async () => {
    h = await startHarness(
      new ReplayPolicy(chunksMovingJoint1([0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2])),
    );
    const hh = h;
    await waitFor("running with commands", () => hh.commands().length >= 10);
    const port = h.server.port;
    const epochBefore = h.bridge.epoch;
    const killedAt = performance.now();
    await h.server.kill();
    h.robot.detach();
    await waitFor("disconnect noticed", () => hh.controller.status.state === "disconnected", 2000);
    expect(h.controller.status.downNoticedAt - killedAt).toBeLessThan(200);
    // During the outage nothing can be sent: old or current epoch, through the bridge or the link.
    const marker = Float32Array.from(home);
    marker[0] = 0.0123;
    expect(h.bridge.sendCommand(marker, epochBefore)).toBe(false);
    expect(h.bridge.sendCommand(marker, h.bridge.epoch)).toBe(false);
    await sleep(150); // the loop keeps ticking while down
    const sentBefore = h.controller.status.commandsSent;
    const old = h.server;
    h.server = await RosbridgeTestServer.start({ rosVersion: 2, port });
    h.robot.attach(h.server);
    await waitFor("commands after restart", () => hh.commands().length >= 5, 5000);
    expect(h.bridge.epoch).toBe(epochBefore + 1);
    expect(old.clientCount).toBe(0);
    const measured = h.logs.find((l) => l.line.startsWith("running: observations fresh on epoch 2"));
    expect(measured).toBeDefined();
    const after = h.commands().filter((c) => c.source.startsWith("/left/joint_trajectory_controller"));
    // Only commands produced on the new connection, from fresh observations: the first is a ramp step from the
    // measured pose (robot is where the last command left it), never the marker.
    for (const c of after) expect(c.positions[0]).not.toBeCloseTo(0.0123, 4);
    const firstAfter = after[0]?.positions[0] as number;
    const measuredAtRestart = h.robot.position[0] as number;
    expect(Math.abs(firstAfter - measuredAtRestart)).toBeLessThanOrEqual(
      h.spec.safety.ramp_rad_per_s / h.spec.control_hz + 0.05,
    );
    expect(h.controller.status.commandsSent).toBeGreaterThan(sentBefore);
    expect(h.server.received.filter((r) => r.at < (measured?.at ?? 0))).toEqual([]);
    expect(lateApplied(h.robot.commands, 1 / h.spec.control_hz)).toEqual([]);
  });

  it("operator stop on the ROS topic: nothing sent afterwards", async () => {
    h = await startHarness(new HoldPolicy());
    const hh = h;
    await waitFor("commands", () => hh.commands().length >= 6);
    h.server.publish("/duet/stop", { data: false });
    await sleep(100);
    expect(h.controller.status.state).toBe("running");
    h.server.publish("/duet/stop", { data: true });
    await waitFor("stopped", () => hh.controller.status.state === "stopped", 1000);
    const n = h.commands().length;
    await sleep(300);
    expect(h.commands().length).toBe(n);
    expect(h.logs.map((l) => l.line)).toContain("stopped: operator stop (ROS topic /duet/stop)");
  });

  it("--dry-run computes and logs commands without publishing", async () => {
    h = await startHarness(new HoldPolicy(), { dryRun: true });
    const hh = h;
    await waitFor("logged commands", () => hh.controller.status.commandsLogged >= 5);
    expect(h.server.received).toEqual([]);
    const line = h.logs.find((l) => l.line.startsWith("dry-run command"))?.line ?? "";
    expect(line).toMatch(
      /^dry-run command \(ramp\): \[0\.0000, -0\.3000, 0\.0000, -2\.2000, 0\.0000, 1\.9000, 0\.7850, 0\.0200, 0\.0000/,
    );
  });

  it("survives malformed and unexpected messages with a clear log line", async () => {
    h = await startHarness(new HoldPolicy());
    const hh = h;
    await waitFor("commands", () => hh.commands().length >= 4);
    h.server.sendRaw("this is not json");
    h.server.sendRaw("42");
    h.server.sendRaw('{"op": 5}');
    h.server.sendRaw('{"op":"publish","topic":"/joint_states"}');
    h.server.publish("/joint_states", { name: ["left_panda_joint1"], position: ["x"] });
    // The garbage frame must be the latest one when the loop decodes it (frames are decoded lazily, at observe).
    h.robot.camerasOn = false;
    h.server.publish(h.spec.cameras.front?.topic ?? "", {
      format: "jpeg",
      data: Buffer.from("garbage!").toString("base64"),
    });
    await waitFor("bad frame counted", () => hh.logs.some((l) => l.line.includes("frame ignored")), 2000);
    h.robot.camerasOn = true;
    const n = h.commands().length;
    await waitFor("more commands after the garbage", () => hh.commands().length >= n + 8, 3000);
    const lines = h.logs.map((l) => l.line);
    expect(lines).toContain("malformed message from rosbridge dropped: not JSON: this is not json");
    expect(lines).toContain('malformed message from rosbridge dropped: not a rosbridge message (no string "op"): 42');
    expect(lines).toContain(
      'malformed message from rosbridge dropped: not a rosbridge message (no string "op"): {"op": 5}',
    );
    expect(lines).toContain(
      "/joint_states: JointState ignored: expected a sensor_msgs/JointState object, received undefined",
    );
    expect(lines).toContain('/joint_states: JointState ignored: position.0: expected a finite number, received "x"');
    expect(
      lines.some((l) =>
        l.startsWith(`${hh.spec.cameras.front?.topic}: frame ignored: image data is neither PNG nor JPEG`),
      ),
    ).toBe(true);
    expect(h.controller.status.state).toBe("running");
  });

  it("replays every step of each chunk with Ta = the chunk's length (what replay: files now resolve to), not 8 of 10", async () => {
    // chunk k, step j: left joint1 = 0.01·(10k + j) — every command names the step it came from
    const chunks = chunksMovingJoint1([0, 0, 0], (row, k, j) => void (row[0] = 0.01 * (10 * k + j)));
    h = await startHarness(new ReplayPolicy(chunks), {
      actionSteps: 10,
      edit: (spec) => void (spec.safety.ramp_rad_per_s = 3),
    });
    const hh = h;
    await waitFor("the last step", () => hh.commands().some((c) => c.positions[0] === f32(0.29)), 8000);
    const steps = h
      .commands()
      .filter((c) => c.source.startsWith("/left/"))
      .map((c) => Math.round((c.positions[0] as number) * 100));
    expect(steps.slice(0, 30)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it("freeze (SIGSTOP-like) with stamped commands: commands held in the server arrive late and are dropped by the robot", async () => {
    h = await startHarness(new HoldPolicy(), {
      // a wide window (300 ms of joint-state age) so that commands are surely sent into the frozen server
      edit: (spec) => void (spec.max_age_ms.joint_states = 300),
    });
    const hh = h;
    await waitFor("running with commands", () => hh.robot.commands.length >= 20);
    const frozenAt = performance.now();
    h.server.freeze();
    await waitFor("link down", () => hh.controller.status.state === "disconnected", 3000);
    await sleep(1000);
    const resumedAt = performance.now();
    const resumedWallS = Date.now() / 1000;
    h.server.resume();
    await waitFor("running again", () => hh.controller.status.state === "running" && hh.bridge.epoch === 2, 5000);
    await waitFor("commands after the freeze", () => hh.robot.commands.some((c) => c.at > resumedAt + 300), 5000);
    const periodS = 1 / h.spec.control_hz;
    const held = h.robot.commands.filter((c) => c.at >= resumedAt && (c.stampS ?? Infinity) < resumedWallS);
    // commands computed before the resume reached the robot after it: 1 s or more late, and all of them dropped
    expect(held.length).toBeGreaterThanOrEqual(4);
    for (const c of held) expect([c.expired, c.wallS - (c.stampS as number) > 0.9]).toEqual([true, true]);
    expect(lateApplied(h.robot.commands, periodS)).toEqual([]);
    expect(h.robot.commands.every((c) => c.stampS !== undefined && (c.reachS as number) <= periodS)).toBe(true);
    expect(h.controller.status.downNoticedAt - frozenAt).toBeLessThan(1000);
  });

  it("freeze with unstamped commands: only commands of the last control period can be caught in the server", async () => {
    h = await startHarness(new HoldPolicy(), {
      edit: (spec) => {
        unstamped(spec);
        spec.max_age_ms.joint_states = 300; // without the one-period rule, 300 ms of commands would be caught
      },
    });
    const hh = h;
    await waitFor("running with commands", () => hh.robot.commands.length >= 20);
    const discardedBefore = h.controller.status.discarded;
    h.server.freeze();
    await waitFor("link down", () => hh.controller.status.state === "disconnected", 3000);
    await sleep(500);
    const resumedAt = performance.now();
    h.server.resume();
    await waitFor("running again", () => hh.controller.status.state === "running" && hh.bridge.epoch === 2, 5000);
    // messages sent into the frozen server, processed on resume: the robot cannot tell they are old
    const caught = h.server.received.filter((r) => r.sentAt < resumedAt && r.at >= resumedAt);
    expect(caught.length % 4).toBe(0); // whole commands: both arms, joints and grippers
    expect(caught.length / 4).toBeLessThanOrEqual(2);
    // ticks inside the 300 ms window found no joint state within the last period and sent nothing
    expect(h.controller.status.discarded).toBeGreaterThan(discardedBefore);
  });

  it("a late subscriber (ROS 1): command topics are advertised at connection and nothing is sent before the robot subscribed", async () => {
    h = await startHarness(new HoldPolicy(), {
      interfaceFile: "panda-pair-ros1.json",
      server: { subscribeDelayMs: 150 }, // replayFirstSecond: on (ROS 1)
    });
    const hh = h;
    await waitFor("commands", () => hh.robot.commands.length >= 40);
    h.controller.close();
    await sleep(50);
    expect(h.spec.connection.command_settle_ms).toBeGreaterThan(150);
    expect(h.server.lateSubscription).toEqual({ dropped: 0, replayed: 0 });
    // every command sent reached the robot once, 50 ms apart (none lost, none bunched by a replay)
    const left = h.robot.commands.filter((c) => c.topic === "/left/position_joint_trajectory_controller/command");
    expect(left.length).toBe(h.controller.status.commandsSent);
    expect(left[1]!.at - left[0]!.at).toBeGreaterThan(25);
    expect(lateApplied(h.robot.commands, 1 / h.spec.control_hz)).toEqual([]);
  });

  it("the late subscriber, reproduced: without the settle time the first commands are replayed late (ROS 1) or lost (ROS 2)", async () => {
    h = await startHarness(new HoldPolicy(), {
      interfaceFile: "panda-pair-ros1.json",
      server: { subscribeDelayMs: 700 },
      edit: (spec) => void (spec.connection.command_settle_ms = 0),
    });
    const hh = h;
    await waitFor("replayed", () => hh.server.lateSubscription.replayed > 0, 4000);
    const first = h.robot.commands.filter((c) => c.topic === "/left/position_joint_trajectory_controller/command");
    // replayed commands arrive together, up to a second after they were computed: the stamps let the robot drop them
    expect(first.length).toBeGreaterThan(1);
    expect(first[1]!.at - first[0]!.at).toBeLessThan(20);
    expect(first[0]!.expired).toBe(true);
    expect(lateApplied(h.robot.commands, 1 / h.spec.control_hz)).toEqual([]);
    await h.close();
    h = await startHarness(new HoldPolicy(), {
      server: { subscribeDelayMs: 700 },
      edit: (spec) => void (spec.connection.command_settle_ms = 0),
    });
    const h2 = h;
    await waitFor("lost", () => h2.server.lateSubscription.dropped > 0, 4000);
    expect(h2.server.log.some((l) => l.includes("no subscriber connected to the new publisher yet"))).toBe(true);
  });
});
