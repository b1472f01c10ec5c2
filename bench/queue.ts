// npm run bench -- queue [--episodes N] [--rounds R] [--scenario FILE] [--policy REF]: episodes per minute of an
// evaluation through the queue (a redis-server on 127.0.0.1 and 1 or 2 `duet worker` processes) against local
// workers (1 or 2 threads of the pool), so the queue's overhead is known. Configurations alternate within each round;
// medians of R rounds. A local timing covers the whole runEpisodes call (its threads' start included); a queue timing
// covers the whole playOnQueue call (jobs queued, played, collected and removed) with its worker processes already
// running and warm, as they are on machines that serve a queue. An untimed warm-up run of each configuration first.
// Also per configuration: the wall time per episode beyond the episodes' own (overhead_ms_per_episode), and the
// episodes' own median wall time (episode_s), which says how fast the simulator ran in that process meanwhile.
import { availableParallelism, loadavg } from "node:os";
import { playOnQueue } from "../src/runner/queue/index.ts";
import { runEpisodes, type EpisodeOutcome, type SimJob } from "../src/runner/rollout/index.ts";
import { startRedis, startWorker, type WorkerProcess } from "../tests/runner/queue/redis-server.ts";
import { median } from "./median.ts";
import { argValue } from "./option.ts";

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opt = (name: string, dflt: string): string => argValue(args, name, dflt);
  const episodes = Number(opt("--episodes", "8"));
  const rounds = Number(opt("--rounds", "3"));
  const job: SimJob = {
    scenario: opt("--scenario", "scenarios/bottle-cap.json"),
    policy: opt("--policy", "expert"),
    cameras: true,
  };
  const seeds = Array.from({ length: episodes }, (_, i) => 1_000_000 + i);
  // a queue (a Redis server) per configuration, so that each keeps its worker processes running and warm throughout,
  // as on machines that serve a queue, while only its own take its jobs
  const servers = { 1: await startRedis(), 2: await startRedis() };
  const pools: Record<1 | 2, WorkerProcess[]> = { 1: [], 2: [] };
  const perMin: Record<string, number[]> = { local1: [], local2: [], queue1: [], queue2: [] };
  /**
   * Per run, the wall time beyond the episodes' own (their `wall_s`, timed where they ran) per episode and worker:
   * what the pool or the queue adds. It is measured within each run, so it varies less with the machine's other load
   * than episodes per minute do.
   */
  const overheadMs: Record<string, number[]> = { local1: [], local2: [], queue1: [], queue2: [] };
  /** The episodes' own wall time (s), timed where they ran: how fast the simulator ran in that process. */
  const episodeS: Record<string, number[]> = { local1: [], local2: [], queue1: [], queue2: [] };
  const timed = async (key: string, k: number, play: () => Promise<EpisodeOutcome[]>, record: boolean) => {
    const t0 = performance.now();
    const outcomes = await play();
    const elapsed = performance.now() - t0;
    if (!record) return;
    (perMin[key] as number[]).push(episodes / (elapsed / 60_000));
    const played = outcomes.reduce((ms, o) => ms + 1000 * o.wall_s, 0) / k;
    (overheadMs[key] as number[]).push((elapsed - played) / (episodes / k));
    (episodeS[key] as number[]).push(...outcomes.map((o) => o.wall_s));
  };
  try {
    for (const k of [1, 2] as const) {
      for (let i = 0; i < k; i++) pools[k].push(startWorker(servers[k].url));
      await Promise.all(pools[k].map((w) => w.waitFor(/waiting for seeds/)));
    }
    for (let round = -1; round < rounds; round++) {
      const warm = round < 0;
      const some = warm ? seeds.slice(0, 2) : seeds;
      for (const k of [1, 2] as const) {
        process.stderr.write(`${warm ? "warm-up" : `round ${round + 1}/${rounds}`}: ${k} local, ${k} queue\n`);
        await timed(`local${k}`, k, () => runEpisodes(job, some, { workers: k }), !warm);
        const queued = async (): Promise<EpisodeOutcome[]> =>
          (await playOnQueue({ kind: "evaluate", sim: job }, some, { url: servers[k].url })).map((p) => p.result);
        await timed(`queue${k}`, k, queued, !warm);
      }
    }
  } finally {
    for (const w of [...pools[1], ...pools[2]]) await w.stop();
    for (const server of Object.values(servers)) await server.stop();
  }
  const m = Object.fromEntries(Object.entries(perMin).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  return {
    scenario: job.scenario,
    policy: job.policy,
    episodes,
    rounds,
    episodes_per_min_local_1w: m["local1"],
    episodes_per_min_queue_1w: m["queue1"],
    episodes_per_min_local_2w: m["local2"],
    episodes_per_min_queue_2w: m["queue2"],
    queue_over_local_1w: (m["queue1"] as number) / (m["local1"] as number),
    queue_over_local_2w: (m["queue2"] as number) / (m["local2"] as number),
    overhead_ms_per_episode: Object.fromEntries(Object.entries(overheadMs).map(([k, v]) => [k, median(v)])),
    episode_s: Object.fromEntries(Object.entries(episodeS).map(([k, v]) => [k, median(v)])),
    runs: perMin,
    cpus: availableParallelism(),
    loadavg_1m: loadavg()[0],
  };
}
