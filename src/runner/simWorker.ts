// Worker-thread entry: rebuilds a SimJob and plays the seeds the parent sends, one at a time.
import { parentPort, workerData } from "node:worker_threads";
import { prepareJob, type SimJob } from "./simJob.ts";
import type { WorkerReply, WorkerRequest } from "./pool.ts";

const port = parentPort;
if (!port) throw new Error("simWorker.ts must run in a worker thread");
let play: ((seed: number) => Promise<import("./rollout.ts").EpisodeOutcome>) | null = null;
port.on("message", (msg: WorkerRequest) => {
  void (async () => {
    try {
      play ??= prepareJob(workerData as SimJob);
      const outcome = await play(msg.seed);
      port.postMessage({ kind: "outcome", outcome } satisfies WorkerReply);
    } catch (e) {
      port.postMessage({ kind: "error", seed: msg.seed, message: (e as Error).message } satisfies WorkerReply);
    }
  })();
});
