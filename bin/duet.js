#!/usr/bin/env node
// Launcher: runs the TypeScript CLI through tsx. It re-executes node once with the malloc tunables that halve
// onnxruntime training steps on these VMs (see DESIGN.md) and with `--import tsx` so worker threads inherit it.
import { spawnSync } from "node:child_process";
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
const result = spawnSync(process.execPath, ["--import", "tsx", entry, ...args], { stdio: "inherit", env });
process.exit(result.status ?? 1);
