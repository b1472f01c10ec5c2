import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveDeployPolicy } from "../../src/cli/deployPolicy.ts";
import { statusLine } from "../../src/cli/deploy.ts";
import { HoldPolicy } from "../../src/runner/holdPolicy.ts";
import { loadRobotInterface, type LoadedRobotInterface } from "../../src/bridge/index.ts";
import type { Observation } from "../../src/core/index.ts";

const ROS2 = loadRobotInterface("robot-interfaces/panda-pair-ros2.json"); // one camera, "top"

/** The ROS 2 interface with the simulator's three cameras (the shipped policies' inputs) at 96×96. */
function withSimCameras(ri: LoadedRobotInterface): LoadedRobotInterface {
  const top = Object.values(ri.spec.cameras)[0]!;
  const cameras = Object.fromEntries(
    ["front", "left_wrist", "right_wrist"].map((n) => [n, { ...top, topic: `/cameras/${n}/compressed` }]),
  );
  return { ...ri, spec: { ...ri.spec, cameras, image_size: { width: 96, height: 96 } } };
}

describe("duet deploy --policy", () => {
  it("resolves hold and replay:FILE", async () => {
    expect((await resolveDeployPolicy("hold", ROS2)).policy).toBeInstanceOf(HoldPolicy);
    const dir = mkdtempSync(join(tmpdir(), "duet-replay-"));
    const file = join(dir, "r.json");
    writeFileSync(file, JSON.stringify({ chunks: [[Array.from({ length: 16 }, (_, i) => i / 100)]] }));
    const { policy: p } = await resolveDeployPolicy(`replay:${file}`, ROS2);
    const obs: Observation = { time: 0, state: new Float32Array(16), images: {} };
    const c = await p.predictChunk([obs]);
    expect(c.horizon).toBe(1);
    expect(c.actions[15]).toBeCloseTo(0.15, 6);
  });

  it("loads a trained model with its horizons when it fits the robot interface, and refuses one that does not", async () => {
    const { policy, obsSteps, actionSteps } = await resolveDeployPolicy("models/bottle-cap-unet", withSimCameras(ROS2));
    expect([obsSteps, actionSteps]).toEqual([1, 1]);
    const frame = { width: 96, height: 96, data: new Uint8Array(96 * 96 * 3).fill(90) };
    const images = { front: frame, left_wrist: frame, right_wrist: frame };
    const chunk = await policy.predictChunk([{ time: 0, state: new Float32Array(16), images }]);
    expect([chunk.horizon, chunk.dim, chunk.actions.every(Number.isFinite)]).toEqual([10, 16, true]);
    await expect(resolveDeployPolicy("models/bottle-cap-unet", ROS2)).rejects.toThrow(
      /cameras\.0\.name: expected one of the environment's cameras \(top\), received .front./,
    );
    const small = withSimCameras(ROS2);
    await expect(
      resolveDeployPolicy("models/bottle-cap-unet", {
        ...small,
        spec: { ...small.spec, image_size: { width: 64, height: 64 } },
      }),
    ).rejects.toThrow(/expected 64x64 \(the environment's front\)/);
    await expect(resolveDeployPolicy("docs", ROS2)).rejects.toThrow(
      /docs: not a policy model directory: model\.json is missing/,
    );
  });

  it("names the accepted values for an unknown policy, and the bad field of a replay file", async () => {
    await expect(resolveDeployPolicy("models/nope", ROS2)).rejects.toThrow(
      '--policy: expected one of hold (hold the measured pose), replay:FILE.json (replay recorded chunks ({"chunks": [[[16 numbers] × Tp] × N]})), MODEL_DIR (a trained policy, e.g. models/bottle-cap-unet), received "models/nope"',
    );
    const dir = mkdtempSync(join(tmpdir(), "duet-replay-"));
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ chunks: [[[1, 2, 3]]] }));
    await expect(resolveDeployPolicy(`replay:${file}`, ROS2)).rejects.toThrow(
      /chunks\.0\.0: expected length >= 16, received \[1,2,3\]/,
    );
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
