// `duet record --queue`: a recording's seeds played by queue workers, each committing its episodes into its own shard
// (a dataset on its own disk, crash-safe as any recording). When this machine can read every shard (the same machine,
// or a shared file system) they are merged here into `out` by seed, which gives the dataset a local recording of the
// same seeds gives; otherwise the shards and the merge command to run once they are copied here are returned.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DuetError } from "../../core/index.ts";
import { INFO_PATH, mergeDatasets, type MergeResult } from "../../data/index.ts";
import { recordJobOf, type RecordOptions } from "../record/sim-source.ts";
import type { RecordSimJob } from "../rollout/record-job.ts";
import { EpisodeAborted } from "../rollout/episode.ts";
import { playOnQueue, type QueueStatus } from "./enqueue.ts";
import type { ShardEpisode } from "./payload.ts";

/** Options of `recordOnQueue`: a local recording's (no resume, no threads) and the queue's. */
export interface QueueRecordOptions extends Omit<
  RecordOptions,
  "job" | "workers" | "resume" | "onProgress" | "makeEnv" | "makePolicy" | "makeLead" | "fs" | "dataFileSizeMb"
> {
  job: RecordSimJob;
  /** redis://HOST:PORT[/DB]. */
  url: string;
  /** Each episode as its worker reports it committed. */
  onEpisode?: (episode: ShardEpisode) => void;
  onStatus?: (status: QueueStatus) => void;
}

/** A shard of the run: on which host, where, how many of the run's episodes it holds. */
export interface Shard {
  host: string;
  path: string;
  episodes: number;
}

/** What a queue recording made. */
export interface QueueRecordResult {
  out: string;
  /** The episodes as the workers reported them, in seed order (those reported before a stop, when aborted). */
  episodes: ShardEpisode[];
  shards: Shard[];
  /** The merge into `out`; null when the shards are not all readable here, or the run was stopped. */
  merged: MergeResult | null;
  /** Stopped by the abort signal: the seeds no worker had taken were withdrawn. */
  aborted: boolean;
}

/** Record `episodes` seeded episodes (seeds `seed`, `seed + 1`, …) through the queue at `url`. */
export async function recordOnQueue(options: QueueRecordOptions): Promise<QueueRecordResult> {
  const { out, url } = options;
  // refused now, not after the episodes are played: the merge writes a new dataset
  if (existsSync(join(out, INFO_PATH))) {
    throw new DuetError(`${out}: a dataset already exists here; a queue recording is merged into a new folder`);
  }
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) {
    throw new DuetError(`${out}: not an empty folder; a queue recording is merged into a new folder`);
  }
  const job = await recordJobOf(options);
  const seeds = Array.from({ length: options.episodes }, (_, i) => options.seed + i);
  const reported: ShardEpisode[] = [];
  let aborted = false;
  try {
    await playOnQueue(job, seeds, {
      url,
      onResult: (_seed, episode) => {
        reported.push(episode);
        options.onEpisode?.(episode);
      },
      ...(options.onStatus && { onStatus: options.onStatus }),
      ...(options.signal && { signal: options.signal }),
    });
  } catch (e) {
    if (!(e instanceof EpisodeAborted)) throw e;
    aborted = true;
  }
  const episodes = reported.sort((a, b) => a.seed - b.seed);
  const shards = new Map<string, Shard>();
  for (const e of episodes) {
    const shard = shards.get(e.shard) ?? { host: e.host, path: e.shard, episodes: 0 };
    shard.episodes++;
    shards.set(e.shard, shard);
  }
  const list = [...shards.values()];
  const readable = list.every((s) => existsSync(join(s.path, INFO_PATH)));
  if (aborted || !readable || list.length === 0) return { out, episodes, shards: list, merged: null, aborted };
  // by seed: a shard may also hold a copy of a seed whose worker died after committing it, before reporting it
  const merged = await mergeDatasets(
    out,
    list.map((s) => s.path),
    { order: "seed" },
  );
  const seedsIn = merged.episodes;
  if (seedsIn !== seeds.length) {
    throw new DuetError(
      `${out}: the shards held ${seedsIn} distinct seeds, the run reported ${seeds.length}; ` +
        `the shards (${list.map((s) => s.path).join(", ")}) were changed during the run`,
    );
  }
  return { out, episodes, shards: list, merged, aborted };
}
