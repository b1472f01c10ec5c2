#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx. It re-executes node once with the malloc tunables that halve
// onnxruntime training steps on these VMs (see docs/design.md, "Facts that matter for speed") and with
// `--import tsx` so worker threads inherit it.
import { spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout } from "node:timers";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = process.argv[2] === "--bench" ? join(root, "bench", "main.ts") : join(root, "src", "cli", "main.ts");
const args = process.argv[2] === "--bench" ? process.argv.slice(3) : process.argv.slice(2);
const env = {
  ...process.env,
  GLIBC_TUNABLES:
    process.env.GLIBC_TUNABLES ?? "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295",
  DUET_SIGINT_ACK_FD: "3",
};
const ack = pathToFileURL(join(root, "bin", "sigint-ack.js")).href;
// tsx by its resolved URL: a bare `--import tsx` would be looked up from the working directory, so `node
// /path/to/duet/bin/duet.js` run from another folder could not find it.
const tsx = import.meta.resolve("tsx");
const child = spawn(process.execPath, ["--import", tsx, "--import", ack, entry, ...args], {
  stdio: ["inherit", "inherit", "inherit", "pipe"],
  env,
});
// Signals. `kill PID` (SIGTERM) and a hang-up reach only this launcher: pass them on, or the command would go on
// running orphaned (a training run would keep writing its checkpoints).
// SIGINT usually reaches the whole process group — Ctrl-C in a shell, `timeout -s INT`, systemd stopping a unit — so
// the command has its own already, and passing this one on would make it a SECOND SIGINT, which commands read as
// "stop now" (`duet deploy` would die without its final status line, `duet record` exits 130). So the command tells
// the launcher on fd 3 when a SIGINT reached it (./sigint-ack.js), and the launcher passes a SIGINT on only if no
// such word came within SIGINT_ACK_MS before or after it: then it was sent to the launcher's PID alone (`kill -INT
// PID`). (`timeout` signals the command and then the whole group, so the launcher may see two SIGINTs for one.)
const SIGINT_ACK_MS = 1500;
let lastAckAt = -Infinity;
child.stdio[3]?.on("data", () => (lastAckAt = performance.now()));
child.stdio[3]?.on("error", () => undefined);
process.on("SIGINT", () => {
  const at = performance.now();
  setTimeout(() => {
    if (lastAckAt < at - SIGINT_ACK_MS && child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
  }, SIGINT_ACK_MS).unref();
});
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
