// Worker-thread entry: rebuilds a SimJob and plays the seeds the parent sends, one at a time; on the parent's stop
// request it releases the policy's onnxruntime sessions and ends (ts-worker.ts says why it never gets terminated).
import { parentPort, workerData } from "node:worker_threads";
import { prepareJob, type PreparedJob, type SimJob } from "./sim-job.ts";
import type { WorkerReply, WorkerRequest } from "./pool.ts";
import { serveTasks } from "./ts-worker.ts";

const port = parentPort;
if (!port) throw new Error("sim-worker.ts must run in a worker thread");
let play: PreparedJob | null = null;
serveTasks<WorkerRequest>(
  port,
  async (msg) => {
    try {
      play ??= prepareJob(workerData as SimJob);
      const outcome = await play(msg.seed);
      port.postMessage({ kind: "outcome", outcome } satisfies WorkerReply);
    } catch (e) {
      port.postMessage({ kind: "error", seed: msg.seed, message: (e as Error).message } satisfies WorkerReply);
    }
  },
  async () => {
    await play?.close();
  },
  // another worker failed: the episode in hand ends at its next step instead of playing to its end
  () => play?.cancel(),
);
