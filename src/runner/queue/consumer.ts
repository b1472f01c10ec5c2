// One queue consumer: a BullMQ worker that takes episode jobs one at a time and plays each seed with the code of a local
// run (prepareEpisodeJob: the env and policy built once per job, reused across its seeds). BullMQ does the rest: a
// lock renewed while a seed is played, and a stalled-job check that gives the seed of a consumer that died to another.
// Before a job's first seed the consumer checks that it has the build and the files the job was made with, and
// refuses it with an UnrecoverableError (not retried) when not.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { INFO_PATH, type EpisodeRecord } from "../../data/index.ts";
import { Recorder } from "../record/recorder.ts";
import { scenarioIdentity } from "../record/scenario-identity.ts";
import type { EpisodeOutcome, EpisodeRunner } from "../rollout/episode.ts";
import { prepareEpisodeJob, type EpisodeJob, type RecordJob, type ResultOf } from "../rollout/jobs.ts";
import { QUEUE_NAME, parseRedisUrl, redisClient } from "./connection.ts";
import { identityMismatch } from "./identity.ts";
import { parseQueued, type QueueResultOf, type QueuedEpisode, type ShardEpisode } from "./payload.ts";

/** Options of a consumer (`duet worker`'s flags, per thread). Plain data: worker threads receive it. */
export interface ConsumerOptions {
  /** redis://HOST:PORT[/DB]. */
  url: string;
  /** Recordings: each run's episodes go into the shard `<shardDir>/<run>/<name>`. */
  shardDir: string;
  /** This consumer's name, unique among the queue's workers (BullMQ shows it; it names the shards). */
  name: string;
  /** BullMQ's lock on a job in hand, renewed at half this (ms); a dead consumer's seed is free again after it. */
  lockMs: number;
  /** How often this consumer looks for seeds whose consumer died (ms). */
  stalledMs: number;
}

/** What a consumer did. */
export interface ConsumerCounts {
  /** Seeds played and reported. */
  played: number;
  /** Seeds whose episode failed. */
  failed: number;
  /** Seeds refused: another build, other files, or not a duet job. */
  refused: number;
}

/** A running consumer; `close()` takes no more seeds, finishes the one in hand and releases everything. */
export interface Consumer {
  close(): Promise<ConsumerCounts>;
}

/** How a consumer hands back one seed's result. */
interface Delivery<J extends EpisodeJob> {
  deliver(queued: QueuedEpisode & { job: J }, result: ResultOf<J>): Promise<QueueResultOf<J>>;
}

/** How many times a seed is taken back from consumers that died before it fails (BullMQ's maxStalledCount). */
const MAX_STALLED = 3;

/** Start a consumer; it takes seeds until closed. `log` gets one line per seed and per connection problem. */
export function consume(options: ConsumerOptions, log: (line: string) => void): Consumer {
  const counts: ConsumerCounts = { played: 0, failed: 0, refused: 0 };
  const host = hostname();
  /** The job being played: its env and policy, kept while seeds of the same job (and files) arrive. */
  let current: { key: string; runner: EpisodeRunner<unknown> } | null = null;
  /**
   * Per run, the shard its recorded episodes are committed into. A writer holds its open data file in memory (up to
   * 100 MB), so only the latest run's shard stays open: a seed of an earlier run reopens its shard (resumed).
   */
  const shards = new Map<string, Promise<Recorder>>();
  const closeShards = async (): Promise<void> => {
    const open = [...shards.values()];
    shards.clear();
    for (const shard of open) (await shard.catch(() => null))?.close();
  };

  const shardOf = async (queued: QueuedEpisode & { job: RecordJob }): Promise<Recorder> => {
    let shard = shards.get(queued.run);
    if (shard === undefined) {
      await closeShards();
      const dir = resolve(options.shardDir, queued.run, options.name);
      const { spec, source } = queued.job;
      shard = Recorder.open(dir, {
        spec,
        scenario: scenarioIdentity(source.scenario),
        resume: existsSync(join(dir, INFO_PATH)),
      });
      shards.set(queued.run, shard);
      shard.catch(() => shards.delete(queued.run)); // the next seed tries again (and says why if it fails again)
    }
    return shard;
  };
  const deliveries: { [K in EpisodeJob["kind"]]: Delivery<Extract<EpisodeJob, { kind: K }>> } = {
    evaluate: { deliver: (_queued, outcome: EpisodeOutcome) => Promise.resolve(outcome) },
    // the frames stay on this machine: the episode is committed into this consumer's shard (atomically, as in a local
    // recording), and what goes back says where
    record: {
      deliver: async (queued, record: EpisodeRecord): Promise<ShardEpisode> => {
        const recorder = await shardOf(queued);
        const meta = recorder.add(record);
        return {
          host,
          shard: recorder.out,
          episode: meta.episodeIndex,
          seed: meta.seed,
          frames: meta.length,
          success: meta.success,
          mode: meta.mode,
        };
      },
    },
  };

  const refuse = (why: string, where: string): never => {
    counts.refused++;
    log(`${where}: refused: ${why}`);
    throw new UnrecoverableError(
      `duet worker ${options.name} refuses ${where}: ${why}. Run every worker from the same duet checkout with the ` +
        `same files as the machine that queued the run`,
    );
  };
  const play = async (job: Job): Promise<unknown> => {
    let queued: QueuedEpisode;
    try {
      queued = parseQueued(job.data, `queue job ${job.id}`);
    } catch (e) {
      return refuse((e as Error).message, `job ${job.id}`);
    }
    const where = `seed ${queued.seed} of run ${queued.run}`;
    const key = JSON.stringify([queued.job, queued.identity]);
    if (current?.key !== key) {
      let why: string | null;
      try {
        why = identityMismatch(queued.identity, queued.job);
      } catch (e) {
        why = `cannot read the job's files here (${(e as Error).message})`;
      }
      if (why !== null) refuse(why, where);
    }
    const start = performance.now();
    log(`${where}: ${queued.job.kind}…`);
    try {
      if (current?.key !== key) {
        await current?.runner.close();
        current = null;
        current = { key, runner: prepareEpisodeJob(queued.job) };
      }
      const result = await current.runner(queued.seed);
      const kind = deliveries[queued.job.kind] as Delivery<EpisodeJob>;
      const sent = await kind.deliver(queued, result as ResultOf<EpisodeJob>);
      counts.played++;
      log(`${where}: ${queued.job.kind} done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
      return sent;
    } catch (e) {
      counts.failed++;
      log(`${where}: failed: ${(e as Error).message}`);
      throw e;
    }
  };

  let lastError = "";
  const onError = (e: Error): void => {
    // a server away is reported once, not at every reconnection attempt
    if (e.message !== lastError) log(`redis ${options.url}: ${e.message}`);
    lastError = e.message;
  };
  const connection = redisClient(parseRedisUrl(options.url), onError);
  connection.on("ready", () => (lastError = ""));
  const worker = new Worker(QUEUE_NAME, play, {
    connection,
    name: options.name,
    concurrency: 1,
    lockDuration: options.lockMs,
    stalledInterval: options.stalledMs,
    maxStalledCount: MAX_STALLED,
  });
  worker.on("error", onError);
  worker.once("ready", () => log(`waiting for seeds on ${options.url}`));
  worker.on("stalled", (id) => log(`job ${id}: its worker stopped answering; it is queued again`));
  return {
    close: async () => {
      await worker.close();
      await current?.runner.close();
      await closeShards();
      connection.disconnect();
      return counts;
    },
  };
}
