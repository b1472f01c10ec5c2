// The enqueuing side of a run: a job's seeds as BullMQ jobs, one each (`duet worker`s anywhere take them), and their
// results collected as workers report them. Each result is a field of its job's hash in Redis, so a finished seed is
// read where BullMQ keeps it, whenever this side looks — an event missed while Redis restarted loses nothing — and a
// seed retried after its worker died (BullMQ's stalled-job check) is still one job, counted once.
import { randomBytes } from "node:crypto";
import { Job, Queue } from "bullmq";
import { DuetError } from "../../core/index.ts";
import { EpisodeAborted } from "../rollout/episode.ts";
import type { EpisodeJob } from "../rollout/jobs.ts";
import type { Played } from "../rollout/pool.ts";
import { QUEUE_NAME, parseRedisUrl, redisClient } from "./connection.ts";
import { jobIdentity } from "./identity.ts";
import { queueJobId, type QueueResultOf, type QueuedEpisode } from "./payload.ts";

/** Where a run stands, after each look at its jobs. */
export interface QueueStatus {
  /** Seeds reported / in the run. */
  done: number;
  total: number;
  /** Workers connected to the queue now (each `duet worker` thread is one). */
  workers: number;
  /** The run's id (its jobs are `<run>.<seed>`). */
  run: string;
}

/** Options of `playOnQueue`. */
export interface QueueRunOptions<R> {
  /** redis://HOST:PORT[/DB]. */
  url: string;
  /** Each seed's result as it is reported, in completion order (progress). */
  onResult?: (seed: number, result: R) => void;
  /** After each look at the run's jobs. */
  onStatus?: (status: QueueStatus) => void;
  /** Cancellation (Ctrl-C): the seeds no worker has taken are withdrawn; the call rejects with EpisodeAborted. */
  signal?: AbortSignal;
  /** How often the run's unfinished jobs are looked at (ms). Default 200. */
  pollMs?: number;
  /** Redis answering nothing for this long fails the run (ms); a restart takes less. Default 60 000. */
  redisTimeoutMs?: number;
}

/** A finished run's jobs are removed by the run; these limits keep Redis tidy after a run that could not (s). */
const KEEP_S = 7 * 24 * 3600;

/**
 * Queue one job per seed of `job` and wait for every result; resolves in seed order, as `playSeeds` yields. The first
 * seed that fails (its episode's error, or a worker's refusal) withdraws the seeds not yet taken and rejects with a
 * DuetError naming the seed and the worker's message.
 */
export async function playOnQueue<J extends EpisodeJob>(
  job: J,
  seeds: readonly number[],
  options: QueueRunOptions<QueueResultOf<J>>,
): Promise<Played<QueueResultOf<J>>[]> {
  const { url, signal } = options;
  const pollMs = options.pollMs ?? 200;
  const timeoutMs = options.redisTimeoutMs ?? 60_000;
  // checked here, where the run is made: what the workers must have the same of
  const identity = jobIdentity(job);
  const run = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  const connection = redisClient(parseRedisUrl(url));
  const queue = new Queue(QUEUE_NAME, { connection });
  queue.on("error", () => undefined); // a server away shows as the time limit below, with the address
  /** Redis's answer, or an error saying it gave none within `ms`. */
  const answer = async <T>(what: Promise<T>, ms = timeoutMs): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new DuetError(
              `${url}: Redis answered nothing for ${ms / 1000} s (is redis-server running there, and reachable from ` +
                `here?); run ${run} stopped`,
            ),
          ),
        ms,
      );
    });
    try {
      return await Promise.race([what, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const jobs = seeds.map((seed) => ({ seed, id: queueJobId(run, seed) }));
  const results = new Map<number, QueueResultOf<J>>();
  try {
    await answer(
      queue.addBulk(
        jobs.map(({ seed, id }) => ({
          name: job.kind,
          data: { run, seed, job, identity } satisfies QueuedEpisode,
          // an episode that failed fails again with the same seed: only a worker that died is retried (stalled jobs)
          opts: { jobId: id, attempts: 1, removeOnComplete: { age: KEEP_S }, removeOnFail: { age: KEEP_S } },
        })),
      ),
    );
    let pending = jobs;
    let workers = 0;
    let lookedAtWorkers = -Infinity;
    while (pending.length > 0) {
      if (signal?.aborted) throw new EpisodeAborted();
      // one round trip for every unfinished job: when it finished, and that it still exists
      const pipeline = connection.pipeline();
      for (const p of pending) pipeline.hmget(queue.toKey(p.id), "finishedOn", "timestamp");
      const looked = (await answer(pipeline.exec())) ?? [];
      const still: typeof pending = [];
      for (const [i, p] of pending.entries()) {
        const [error, fields] = looked[i] ?? [new Error("no reply")];
        if (error) throw new DuetError(`${url}: reading job ${p.id}: ${error.message}`);
        const [finishedOn, created] = fields as [string | null, string | null];
        if (created === null) {
          throw new DuetError(
            `${url}: job ${p.id} (seed ${p.seed}) is gone from queue ${QUEUE_NAME}: the queue was emptied, or Redis ` +
              "restarted without persistence (start it with --appendonly yes)",
          );
        }
        if (finishedOn === null) {
          still.push(p);
          continue;
        }
        const done = await answer(Job.fromId<QueuedEpisode, QueueResultOf<J>>(queue, p.id));
        if (done === undefined || (await answer(done.isFailed()))) {
          throw new DuetError(`episode with seed ${p.seed}: ${done?.failedReason ?? "its job vanished"}`);
        }
        results.set(p.seed, done.returnvalue);
        options.onResult?.(p.seed, done.returnvalue);
      }
      pending = still;
      if (performance.now() - lookedAtWorkers > 1000) {
        workers = await answer(queue.getWorkersCount());
        lookedAtWorkers = performance.now();
      }
      options.onStatus?.({ done: results.size, total: seeds.length, workers, run });
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
    return seeds.map((seed) => ({ seed, result: results.get(seed) as QueueResultOf<J> }));
  } finally {
    // The run's jobs go: the finished ones' results are here now, and the unstarted ones of a failed or cancelled run
    // are withdrawn. A job a worker holds stays locked (BullMQ refuses to remove it) and ages out after it finishes.
    // (A server already away is not waited for again.)
    await answer(Promise.all(jobs.map(({ id }) => queue.remove(id))), 5000).catch(() => undefined);
    await queue.close();
    connection.disconnect();
  }
}
