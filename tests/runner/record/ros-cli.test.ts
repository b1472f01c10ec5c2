// `duet record --source ros` as a process against the rosbridge test server: episodes bounded by std_msgs/Empty
// topics, the summary on stdout, a dataset that validates.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadRobotInterface } from "../../../src/bridge/index.ts";
import { validateDataset } from "../../../src/data/index.ts";
import { tempDir } from "../../data/fixtures.ts";
import { waitFor } from "../../bridge/wait.ts";
import { RosbridgeTestServer } from "../../bridge/rosbridge-server.ts";
import { SimRobot } from "../../bridge/sim-robot.ts";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe("duet record --source ros (process)", () => {
  it("records episodes started and stopped on ROS topics and prints the summary", async () => {
    const spec = structuredClone(loadRobotInterface(resolve("robot-interfaces/panda-pair-ros1.json")).spec);
    spec.robot = resolve("robots/panda-pair.json");
    spec.control_hz = 20;
    spec.image_size = { width: 8, height: 8 };
    spec.max_age_ms = { joint_states: 300, camera: 500 };
    const dir = tempDir("duet-ros-cli-");
    const file = join(dir, "robot.json");
    writeFileSync(file, JSON.stringify(spec));
    const server = await RosbridgeTestServer.start({ rosVersion: 1 });
    const robot = new SimRobot(server, spec, { jointPeriodMs: 10, cameraPeriodMs: 25 });
    robot.attach(server);
    const out = join(dir, "ds");
    const args = ["record", "--source", "ros", "--robot-interface", file, "--url", server.url];
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", ...args, "--episodes", "1", "--out", out, "--topics", "/rec", "--json"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    cleanup = async () => {
      child.kill("SIGKILL");
      robot.detach();
      await server.kill();
    };
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
    // Boundaries are published from the ROS graph until the recorder's log line shows they arrived.
    await waitFor(
      "episode started",
      () => {
        server.publish("/rec/start", {});
        return /recording: episode 0 started \(topic \/rec\/start\)/.test(stderr);
      },
      30_000,
    );
    await new Promise((r) => setTimeout(r, 400));
    await waitFor(
      "episode committed",
      () => {
        if (child.exitCode === null) server.publish("/rec/stop", {});
        return /idle: episode 0 committed: \d+ frames, success \(topic \/rec\/stop\)/.test(stderr);
      },
      10_000,
    );
    expect(await exited).toBe(0);
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ out, recorded: 1, discarded: 0, episodes: 1 });
    expect(summary.frames).toBeGreaterThan(0);
    const report = await validateDataset(out);
    expect([report.problems, report.episodes]).toEqual([[], 1]);
  });
});
