#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx. It re-executes node once with the malloc tunables that halve
// onnxruntime training steps on these VMs (see DESIGN.md) and with `--import tsx` so worker threads inherit it.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = process.argv[2] === "--bench" ? join(root, "bench", "main.ts") : join(root, "src", "cli", "main.ts");
const args = process.argv[2] === "--bench" ? process.argv.slice(3) : process.argv.slice(2);
const env = {
  ...process.env,
  GLIBC_TUNABLES:
    process.env.GLIBC_TUNABLES ?? "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295",
};
const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], { stdio: "inherit", env });
// `kill PID` reaches only this launcher: pass it on, or the command would go on running orphaned (a training run
// would keep writing its checkpoints). Ctrl-C reaches both through the terminal's process group.
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
