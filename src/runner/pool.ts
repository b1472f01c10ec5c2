// Episodes of a SimJob over seeds, in this thread or spread over worker threads (dynamic: a free worker takes the
// next seed). Results come back in seed order, identical to a single-thread run: each episode depends only on its seed.
import type { Worker } from "node:worker_threads";
import { DuetError } from "../core/index.ts";
import type { EpisodeOutcome } from "./rollout.ts";
import { prepareJob, type SimJob } from "./simJob.ts";
import { startTsWorker } from "./tsWorker.ts";

/** Parent → worker. */
export interface WorkerRequest {
  seed: number;
}
/** Worker → parent. */
export type WorkerReply =
  { kind: "outcome"; outcome: EpisodeOutcome } | { kind: "error"; seed: number; message: string };

/** Options for `runEpisodes`. */
export interface PoolOptions {
  /** Worker threads (default 1: run in this thread). */
  workers?: number;
  /** Called as each episode finishes (in completion order). */
  onEpisode?: (outcome: EpisodeOutcome) => void;
}

/** Run one episode per seed. */
export async function runEpisodes(
  job: SimJob,
  seeds: readonly number[],
  options: PoolOptions = {},
): Promise<EpisodeOutcome[]> {
  const workers = Math.max(1, Math.min(options.workers ?? 1, seeds.length));
  if (workers === 1) {
    const play = prepareJob(job);
    const outcomes: EpisodeOutcome[] = [];
    for (const seed of seeds) {
      const outcome = await play(seed);
      options.onEpisode?.(outcome);
      outcomes.push(outcome);
    }
    return outcomes;
  }
  return runInWorkers(job, seeds, workers, options.onEpisode);
}

function runInWorkers(
  job: SimJob,
  seeds: readonly number[],
  count: number,
  onEpisode: ((o: EpisodeOutcome) => void) | undefined,
): Promise<EpisodeOutcome[]> {
  const entry = new URL("./simWorker.ts", import.meta.url);
  const results = new Map<number, EpisodeOutcome>();
  let next = 0;
  return new Promise((resolve, reject) => {
    const pool: Worker[] = [];
    let failed = false;
    const finish = (error: Error | null): void => {
      if (failed) return;
      if (error) failed = true;
      if (error || results.size === seeds.length) {
        for (const w of pool) void w.terminate();
        if (error) reject(error);
        else resolve(seeds.map((s) => results.get(s)!));
      }
    };
    for (let i = 0; i < count; i++) {
      const worker = startTsWorker(entry, job);
      pool.push(worker);
      const feed = (): void => {
        if (next < seeds.length) worker.postMessage({ seed: seeds[next++]! } satisfies WorkerRequest);
      };
      worker.on("message", (reply: WorkerReply) => {
        if (reply.kind === "error") {
          finish(new DuetError(`episode with seed ${reply.seed}: ${reply.message}`));
          return;
        }
        results.set(reply.outcome.seed, reply.outcome);
        onEpisode?.(reply.outcome);
        feed();
        finish(null);
      });
      worker.on("error", (e) => finish(e));
      worker.on("exit", (code) => {
        if (code !== 0 && results.size < seeds.length) finish(new DuetError(`worker thread exited with code ${code}`));
      });
      feed();
    }
  });
}
