// `duet worker`: K consumers of the queue in one process — one in this thread, or K in worker threads (each plays one
// seed at a time with its own env and policy, as the pool's threads do) — until the stop signal; then every consumer
// finishes its seed in hand and the counts come back.
import { hostname } from "node:os";
import { DuetError } from "../../core/index.ts";
import { startTsWorker, stopWorker } from "../rollout/ts-worker.ts";
import { consume, type ConsumerCounts, type ConsumerOptions } from "./consumer.ts";

/** Options of `serveQueue`. */
export interface ServeOptions extends Omit<ConsumerOptions, "name"> {
  /** Consumers, each playing one seed at a time. Default 1 (in this thread). */
  concurrency?: number;
  /** Stop: no more seeds are taken, the ones in hand are finished. */
  signal: AbortSignal;
  /** One line per seed played and per problem (stderr). */
  log: (line: string) => void;
}

/** Consumer thread → this thread. */
export type ThreadMessage = { kind: "log"; line: string } | { kind: "counts"; counts: ConsumerCounts };

/**
 * Serve the queue until `signal` fires; resolves with what every consumer did. A consumer thread that dies stops the
 * others (their seeds in hand finished) and the worker fails with its error: a worker does not go on at a fraction of
 * the concurrency asked for without saying so.
 */
export async function serveQueue(options: ServeOptions): Promise<ConsumerCounts> {
  const { signal, log, concurrency = 1, ...shared } = options;
  const name = `${hostname()}-${process.pid}`;
  let failure: Error | null = null;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  if (signal.aborted) stop();
  signal.addEventListener("abort", () => stop(), { once: true });
  if (concurrency === 1) {
    const consumer = consume({ ...shared, name }, log);
    await stopped;
    return consumer.close();
  }
  const counts: ConsumerCounts = { played: 0, failed: 0, refused: 0 };
  const threads = Array.from({ length: concurrency }, (_, i) => {
    const options: ConsumerOptions = { ...shared, name: `${name}-${i}` };
    const thread = startTsWorker(new URL("./consumer-thread.ts", import.meta.url), options);
    thread.on("message", (msg: ThreadMessage) => {
      if (msg.kind === "log") log(`[${i}] ${msg.line}`);
      else for (const key of ["played", "failed", "refused"] as const) counts[key] += msg.counts[key];
    });
    thread.on("error", (e) => {
      failure ??= new DuetError(`duet worker: consumer thread ${i} failed: ${e.message}`);
      stop();
    });
    return thread;
  });
  await stopped;
  // a thread finishes its seed in hand first: the grace covers a long episode
  await Promise.all(threads.map((t) => stopWorker(t, 10 * 60_000)));
  if (failure) throw failure;
  return counts;
}
