// Recording episodes in worker threads: each worker rebuilds the env and policy from a RecordSimJob and plays the
// seeds it is given, one at a time; the main thread asks for episodes in seed order (`next(seed)`) and commits them,
// so the dataset is the same as one recorded in a single thread. Seeds are handed out ahead of the one asked for,
// at most `lookahead` past it, which bounds the finished-but-uncommitted episodes held in memory.
import type { Worker } from "node:worker_threads";
import { DuetError } from "../../core/index.ts";
import type { DatasetSpec, EpisodeRecord } from "../../data/index.ts";
import { EpisodeAborted, type EpisodeSettings } from "./record-episode.ts";
import type { RecordSimJob } from "./record-job.ts";
import { startTsWorker, stopWorker } from "./ts-worker.ts";

/** What every recording worker starts with. */
export interface RecordWorkerData {
  job: RecordSimJob;
  spec: DatasetSpec;
  settings: EpisodeSettings;
}
/** Parent → worker: play this seed. */
export interface RecordRequest {
  kind: "seed";
  seed: number;
}
/** Worker → parent. */
export type RecordReply =
  { kind: "episode"; seed: number; episode: EpisodeRecord } | { kind: "error"; seed: number; message: string };

interface Deferred {
  promise: Promise<EpisodeRecord>;
  resolve: (ep: EpisodeRecord) => void;
  reject: (e: Error) => void;
}

function deferred(): Deferred {
  let resolve!: (ep: EpisodeRecord) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<EpisodeRecord>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // a failure is reported through next(); nobody else must see it unhandled
  return { promise, resolve, reject };
}

/** Options of a recording pool. */
export interface RecordPoolOptions {
  /** Worker threads (≥ 1). */
  workers: number;
  data: RecordWorkerData;
  /** Seeds `from` … `to - 1` are played, and no other. */
  from: number;
  to: number;
  /** Seeds handed out past the one asked for. Default: 2 × workers. */
  lookahead?: number;
  /** Abort: pending and later `next` calls reject with EpisodeAborted and the workers are stopped. */
  signal?: AbortSignal;
}

/** K worker threads playing a seed range; episodes are taken in seed order with `next`. */
export class RecordPool {
  private readonly workers: { worker: Worker; busy: boolean }[] = [];
  private readonly results = new Map<number, Deferred>();
  private nextSeed: number;
  private asked: number;
  /** A failure of the pool (worker crash, abort, close): every episode not yet taken fails with it. */
  private failure: Error | null = null;
  /** An episode failed: no further seeds are handed out, but earlier ones still finish and can be committed. */
  private episodeFailed: Error | null = null;
  private readonly lookahead: number;
  /** The workers' shutdown, once asked for (stopAll). */
  private stopping: Promise<void> | null = null;
  private readonly onAbort = (): void => this.fail(new EpisodeAborted());

  constructor(private readonly options: RecordPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1)
      throw new DuetError(`workers must be a whole number ≥ 1, received ${options.workers}`);
    this.nextSeed = options.from;
    this.asked = options.from;
    this.lookahead = options.lookahead ?? 2 * options.workers;
    const entry = new URL("./record-worker.ts", import.meta.url);
    const count = Math.min(options.workers, Math.max(1, options.to - options.from));
    for (let i = 0; i < count; i++) {
      const slot = { worker: startTsWorker(entry, options.data), busy: false };
      this.workers.push(slot);
      slot.worker.on("message", (reply: RecordReply) => this.onReply(slot, reply));
      slot.worker.on("error", (e) => this.fail(new DuetError(`recording worker failed: ${e.message}`)));
      slot.worker.on("exit", (code) => {
        if (this.failure === null) this.fail(new DuetError(`recording worker ended (exit code ${code}) unasked`));
      });
    }
    if (options.signal?.aborted) this.onAbort();
    options.signal?.addEventListener("abort", this.onAbort, { once: true });
    this.feed();
  }

  /**
   * The episode of `seed` (seeds must be asked for in order). Rejects with that episode's own error, or with the
   * pool's failure; after an episode fails, the seeds before it still arrive, so the error reported is the one of the
   * first failing seed, as in a single-thread recording.
   */
  next(seed: number): Promise<EpisodeRecord> {
    if (seed < this.asked || seed >= this.options.to)
      return Promise.reject(new DuetError(`RecordPool: seed ${seed} out of order or range`));
    this.asked = seed;
    if (this.failure) return Promise.reject(this.failure);
    this.feed();
    const d = this.results.get(seed);
    if (!d)
      return Promise.reject(this.episodeFailed ?? new DuetError(`RecordPool: seed ${seed} was not handed to a worker`));
    return d.promise.finally(() => this.results.delete(seed));
  }

  /** Stop the workers and wait until each has ended; episodes in flight are dropped. */
  async close(): Promise<void> {
    this.options.signal?.removeEventListener("abort", this.onAbort);
    if (this.failure === null) this.failure = new DuetError("RecordPool closed");
    await this.stopAll();
  }

  /**
   * Ask every worker to stop (ts-worker.ts). A worker holding onnxruntime sessions (a lead policy) finishes its episode
   * and releases them first, since terminating it would abort the process; the expert alone holds nothing native, so
   * its workers are terminated at once.
   */
  private stopAll(): Promise<void> {
    this.stopping ??= Promise.all(
      this.workers.map((w) => stopWorker(w.worker, this.options.data.job.lead ? 60_000 : 0)),
    ).then(() => undefined);
    return this.stopping;
  }

  private feed(): void {
    for (const slot of this.workers) {
      if (this.failure || this.episodeFailed) return;
      if (slot.busy) continue;
      if (this.nextSeed >= this.options.to || this.nextSeed > this.asked + this.lookahead) return;
      const seed = this.nextSeed++;
      this.results.set(seed, deferred());
      slot.busy = true;
      slot.worker.postMessage({ kind: "seed", seed } satisfies RecordRequest);
    }
  }

  private onReply(slot: { busy: boolean }, reply: RecordReply): void {
    slot.busy = false;
    if (reply.kind === "error") {
      const prefix = `episode with seed ${reply.seed}: `;
      const e = new DuetError(reply.message.startsWith(prefix) ? reply.message : prefix + reply.message);
      this.episodeFailed ??= e;
      this.results.get(reply.seed)?.reject(e);
      return;
    }
    this.results.get(reply.seed)?.resolve(reply.episode);
    this.feed();
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const d of this.results.values()) d.reject(e);
    void this.stopAll();
  }
}
