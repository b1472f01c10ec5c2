// Worker threads that run TypeScript entries: tsx's ESM hooks are registered inside the new thread before the entry
// is imported, so a worker works whether or not the parent process was started with `--import tsx`.
import { Worker } from "node:worker_threads";

/** Start a worker thread running the TypeScript module at `entry` (a file URL) with `workerData`. */
export function startTsWorker(entry: URL, workerData: unknown): Worker {
  const boot = `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}
