// The link's own reports: with no server reachable, each failed attempt is logged (rate-limited), so a run without a
// terminal still says why nothing happens; the bridge prints these lines to stderr (`duet deploy`, `duet record`).
import { afterEach, describe, expect, it } from "vitest";
import { createClock, createRosLink, type RosLink } from "../../src/bridge/index.ts";
import { sleep, waitFor } from "./wait.ts";
import { RosbridgeTestServer } from "./rosbridge-server.ts";

let link: RosLink | undefined;
let server: RosbridgeTestServer | undefined;
afterEach(async () => {
  link?.close();
  await server?.kill();
  link = undefined;
  server = undefined;
});

/** A free port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = await RosbridgeTestServer.start({ rosVersion: 2 });
  const port = s.port;
  await s.kill();
  return port;
}

describe("RoslibLink", () => {
  it("logs failed connection attempts at once, then at most once per failureReportMs, and the recovery", async () => {
    const port = await closedPort();
    const url = `ws://127.0.0.1:${port}`;
    const lines: { at: number; line: string }[] = [];
    const l = createRosLink(
      { url, heartbeatMs: 200, reconnectInitialMs: 20, reconnectMax: 40, connectTimeoutMs: 1000, failureReportMs: 300 },
      createClock(),
    );
    link = l;
    l.on("log", (line) => lines.push({ at: performance.now(), line }));
    const t0 = performance.now();
    l.start();
    await waitFor("first report", () => lines.length > 0, 2000);
    expect(lines[0]?.line).toBe(
      `cannot connect to ${url}: connection refused (ECONNREFUSED) (attempt 1); retrying in 20 ms, then every 40 ms ` +
        "at most, until it answers — is rosbridge running there? Ctrl-C stops",
    );
    expect((lines[0]?.at ?? Infinity) - t0).toBeLessThan(1000);
    await sleep(1000);
    const attempts = l.stats.failedAttempts;
    // many attempts (every ≤ 40 ms), few lines: the first, then one per 300 ms with the count in between
    expect(attempts).toBeGreaterThan(lines.length + 5);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < lines.length; i++) {
      expect(lines[i]!.line).toMatch(
        new RegExp(
          `^cannot connect to ${url}: connection refused \\(ECONNREFUSED\\) \\(attempt \\d+, \\d+ since the last report\\)`,
        ),
      );
      expect(lines[i]!.at - lines[i - 1]!.at).toBeGreaterThanOrEqual(290);
    }
    server = await RosbridgeTestServer.start({ rosVersion: 2, port });
    await waitFor("connected", () => l.connected, 3000);
    expect(lines.at(-1)?.line).toMatch(new RegExp(`^connected to ${url} after \\d+ failed attempt\\(s\\)$`));
  });

  it("advertises registered topics as soon as a connection opens, before any publish", async () => {
    server = await RosbridgeTestServer.start({ rosVersion: 1, subscribeDelayMs: 100, replayFirstSecond: false });
    const heard: unknown[] = [];
    server.onTopic("/cmd", (m) => heard.push(m));
    const l = createRosLink(
      { url: server.url, heartbeatMs: 200, reconnectInitialMs: 20, reconnectMax: 40, connectTimeoutMs: 1000 },
      createClock(),
    );
    link = l;
    l.advertise("/cmd", "std_msgs/Float64MultiArray");
    l.start();
    await waitFor("connected", () => l.connected, 3000);
    await sleep(200); // the graph's subscriber has connected to the publisher advertised at connection
    expect(l.publish("/cmd", "std_msgs/Float64MultiArray", { data: [1] }, l.epoch)).toBe(true);
    await waitFor("delivered", () => heard.length === 1, 2000);
    expect(server.lateSubscription).toEqual({ dropped: 0, replayed: 0 });
    expect(server.log).toEqual([]);
  });
});
