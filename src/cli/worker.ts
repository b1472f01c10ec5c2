// duet worker: take episode jobs (evaluate a policy on a seed, record an episode on a seed) from a queue on Redis and
// play them with the code of a local run, until Ctrl-C or SIGTERM; recordings go into this worker's shards.
import { resolve } from "node:path";
import type { Command } from "commander";
import { parseRedisUrl, serveQueue } from "../runner/queue/index.ts";
import { intArg } from "./args.ts";
import { documented } from "./help.ts";

interface WorkerArgs {
  queue: string;
  concurrency: number;
  shardDir: string;
  lockMs: number;
  stalledMs: number;
  json: boolean;
}

export function registerWorker(program: Command): void {
  documented(program.command("worker"), {
    summary: "Play the episodes that duet sim, eval and record --queue put on a Redis queue, on this machine",
    details:
      "Runs until Ctrl-C or SIGTERM: then it takes no more seeds, finishes the ones in hand and exits (a second\n" +
      "Ctrl-C exits at once; those seeds go to other workers once their lock expires). Each seed is played with the\n" +
      "code of a local run, from the files the job names (paths relative to this worker's working directory): a job\n" +
      "made by another duet build, or naming a scenario or model whose content differs here, is refused and fails\n" +
      "its run with the reason. Recorded episodes are committed into this worker's own shard,\n" +
      "<shard-dir>/<run>/<host>-<pid>[-<thread>] (docs/scale-out.md).",
    example: "duet worker --queue redis://127.0.0.1:6379 --concurrency 2 --shard-dir shards",
  })
    .requiredOption("--queue <url>", "the queue's Redis server, redis://HOST:PORT[/DB]")
    .option("--concurrency <k>", "seeds played at once (worker threads)", intArg(1), 1)
    .option("--shard-dir <dir>", "recordings: where this worker's shards go", "shards")
    .option(
      "--lock-ms <ms>",
      "how long a seed stays this worker's without a lock renewal (a dead worker's seeds are retried after it)",
      intArg(100),
      30_000,
    )
    .option("--stalled-ms <ms>", "how often to look for seeds whose worker died", intArg(100), 30_000)
    .option("--json", "print the counts as one JSON object on stdout when it stops", false)
    .action(async (args: WorkerArgs) => {
      parseRedisUrl(args.queue); // a bad address is refused before anything starts
      const controller = new AbortController();
      const onSignal = (): void => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write("duet worker: stopping after the seeds in hand (Ctrl-C again to stop now)\n");
        controller.abort();
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      process.stderr.write(
        `duet worker: ${args.concurrency} consumer${args.concurrency === 1 ? "" : "s"} on ${args.queue}\n`,
      );
      const counts = await serveQueue({
        url: args.queue,
        concurrency: args.concurrency,
        shardDir: resolve(args.shardDir),
        lockMs: args.lockMs,
        stalledMs: args.stalledMs,
        signal: controller.signal,
        log: (line) => void process.stderr.write(`duet worker: ${line}\n`),
      });
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (args.json) process.stdout.write(JSON.stringify(counts) + "\n");
      else process.stdout.write(`played ${counts.played} seeds, ${counts.failed} failed, ${counts.refused} refused\n`);
    });
}
