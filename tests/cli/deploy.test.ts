import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { statusLine, unstampedFields } from "../../src/cli/deploy.ts";
import { loadRobotInterface } from "../../src/bridge/index.ts";

const SHIPPED = ["panda-pair-ros1.json", "panda-pair-ros2.json", "panda-pair-ros2-action.json"];
const ROS2 = loadRobotInterface("robot-interfaces/panda-pair-ros2.json");

describe("duet deploy", () => {
  it("names the unstamped command interfaces of a file (none in the shipped ones)", () => {
    for (const f of SHIPPED) expect(unstampedFields(loadRobotInterface(`robot-interfaces/${f}`).spec)).toEqual([]);
    const spec = structuredClone(ROS2.spec);
    spec.arms.right.gripper_command = { kind: "position_controller", topic: "/right/gripper/commands" };
    expect(unstampedFields(spec)).toEqual(["arms.right.gripper_command"]);
  });

  it("formats the status line with rates, latency, ages and limit counters", () => {
    const line = statusLine(
      {
        state: "hold",
        epoch: 2,
        ticks: 9,
        commandsSent: 5,
        commandsLogged: 0,
        rejected: 1,
        clamped: 0,
        clampedSlots: {},
        discarded: 2,
        overruns: 0,
        latencyMsMedian: 2.5,
        latencyMsP95: NaN,
        jointAgeMs: 12,
        cameraAgeMs: 40,
        reason: "watchdog: no frame",
        downNoticedAt: NaN,
      },
      9.96,
    );
    expect(line).toBe(
      "hold         epoch 2 | cmd 10.0 Hz | obs→cmd p50 2.5ms p95 – | age joints 12.0ms cam 40.0ms | sent 5 | rejected 1 clamped 0 discarded 2 | watchdog: no frame",
    );
  });
});

describe("duet deploy as a process (bin/duet.js)", () => {
  it("with no server and no terminal, says why on stderr; SIGINT to the process group stops it once, exit 0", async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, "127.0.0.1", () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === "object" && a !== null ? a.port : 0));
      });
    });
    // its own process group, as a shell job, `timeout` or a systemd unit runs it: SIGINT reaches launcher and command
    const child = spawn(
      process.execPath,
      [
        "bin/duet.js",
        "deploy",
        "--robot-interface",
        "robot-interfaces/panda-pair-ros1.json",
        "--policy",
        "hold",
      ].concat(["--url", `ws://127.0.0.1:${port}`]),
      { detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<[number | null, string | null]>((res) => child.on("exit", (c, s) => res([c, s])));
    try {
      const t0 = performance.now();
      while (!stderr.includes("cannot connect") && performance.now() - t0 < 30_000)
        await new Promise((r) => setTimeout(r, 50));
      expect(stderr).toContain(
        `cannot connect to ws://127.0.0.1:${port}: connection refused (ECONNREFUSED) (attempt 1); retrying in 200 ms, ` +
          "then every 5 s at most, until it answers — is rosbridge running there? Ctrl-C stops",
      );
      process.kill(-(child.pid as number), "SIGINT");
      expect(await exited).toEqual([0, null]);
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), "SIGKILL");
    }
    const lines = stderr.trim().split("\n");
    const quit =
      "quit (SIGINT); never connected to ws://127.0.0.1:" + String(port) + ", so nothing was sent to the robot";
    expect(lines.at(-2)).toBe(`closed: ${quit}`);
    expect(lines.at(-1)).toMatch(
      /^closed {7}epoch 0 \| cmd 0\.0 Hz .* \| sent 0 \| rejected 0 clamped 0 discarded 0 \| quit \(SIGINT\); never/,
    );
  }, 60_000);
});
