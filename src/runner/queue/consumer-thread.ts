// Worker-thread entry of `duet worker --concurrency K` (serve.ts): one consumer in this thread, its log lines sent to
// the parent; on the parent's stop request it finishes the seed in hand, reports its counts and ends.
import { parentPort, workerData } from "node:worker_threads";
import type { StopRequest } from "../rollout/ts-worker.ts";
import { consume, type ConsumerOptions } from "./consumer.ts";
import type { ThreadMessage } from "./serve.ts";

const port = parentPort;
if (!port) throw new Error("consumer-thread.ts must run in a worker thread");
const consumer = consume(workerData as ConsumerOptions, (line) =>
  port.postMessage({ kind: "log", line } satisfies ThreadMessage),
);
port.on("message", (msg: StopRequest) => {
  if (msg.kind !== "stop") return;
  void consumer.close().then((counts) => {
    port.postMessage({ kind: "counts", counts } satisfies ThreadMessage);
    port.close();
  });
});
