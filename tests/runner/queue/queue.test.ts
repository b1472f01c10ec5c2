// Evaluation and recording through the queue, against a real redis-server and real `duet worker` processes: the
// summary of a queued run is a local run's, a recording's shards merge into the local recording byte for byte, a worker
// killed mid-episode has its seed played by another (counted once), a Redis restart mid-run loses no result, and a
// worker refuses jobs made by another build or naming files whose content differs from its own.
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summarize, type SimSummary } from "../../../src/cli/sim.ts";
import { validateDataset } from "../../../src/data/index.ts";
import { recordEpisodes } from "../../../src/runner/record/index.ts";
import { QUEUE_NAME, jobIdentity, parseRedisUrl, type QueuedEpisode } from "../../../src/runner/queue/index.ts";
import { runEpisodes, type EvaluateJob, type SimJob } from "../../../src/runner/rollout/index.ts";
import { filesOf, tinyScenario } from "../record/record-fixtures.ts";
import { startRedis, startWorker, type RedisServer, type WorkerProcess } from "./redis-server.ts";

/** `duet …` as a child process: its exit status and output once it ends; `started` gets the process. */
function duet(
  args: readonly string[],
  started: (child: ChildProcess) => void = () => undefined,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["bin/duet.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  started(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** The last stdout line as a summary, without the episodes' wall-clock times (the only part that may differ). */
function summaryOf(stdout: string): SimSummary {
  const summary = JSON.parse(stdout.trim().split("\n").at(-1) as string) as SimSummary;
  return withoutTimes(summary);
}

function withoutTimes(summary: SimSummary): SimSummary {
  return { ...summary, per_episode: summary.per_episode.map((e) => ({ ...e, wall_s: 0 })) };
}

const seeds = (first: number, n: number): number[] => Array.from({ length: n }, (_, i) => first + i);

/** A shared expert evaluation of the full scene: episodes of about a second, long enough to be killed in. */
const LONG: SimJob = { scenario: "scenarios/bottle-cap.json", policy: "expert", cameras: false };
const LONG_ARGS = ["sim", "--scenario", LONG.scenario, "--no-cameras"];

describe("through two worker processes", () => {
  let redis: RedisServer;
  let workers: WorkerProcess[];
  const shardDirs = [mkdtempSync(join(tmpdir(), "duet-shards-")), mkdtempSync(join(tmpdir(), "duet-shards-"))];
  const scenario = tinyScenario();

  beforeAll(async () => {
    redis = await startRedis();
    // one consumer in one process, two threads in the other
    workers = [
      startWorker(redis.url, ["--shard-dir", shardDirs[0] as string]),
      startWorker(redis.url, ["--shard-dir", shardDirs[1] as string, "--concurrency", "2"]),
    ];
    // every consumer connected before a run starts: the run then says nothing about waiting for one
    await workers[0]!.waitFor(/waiting for seeds/);
    await workers[1]!.waitFor(/\[0\] waiting for seeds/);
    await workers[1]!.waitFor(/\[1\] waiting for seeds/);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis.stop();
  });

  it("duet sim --queue prints the summary of the same local run", async () => {
    const args = ["sim", "--scenario", scenario, "--episodes", "6", "--seed", "3", "--json"];
    const [queued, local] = await Promise.all([duet([...args, "--queue", redis.url]), duet(args)]);
    expect([queued.code, queued.stderr]).toEqual([0, ""]);
    expect(local.code).toBe(0);
    expect(summaryOf(queued.stdout)).toEqual(summaryOf(local.stdout));
    expect(summaryOf(queued.stdout).per_episode.map((e) => e.seed)).toEqual(seeds(3, 6));
  });

  it("duet record --queue: each worker writes its own shard, merged into the local recording byte for byte", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "duet-qrec-")), "merged");
    const r = await duet([
      "record",
      "--scenario",
      scenario,
      "--episodes",
      "6",
      "--seed",
      "5",
      "--out",
      out,
      "--queue",
      redis.url,
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as {
      recorded: number;
      merged: boolean;
      episodes: number;
      shards: { host: string; path: string; episodes: number }[];
    };
    expect([summary.recorded, summary.merged, summary.episodes]).toEqual([6, true, 6]);
    // the shards are where the workers were told to write them, each a valid dataset of its own
    expect(summary.shards.length).toBeGreaterThan(1);
    expect(summary.shards.reduce((n, s) => n + s.episodes, 0)).toBe(6);
    for (const s of summary.shards) {
      expect(shardDirs.some((dir) => s.path.startsWith(resolve(dir)))).toBe(true);
      expect((await validateDataset(s.path)).episodes).toBe(s.episodes);
    }
    const local = join(mkdtempSync(join(tmpdir(), "duet-lrec-")), "local");
    await recordEpisodes({ job: { scenario, mode: "random" }, out: local, episodes: 6, seed: 5 });
    const a = filesOf(local);
    const b = filesOf(out);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [path, bytes] of a) expect(b.get(path)?.equals(bytes), path).toBe(true);
    expect((await validateDataset(out)).ok).toBe(true);
  });
});

describe("faults", () => {
  /** The local run of LONG on seeds 10…15. */
  let local: SimSummary;
  beforeAll(async () => {
    const outcomes = await runEpisodes(LONG, seeds(10, 6));
    local = withoutTimes(summarize(outcomes, LONG, null));
  });
  const localOf = (n: number): SimSummary => {
    const outcomes = local.per_episode.slice(0, n);
    return withoutTimes(summarize(outcomes, LONG, null));
  };

  it("a worker killed mid-episode (kill -9): its seed is played by another worker and counted once", async () => {
    const redis = await startRedis();
    // a dead worker's seed is free again 3 s after its last lock renewal; the other looks every 0.5 s
    const fast = ["--lock-ms", "3000", "--stalled-ms", "500"];
    const doomed = startWorker(redis.url, fast);
    const survivor = startWorker(redis.url, fast);
    try {
      const run = duet([...LONG_ARGS, "--episodes", "4", "--seed", "10", "--queue", redis.url, "--json"]);
      const [, seed] = await doomed.waitFor(/seed (\d+) of run \S+: evaluate…/);
      await doomed.kill9();
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      expect(summaryOf(r.stdout)).toEqual(localOf(4));
      expect(doomed.log()).not.toMatch(new RegExp(`seed ${seed} of run \\S+: evaluate done`));
      expect(survivor.log()).toMatch(/its worker stopped answering; it is queued again/);
      expect(survivor.log()).toMatch(new RegExp(`seed ${seed} of run \\S+: evaluate done`));
    } finally {
      await survivor.stop();
      await redis.stop();
    }
  });

  it("Redis restarting mid-run (append-only file) loses no finished result", async () => {
    const redis = await startRedis({ persist: true });
    const workers = [startWorker(redis.url), startWorker(redis.url)];
    try {
      const run = duet([...LONG_ARGS, "--episodes", "6", "--seed", "10", "--queue", redis.url, "--json"]);
      const done = (): number => workers.reduce((n, w) => n + (w.log().match(/evaluate done/g)?.length ?? 0), 0);
      while (done() < 2) await new Promise((r) => setTimeout(r, 25));
      await redis.stop();
      await new Promise((r) => setTimeout(r, 1000));
      await redis.restart();
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      expect(summaryOf(r.stdout)).toEqual(localOf(6));
      // the workers saw the server go away, and went on
      expect(workers.map((w) => w.log()).join("")).toMatch(/redis redis:\/\/127\.0\.0\.1:\d+: .*(ECONNREFUSED|closed)/);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await redis.stop();
    }
  });

  it("Ctrl-C on a queued run withdraws the seeds no worker has taken", async () => {
    const redis = await startRedis();
    const connection = new Redis({ ...parseRedisUrl(redis.url), maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection });
    try {
      let child: ChildProcess | null = null;
      const run = duet([...LONG_ARGS, "--episodes", "3", "--queue", redis.url], (c) => (child = c));
      while ((await queue.getWaitingCount()) < 3) await new Promise((r) => setTimeout(r, 50));
      (child as ChildProcess | null)?.kill("SIGINT");
      const r = await run;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `duet: stopped (Ctrl-C) after 0 of 3 episodes; the seeds no worker had taken were withdrawn from ${redis.url}`,
      );
      expect(await queue.getWaitingCount()).toBe(0);
    } finally {
      await queue.close();
      connection.disconnect();
      await redis.stop();
    }
  });

  it("a worker refuses, unretried, a job of another duet build and one that is not a duet job", async () => {
    const redis = await startRedis();
    const worker = startWorker(redis.url);
    const connection = new Redis({ ...parseRedisUrl(redis.url), maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection });
    try {
      const job: EvaluateJob = {
        kind: "evaluate",
        sim: { scenario: tinyScenario(), policy: "expert", cameras: false },
      };
      const forged: QueuedEpisode = {
        run: "forged",
        seed: 1,
        job,
        identity: { ...jobIdentity(job), duet: "0.0.0+src.000000000000" },
      };
      await queue.add("evaluate", forged, { jobId: "forged.1" });
      await queue.add("evaluate", { hello: "world" }, { jobId: "foreign.1" });
      const failed = async (id: string): Promise<Job> => {
        for (;;) {
          const j = await Job.fromId(queue, id);
          if (j?.finishedOn !== undefined) return j;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const build = await failed("forged.1");
      expect(build.failedReason).toMatch(
        /^duet worker \S+ refuses seed 1 of run forged: duet build: the job was made by duet 0\.0\.0\+src\.000000000000, this worker is duet 0\.1\.0\+src\.[0-9a-f]{12}\. Run every worker from the same duet checkout with the same files as the machine that queued the run$/,
      );
      expect([await build.isFailed(), build.attemptsMade]).toEqual([true, 1]);
      const foreign = await failed("foreign.1");
      expect(foreign.failedReason).toMatch(/refuses job foreign\.1: queue job foreign\.1 \(not a duet episode job/);
      expect(foreign.failedReason).toContain("run: expected string, received nothing (missing)");
    } finally {
      await queue.close();
      connection.disconnect();
      await worker.stop();
      await redis.stop();
    }
  });

  it("duet eval --queue fails, naming the files, when a worker's scenario and model differ from the run's", async () => {
    const redis = await startRedis();
    const dir = mkdtempSync(join(tmpdir(), "duet-qfiles-"));
    const scenarioFile = join(dir, "scenario.json");
    const model = join(dir, "model");
    const s = JSON.parse(readFileSync("scenarios/bottle-cap.json", "utf8")) as { robot: string; time_limit_s: number };
    s.robot = resolve("robots/panda-pair.json");
    writeFileSync(scenarioFile, JSON.stringify(s));
    cpSync("models/bottle-cap-unet", model, { recursive: true });
    const connection = new Redis({ ...parseRedisUrl(redis.url), maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection });
    let worker: WorkerProcess | null = null;
    try {
      const run = duet([
        "eval",
        "--policy",
        model,
        "--scenario",
        scenarioFile,
        "--episodes",
        "2",
        "--queue",
        redis.url,
      ]);
      while ((await queue.getWaitingCount()) < 2) await new Promise((r) => setTimeout(r, 50));
      // the run's files change before a worker reads them: a worker of this machine now has other ones
      s.time_limit_s += 1;
      writeFileSync(scenarioFile, JSON.stringify(s));
      appendFileSync(join(model, "model.json"), "\n");
      worker = startWorker(redis.url);
      const r = await run;
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      // queued before any worker was started: the run said what it was waiting for
      expect(r.stderr).toContain(`duet: no worker is connected to ${redis.url} yet; the seeds wait for one`);
      expect(r.stderr).toMatch(
        new RegExp(
          `duet: episode with seed 100000[01]: duet worker \\S+ refuses seed 100000[01] of run \\S+: scenario ${scenarioFile}: ` +
            `sha256 [0-9a-f]{12}… in the job, [0-9a-f]{12}… here; policy ${model}: sha256 [0-9a-f]{12}… in the job, ` +
            "[0-9a-f]{12}… here\\. Run every worker from the same duet checkout",
        ),
      );
      // the run withdrew its jobs: nothing is left for a worker to play
      expect(await queue.getWaitingCount()).toBe(0);
    } finally {
      await queue.close();
      connection.disconnect();
      await worker?.stop();
      await redis.stop();
    }
  });
});
