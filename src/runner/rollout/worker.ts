// Worker-thread entry of the episode pool (pool.ts): rebuilds the job it was started with and plays the seeds the
// parent sends, one at a time, sending each result back (its buffers moved, not copied). On the parent's stop request
// it cuts the episode in hand short, releases the job's onnxruntime sessions and ends (ts-worker.ts says why it never
// gets terminated).
import { parentPort, workerData } from "node:worker_threads";
import type { EpisodeRunner } from "./episode.ts";
import { prepareEpisodeJob, transferables, type EpisodeJob, type ResultOf } from "./jobs.ts";
import type { SeedReply, SeedRequest } from "./pool.ts";
import { serveTasks } from "./ts-worker.ts";

const port = parentPort;
if (!port) throw new Error("worker.ts must run in a worker thread");
const job = workerData as EpisodeJob;
let runner: EpisodeRunner<ResultOf<EpisodeJob>> | null = null;
let stopping = false;
serveTasks<SeedRequest>(
  port,
  async ({ seed }) => {
    try {
      runner ??= prepareEpisodeJob(job);
      if (stopping) runner.cancel(); // the stop came before this seed's runner was made
      const result = await runner(seed);
      port.postMessage({ kind: "result", seed, result } satisfies SeedReply, transferables(job, result));
    } catch (e) {
      port.postMessage({ kind: "error", seed, message: (e as Error).message } satisfies SeedReply);
    }
  },
  async () => {
    await runner?.close();
  },
  // another episode failed, or the run was cancelled: the episode in hand ends at its next step
  () => {
    stopping = true;
    runner?.cancel();
  },
);
