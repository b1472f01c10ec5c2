// The Redis server a queue lives on: its `redis://HOST:PORT[/DB]` address (checked where the user typed it) and the
// ioredis clients BullMQ runs on. BullMQ 6 loads ioredis with `require`, which this ESM program does not have, so the
// clients are made here and handed to it.
import { Redis } from "ioredis";
import { DuetError } from "../../core/index.ts";

/** The one BullMQ queue duet's episode jobs go through; runs share it, each job named by its run and seed. */
export const QUEUE_NAME = "duet-episodes";

/** Where a queue's Redis server is. */
export interface RedisAddress {
  host: string;
  port: number;
  db: number;
}

/** `redis://HOST:PORT[/DB]` → its parts; anything else is refused naming `flag` and what was expected. */
export function parseRedisUrl(url: string, flag = "--queue"): RedisAddress {
  const m = /^redis:\/\/([^:/\s@]+|\[[0-9a-fA-F:]+\]):(\d{1,5})(?:\/(\d+))?\/?$/.exec(url);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) {
    throw new DuetError(`${flag}: expected redis://HOST:PORT (e.g. redis://127.0.0.1:6379), received "${url}"`);
  }
  return { host: (m[1] as string).replace(/^\[|\]$/g, ""), port, db: Number(m[3] ?? 0) };
}

/**
 * A client for BullMQ: commands wait while the server is away (no per-command retry limit, which BullMQ's workers
 * require) and it reconnects by itself, every half second at most, so a Redis restart only pauses a run. Connection
 * errors are reported through `onError` (BullMQ's own objects report theirs too), never thrown at a caller.
 */
export function redisClient(address: RedisAddress, onError: (e: Error) => void = () => undefined): Redis {
  const client = new Redis({
    host: address.host,
    port: address.port,
    db: address.db,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(50 * times, 500),
  });
  client.on("error", onError);
  return client;
}
