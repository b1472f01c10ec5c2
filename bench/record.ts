// npm run bench -- record [--episodes N] [--rounds R] [--scenario FILE]: recording and reading speed of
// demonstration datasets. Prints episodes recorded per minute (scripted expert in simulation, cameras on) with 1 and
// 2 worker threads — measured alternately, R rounds each, medians; each timing covers the whole recordEpisodes call,
// worker start-up included, and the time to the first committed episode shows what start-up costs. The speed-up is
// the product of two factors, reported apart: the cores the machine gave the process (CPU seconds per wall second
// during the call: on a VM shared by sessions that the kernel's autogroup scheduling treats alike, 2 threads may get
// no more CPU than 1) and how much CPU an episode costs (worker start-up and cold code included) — bytes per episode, and training windows read per second (To = 2, Tp = 10, all cameras,
// decoded-frame cache warm after the first pass; uncached as well).
// Default 16 episodes a timing (until 2026-12-07: 4): a recording is hundreds of episodes, and with 4 the workers'
// start-up was most of the 2-worker timing (1.13× at 4, 1.67× at 16 on the same quiet machine; docs/experiments/
// simulator.md); the first-episode time still shows the start-up.
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Dataset, WindowSampler } from "../src/data/index.ts";
import { recordEpisodes } from "../src/runner/record/index.ts";
import { Rng } from "../src/core/index.ts";
import { median } from "./median.ts";
import { argValue } from "./option.ts";

function du(dir: string): number {
  let total = 0;
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    total += d.isDirectory() ? du(p) : statSync(p).size;
  }
  return total;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opt = (name: string, dflt: string): string => argValue(args, name, dflt);
  const episodes = Number(opt("--episodes", "16"));
  const rounds = Number(opt("--rounds", "2"));
  const scenario = opt("--scenario", "scenarios/bottle-cap.json");
  const root = mkdtempSync(join(tmpdir(), "duet-bench-record-"));
  try {
    const perMin: Record<1 | 2, number[]> = { 1: [], 2: [] };
    /** Seconds from the call to its first committed episode: setup, worker start-up, one episode. */
    const firstAt: Record<1 | 2, number[]> = { 1: [], 2: [] };
    /** CPU seconds (all threads) per wall second, and per episode, of each call. */
    const cores: Record<1 | 2, number[]> = { 1: [], 2: [] };
    const cpuPerEpisode: Record<1 | 2, number[]> = { 1: [], 2: [] };
    let firstOut = "";
    let frames = 0;
    for (let round = 0; round < rounds; round++) {
      for (const workers of [1, 2] as const) {
        const out = join(root, `r${round}-w${workers}`);
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const r = await recordEpisodes({
          job: { scenario },
          workers,
          out,
          episodes,
          seed: 1,
          onProgress: (p) => {
            if (p.done === 1) firstAt[workers].push((performance.now() - t0) / 1000);
            process.stderr.write(`round ${round + 1}/${rounds} ${workers}w: ${p.done}/${p.total}\r`);
          },
        });
        const wall = (performance.now() - t0) / 1000;
        const used = process.cpuUsage(cpu0);
        const cpu = (used.user + used.system) / 1e6;
        perMin[workers].push(r.recorded.length / (wall / 60));
        cores[workers].push(cpu / wall);
        cpuPerEpisode[workers].push(cpu / r.recorded.length);
        if (!firstOut) {
          firstOut = out;
          frames = r.datasetFrames;
        }
      }
    }
    process.stderr.write("\n");
    const bytes = du(firstOut);
    const ds = await Dataset.open(firstOut);
    const sampler = await WindowSampler.create(ds, { obsSteps: 2, actionSteps: 10 });
    const buffers = sampler.createBuffers();
    const rng = new Rng(0);
    const n = 2000;
    for (let i = 0; i < sampler.length; i++) sampler.fill(i, buffers); // warm the decoded-frame cache
    const t1 = performance.now();
    for (let i = 0; i < n; i++) sampler.fill(rng.int(sampler.length), buffers);
    const windowsPerS = n / ((performance.now() - t1) / 1000);
    const cold = await Dataset.open(firstOut, { imageCacheMb: 0 });
    const coldSampler = await WindowSampler.create(cold, { obsSteps: 2, actionSteps: 10 });
    const tCold = performance.now();
    for (let i = 0; i < 200; i++) coldSampler.fill(rng.int(coldSampler.length), buffers);
    const coldPerS = 200 / ((performance.now() - tCold) / 1000);
    const w1 = median(perMin[1]);
    const w2 = median(perMin[2]);
    return {
      scenario,
      episodes,
      rounds,
      frames,
      cameras: ds.spec.cameras.map((c) => `${c.name} ${c.width}x${c.height}`),
      episodes_per_min_1w: w1,
      episodes_per_min_2w: w2,
      speedup_2w: w2 / w1,
      runs_1w: perMin[1],
      runs_2w: perMin[2],
      first_episode_s_1w: median(firstAt[1]),
      first_episode_s_2w: median(firstAt[2]),
      cores_1w: median(cores[1]),
      cores_2w: median(cores[2]),
      cpu_s_per_episode_1w: median(cpuPerEpisode[1]),
      cpu_s_per_episode_2w: median(cpuPerEpisode[2]),
      cpus: availableParallelism(),
      loadavg_1m: loadavg()[0],
      bytes_per_episode: Math.round(bytes / episodes),
      windows_per_s: windowsPerS,
      windows_per_s_uncached: coldPerS,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
