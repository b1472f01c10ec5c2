// Worker threads that run TypeScript entries: tsx's ESM hooks are registered inside the new thread before the entry
// is imported, so a worker works whether or not the parent process was started with `--import tsx`. (The queue's
// consumer threads start so; the episode pool's workers start faster from a bundle: worker-bundle.ts.) The
// cooperative shutdown below serves both.
//
// Shutdown is always cooperative: the parent posts `{ kind: "stop" }`; the worker finishes the task in hand, releases
// what it holds (onnxruntime sessions) and closes its port, so the thread ends on its own. `Worker.terminate()` while
// a native session is alive or mid-run aborts the whole process ("terminate called after throwing an instance of
// 'Napi::Error'", exit 134), so it is only the last resort for a worker that does not end within a grace period.
import { Worker, type MessagePort } from "node:worker_threads";

/** Parent → worker: finish the task in hand, release everything, end. */
export interface StopRequest {
  kind: "stop";
}

/** Start a worker thread running the TypeScript module at `entry` (a file URL) with `workerData`. */
export function startTsWorker(entry: URL, workerData: unknown): Worker {
  // tsx by its URL resolved from this module: an eval'd worker would look the bare name up from the working directory
  // (resolved here, not when this module loads: bundled into a worker (worker-bundle.ts), it has no such URL)
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** Whether a worker thread has ended (its `exit` event has fired). */
function ended(worker: Worker): boolean {
  return worker.threadId === -1;
}

/**
 * Ask a worker to stop and wait until its thread has ended. A worker still running after `graceMs` (default 60 s:
 * it finishes the episode in hand first) is terminated.
 */
export function stopWorker(worker: Worker, graceMs = 60_000): Promise<void> {
  if (ended(worker)) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => void worker.terminate(), graceMs);
    worker.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      worker.postMessage({ kind: "stop" } satisfies StopRequest);
    } catch {
      void worker.terminate();
    }
  });
}

/**
 * Worker side: run each task message through `handle`, one at a time in arrival order; on `{ kind: "stop" }`, call
 * `interrupt` (to cut the task in hand short), wait for the tasks in hand, call `dispose` and close the port so the
 * thread ends by itself.
 */
export function serveTasks<T>(
  port: MessagePort,
  handle: (task: T) => Promise<void>,
  dispose: () => Promise<void>,
  interrupt: () => void = () => undefined,
): void {
  let queue = Promise.resolve();
  let stopping = false;
  port.on("message", (msg: T | StopRequest) => {
    if (stopping) return;
    if (typeof msg === "object" && msg !== null && (msg as StopRequest).kind === "stop") {
      stopping = true;
      interrupt();
      queue = queue
        .then(dispose)
        .catch(() => undefined) // the parent is already on its way out; nothing left to report to
        .then(() => port.close());
      return;
    }
    queue = queue.then(() => handle(msg as T)).catch(() => undefined);
  });
}
