// Episodes of a SimJob over seeds, in this thread or spread over worker threads (dynamic: a free worker takes the
// next seed). Results come back in seed order, identical to a single-thread run: each episode depends only on its seed.
import type { Worker } from "node:worker_threads";
import { DuetError } from "../../core/index.ts";
import type { EpisodeOutcome } from "./episode.ts";
import { prepareJob, type SimJob } from "./sim-job.ts";
import { startTsWorker, stopWorker } from "./ts-worker.ts";

/** Parent → worker. */
export interface WorkerRequest {
  kind: "seed";
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
    try {
      const outcomes: EpisodeOutcome[] = [];
      for (const seed of seeds) {
        const outcome = await play(seed);
        options.onEpisode?.(outcome);
        outcomes.push(outcome);
      }
      return outcomes;
    } finally {
      await play.close();
    }
  }
  return runInWorkers(job, seeds, workers, options.onEpisode);
}

/**
 * Seeds over `count` workers. The first error (an episode's, or a worker's own) stops the handing out of seeds; every
 * worker is then asked to stop: it cuts its episode in hand short at the next step (simJob's cancel), releases its
 * onnxruntime sessions and ends. Only then does the error leave, as a DuetError naming the seed: never an abort
 * (ts-worker.ts), never a worker left running.
 */
async function runInWorkers(
  job: SimJob,
  seeds: readonly number[],
  count: number,
  onEpisode: ((o: EpisodeOutcome) => void) | undefined,
): Promise<EpisodeOutcome[]> {
  const entry = new URL("./worker.ts", import.meta.url);
  const results = new Map<number, EpisodeOutcome>();
  const pool: Worker[] = [];
  let next = 0;
  let failure: Error | null = null;
  await new Promise<void>((resolve) => {
    let settled = false;
    const settle = (error: Error | null): void => {
      failure ??= error;
      if (!settled && (failure !== null || results.size === seeds.length)) {
        settled = true;
        resolve();
      }
    };
    for (let i = 0; i < count; i++) {
      const worker = startTsWorker(entry, job);
      pool.push(worker);
      const feed = (): void => {
        if (failure === null && next < seeds.length) {
          worker.postMessage({ kind: "seed", seed: seeds[next++]! } satisfies WorkerRequest);
        }
      };
      worker.on("message", (reply: WorkerReply) => {
        if (reply.kind === "error") {
          settle(new DuetError(`episode with seed ${reply.seed}: ${reply.message}`));
          return;
        }
        results.set(reply.outcome.seed, reply.outcome);
        try {
          onEpisode?.(reply.outcome);
        } catch (e) {
          settle(e as Error);
          return;
        }
        feed();
        settle(null);
      });
      worker.on("error", (e) => settle(new DuetError(`simulation worker failed: ${e.message}`)));
      worker.on("exit", (code) => {
        if (results.size < seeds.length) {
          settle(new DuetError(`simulation worker ended (exit code ${code}) before its episodes were done`));
        }
      });
      feed();
    }
  });
  await Promise.all(pool.map((w) => stopWorker(w)));
  if (failure) throw failure;
  return seeds.map((s) => results.get(s)!);
}
