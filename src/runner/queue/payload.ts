// What travels through Redis: one queued episode (a job's seed, as plain data, with what it was made with) and what a
// worker sends back for it. Results are small JSON: an evaluation's outcome as a local run gives it, and for a
// recording where the worker committed the episode (its shard) instead of its frames.
import { z } from "zod";
import { parseWith } from "../../core/index.ts";
import type { EpisodeOutcome } from "../rollout/episode.ts";
import type { EpisodeJob, EvaluateJob, RecordJob } from "../rollout/jobs.ts";
import { jobIdentitySchema, type JobIdentity } from "./identity.ts";

/** One seed of a run's job, as a BullMQ job's data. Its BullMQ id is `queueJobId(run, seed)`. */
export interface QueuedEpisode {
  /** The run (one `duet sim|eval|record --queue` call) it belongs to. */
  run: string;
  seed: number;
  job: EpisodeJob;
  identity: JobIdentity;
}

/** A recording's episode as committed by a worker into its shard (a dataset of its own). */
export interface ShardEpisode {
  /** The worker's host name and the shard's folder there (absolute). */
  host: string;
  shard: string;
  /** Its index in the shard. */
  episode: number;
  seed: number;
  frames: number;
  success: boolean;
  mode: string;
}

/** What a worker sends back for one seed of a job. */
export type QueueResultOf<J extends EpisodeJob> = J extends RecordJob
  ? ShardEpisode
  : J extends EvaluateJob
    ? EpisodeOutcome
    : never;

/** BullMQ job ids may not contain ":", and must not be bare integers. */
export function queueJobId(run: string, seed: number): string {
  return `${run}.${seed}`;
}

const queuedSchema = z.object({
  run: z.string().regex(/^[\w-]+$/),
  seed: z.int(),
  // its fields are the job kinds' own (jobs.ts), read by the code that plays them; the identity check has made sure
  // that code is the code that wrote them
  job: z.custom<EpisodeJob>(
    (v) =>
      typeof v === "object" && v !== null && ["evaluate", "record"].includes((v as { kind?: unknown }).kind as string),
    "an episode job ({kind: evaluate or record, …})",
  ),
  identity: jobIdentitySchema,
});

/** A BullMQ job's data as a queued episode; `where` names the job in the error. */
export function parseQueued(data: unknown, where: string): QueuedEpisode {
  return parseWith(queuedSchema, data, `${where} (not a duet episode job: is another program using the queue?)`);
}
