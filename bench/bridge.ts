// `npm run bench -- bridge`: observation-to-command latency over loopback at 10 Hz, and the highest command rate
// sustained without drops. Runs the real bridge (roslib 2 over ws) and deploy loop against the rosbridge v2 test
// server (tests/bridge/rosbridge-server.ts) with the servoed test robot publishing joint states every 2 ms.
// Latency = time from receiving the newest joint state of an observation to publishing the command built from it
// (the HoldPolicy, so policy time is ~0: this is the bridge + safety + serialisation cost plus input staleness).
import { HoldPolicy } from "../src/runner/deploy/index.ts";
import { sleep } from "../tests/bridge/wait.ts";
import { startHarness } from "../tests/runner/deploy/harness.ts";

async function runAt(
  hz: number,
  seconds: number,
): Promise<{
  expected: number;
  sent: number;
  received: number;
  overruns: number;
  discarded: number;
  p50: number;
  p95: number;
}> {
  const h = await startHarness(new HoldPolicy(), {
    edit: (s) => {
      s.cameras = {};
      s.control_hz = hz;
    },
    robot: { jointPeriodMs: 2 },
  });
  await sleep(300);
  const s0 = h.controller.status;
  const r0 = h.commands().length;
  await sleep(seconds * 1000);
  const s1 = h.controller.status;
  const received = h.commands().length - r0;
  await h.close();
  return {
    expected: hz * seconds,
    sent: s1.commandsSent - s0.commandsSent,
    received: received / 2, // two arm-joint messages per command
    overruns: s1.overruns - s0.overruns,
    discarded: s1.discarded - s0.discarded,
    p50: s1.latencyMsMedian,
    p95: s1.latencyMsP95,
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const seconds = Number(args[0] ?? 3);
  const at10 = await runAt(10, seconds);
  let maxRate = 0;
  const tried: Record<string, unknown>[] = [];
  for (const hz of [25, 50, 100, 200, 400, 800]) {
    const r = await runAt(hz, 2);
    const ok = r.sent >= 0.95 * r.expected && r.received >= r.sent - 1 && r.discarded === 0;
    tried.push({ hz, ...r, ok });
    process.stderr.write(
      `bridge bench: ${hz} Hz → sent ${r.sent}/${r.expected}, received ${r.received}, ${ok ? "ok" : "not sustained"}\n`,
    );
    if (!ok) break;
    maxRate = hz;
  }
  return {
    latency_ms_median: Number(at10.p50.toFixed(3)),
    latency_ms_p95: Number(at10.p95.toFixed(3)),
    max_rate_hz: maxRate,
    commands_at_10hz: at10.sent,
    rates_tried: tried,
  };
}
