// The one episode pool: a job (jobs.ts) played over seeds, in this thread or spread over worker threads (a free worker
// takes the next seed). It only schedules. Results come back in seed order, identical to a single-thread run: each
// episode depends only on its job and seed. Shutdown is always cooperative (ts-worker.ts): a worker cuts its episode in
// hand short, releases its onnxruntime sessions and ends before any error or result leaves the pool.
import type { Worker } from "node:worker_threads";
import { DuetError } from "../../core/index.ts";
import { EpisodeAborted, type EpisodeRunner } from "./episode.ts";
import { prepareEpisodeJob, type EpisodeJob, type ResultOf } from "./jobs.ts";
import { stopWorker } from "./ts-worker.ts";
import { startBundledWorker, workerBundle } from "./worker-bundle.ts";

/** Parent → worker: play this seed. */
export interface SeedRequest {
  kind: "seed";
  seed: number;
}
/** Worker → parent. */
export type SeedReply =
  { kind: "result"; seed: number; result: unknown } | { kind: "error"; seed: number; message: string };

/** Options of `playSeeds`. */
export interface PoolOptions<R> {
  /** Worker threads (default 1: this thread). More than 1 needs a job, which each worker rebuilds. */
  workers?: number;
  /** Plays the seeds in this thread instead of a runner made from the job (one around objects that are not data). */
  local?: EpisodeRunner<R>;
  /**
   * Seeds handed out past the oldest one not yet taken: bounds the finished results waiting for an earlier seed.
   * Default: no bound.
   */
  lookahead?: number;
  /** Each result as it arrives, in completion order (progress). A throw stops the pool with that error. */
  onResult?: (seed: number, result: R) => void;
  /**
   * What a failed episode does: "first-seed" (default) hands out no further seeds, and the seeds before it still
   * arrive, then its error, as in a single-thread run; "at-once" stops every episode in hand and reports it at once
   * (evaluation: no result is of use once one failed).
   */
  onFailure?: "first-seed" | "at-once";
  /** Cancellation (Ctrl-C): the episodes in hand are cut short and dropped; the iteration throws EpisodeAborted. */
  signal?: AbortSignal;
}

/** The worker threads' entry (bundled with what it imports: worker-bundle.ts). */
const WORKER_ENTRY = new URL("./worker.ts", import.meta.url);

/**
 * Start bundling the worker threads' code now (≈0.2–0.4 s, mostly in esbuild's own process), for a caller that has
 * setup of its own to do before `playSeeds` starts workers. A failure is reported by `playSeeds`.
 */
export function prepareWorkers(): void {
  workerBundle(WORKER_ENTRY).catch(() => undefined);
}

/** One seed's result. */
export interface Played<R> {
  seed: number;
  result: R;
}

/**
 * Play `job` on every seed; yields the results in seed order. Leaving the loop early (break, throw) stops the episodes
 * in hand and the workers before the loop is left.
 */
export async function* playSeeds<J extends EpisodeJob>(
  job: J | undefined,
  seeds: readonly number[],
  options: PoolOptions<ResultOf<J>> = {},
): AsyncGenerator<Played<ResultOf<J>>> {
  if (seeds.length === 0) return;
  const workers = Math.max(1, Math.min(options.workers ?? 1, seeds.length));
  if (workers > 1) {
    if (job === undefined) throw new DuetError(`workers ${workers}: worker threads rebuild the episodes from a job`);
    yield* inWorkers(job, seeds, workers, options);
    return;
  }
  const runner = options.local ?? (job && prepareEpisodeJob(job));
  if (!runner) throw new DuetError("playSeeds needs a job or a local runner");
  try {
    yield* inThread(runner, seeds, options);
  } finally {
    if (!options.local) await runner.close();
  }
}

async function* inThread<R>(runner: EpisodeRunner<R>, seeds: readonly number[], options: PoolOptions<R>) {
  const { signal } = options;
  const onAbort = (): void => runner.cancel();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (const seed of seeds) {
      if (signal?.aborted) throw new EpisodeAborted();
      const result = await runner(seed);
      options.onResult?.(seed, result);
      yield { seed, result };
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** An episode's error from a worker, named by its seed (once: some messages name it already). */
function episodeError(seed: number, message: string): DuetError {
  const prefix = `episode with seed ${seed}: `;
  return new DuetError(message.startsWith(prefix) ? message : prefix + message);
}

/** Seeds over `count` worker threads, each started with the job. */
async function* inWorkers<J extends EpisodeJob>(
  job: J,
  seeds: readonly number[],
  count: number,
  options: PoolOptions<ResultOf<J>>,
): AsyncGenerator<Played<ResultOf<J>>> {
  type Settled = { result: ResultOf<J> } | { error: Error };
  const { signal } = options;
  const lookahead = options.lookahead ?? Infinity;
  /** By index into `seeds`: results and episode errors not yet taken. */
  const settled = new Map<number, Settled>();
  const slots: { worker: Worker; index: number }[] = [];
  let next = 0; // index of the next seed to hand out
  let taken = 0; // index of the next seed to yield
  /** A failure of the pool (a worker's crash, an abort, an at-once episode error): nothing more is yielded. */
  let failure: Error | null = null;
  /** An episode failed ("first-seed"): no seed is handed out any more; the ones before it still arrive. */
  let episodeFailed = false;
  let stopping = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const fail = (e: Error): void => {
    failure ??= e;
    notify();
  };
  const onAbort = (): void => fail(new EpisodeAborted());
  const feed = (): void => {
    for (const slot of slots) {
      if (failure || episodeFailed || next >= seeds.length || next > taken + lookahead) return;
      if (slot.index >= 0) continue;
      slot.index = next++;
      slot.worker.postMessage({ kind: "seed", seed: seeds[slot.index]! } satisfies SeedRequest);
    }
  };
  const bundle = await workerBundle(WORKER_ENTRY);
  for (let i = 0; i < count; i++) {
    const slot = { worker: startBundledWorker(bundle, job), index: -1 };
    slots.push(slot);
    slot.worker.on("message", (reply: SeedReply) => {
      const index = slot.index;
      slot.index = -1;
      if (reply.kind === "error") {
        const e = episodeError(reply.seed, reply.message);
        if (options.onFailure === "at-once") return fail(e);
        episodeFailed = true;
        settled.set(index, { error: e });
        return notify();
      }
      const result = reply.result as ResultOf<J>;
      settled.set(index, { result });
      try {
        options.onResult?.(reply.seed, result);
      } catch (e) {
        return fail(e as Error);
      }
      feed();
      notify();
    });
    slot.worker.on("error", (e) => fail(new DuetError(`episode worker failed: ${e.message}`)));
    slot.worker.on("exit", (code) => {
      if (!stopping) fail(new DuetError(`episode worker ended (exit code ${code}) before its episodes were done`));
    });
  }
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    feed();
    while (taken < seeds.length) {
      if (failure) throw failure;
      const done = settled.get(taken);
      if (!done) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      settled.delete(taken);
      const seed = seeds[taken++]!;
      if ("error" in done) throw done.error;
      feed();
      yield { seed, result: done.result };
    }
  } finally {
    stopping = true;
    signal?.removeEventListener("abort", onAbort);
    await Promise.all(slots.map((s) => stopWorker(s.worker)));
  }
}
