// runner/queue: episode jobs through a BullMQ queue on Redis, for several machines — the enqueuing side (one BullMQ
// job per seed, results collected in seed order), the worker side (`duet worker`: consumers that play seeds with the
// code of a local run, after checking they have the job's build and files), and a recording's shards merged back.
export { parseRedisUrl, QUEUE_NAME } from "./connection.ts";
export type { RedisAddress } from "./connection.ts";
export type { ConsumerCounts, ConsumerOptions } from "./consumer.ts";
export { playOnQueue } from "./enqueue.ts";
export type { QueueRunOptions, QueueStatus } from "./enqueue.ts";
export { jobIdentity } from "./identity.ts";
export type { JobIdentity } from "./identity.ts";
export type { QueueResultOf, QueuedEpisode, ShardEpisode } from "./payload.ts";
export { recordOnQueue } from "./record.ts";
export type { QueueRecordOptions, QueueRecordResult, Shard } from "./record.ts";
export { serveQueue } from "./serve.ts";
export type { ServeOptions } from "./serve.ts";
