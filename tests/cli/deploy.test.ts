import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveDeployPolicy } from "../../src/cli/deployPolicy.ts";
import { statusLine } from "../../src/cli/deploy.ts";
import { HoldPolicy } from "../../src/runner/holdPolicy.ts";
import type { Observation } from "../../src/core/index.ts";

describe("duet deploy --policy", () => {
  it("resolves hold and replay:FILE", async () => {
    expect(resolveDeployPolicy("hold")).toBeInstanceOf(HoldPolicy);
    const dir = mkdtempSync(join(tmpdir(), "duet-replay-"));
    const file = join(dir, "r.json");
    writeFileSync(file, JSON.stringify({ chunks: [[Array.from({ length: 16 }, (_, i) => i / 100)]] }));
    const p = resolveDeployPolicy(`replay:${file}`);
    const obs: Observation = { time: 0, state: new Float32Array(16), images: {} };
    const c = await p.predictChunk([obs]);
    expect(c.horizon).toBe(1);
    expect(c.actions[15]).toBeCloseTo(0.15, 6);
  });

  it("names the accepted values for an unknown policy, and the bad field of a replay file", () => {
    expect(() => resolveDeployPolicy("models/nope")).toThrow(
      '--policy: expected one of hold (hold the measured pose), replay:FILE.json (replay recorded chunks ({"chunks": [[[16 numbers] × Tp] × N]})), received "models/nope"',
    );
    const dir = mkdtempSync(join(tmpdir(), "duet-replay-"));
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ chunks: [[[1, 2, 3]]] }));
    expect(() => resolveDeployPolicy(`replay:${file}`)).toThrow(
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
