// npm run bench -- record [--episodes N] [--scenario FILE]: recording and reading speed of demonstration datasets.
// Prints episodes recorded per minute (scripted expert in simulation, cameras on), bytes per episode and training
// windows read per second (To = 2, Tp = 10, all cameras, decoded-frame cache warm after the first pass).
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Dataset, WindowSampler } from "../src/data/index.ts";
import { recordEpisodes } from "../src/runner/record.ts";
import { createEnv, createExpert, loadScenario } from "../src/sim/index.ts";
import { Rng } from "../src/core/index.ts";

function du(dir: string): number {
  let total = 0;
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    total += d.isDirectory() ? du(p) : statSync(p).size;
  }
  return total;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const opt = (name: string, dflt: string) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : dflt;
  };
  const episodes = Number(opt("--episodes", "3"));
  const scenarioFile = opt("--scenario", "scenarios/bottle-cap.json");
  const scenario = loadScenario(scenarioFile);
  const out = join(mkdtempSync(join(tmpdir(), "duet-bench-record-")), "ds");
  try {
    const t0 = performance.now();
    const r = await recordEpisodes({
      makeEnv: () => createEnv(scenario),
      makePolicy: (env) => createExpert(env as ReturnType<typeof createEnv>),
      out,
      episodes,
      seed: 1,
      onProgress: (p) => process.stderr.write(`record ${p.done}/${p.total}\r`),
    });
    const minutes = (performance.now() - t0) / 60_000;
    const bytes = du(out);
    const ds = await Dataset.open(out);
    const sampler = await WindowSampler.create(ds, { obsSteps: 2, actionSteps: 10 });
    const buffers = sampler.createBuffers();
    const rng = new Rng(0);
    const n = 2000;
    for (let i = 0; i < sampler.length; i++) sampler.fill(i, buffers); // warm the decoded-frame cache
    const t1 = performance.now();
    for (let i = 0; i < n; i++) sampler.fill(rng.int(sampler.length), buffers);
    const windowsPerS = n / ((performance.now() - t1) / 1000);
    const cold = await Dataset.open(out, { imageCacheMb: 0 });
    const coldSampler = await WindowSampler.create(cold, { obsSteps: 2, actionSteps: 10 });
    const tCold = performance.now();
    for (let i = 0; i < 200; i++) coldSampler.fill(rng.int(coldSampler.length), buffers);
    const coldPerS = 200 / ((performance.now() - tCold) / 1000);
    return {
      scenario: scenarioFile,
      episodes: r.recorded.length,
      frames: r.datasetFrames,
      cameras: ds.spec.cameras.map((c) => `${c.name} ${c.width}x${c.height}`),
      episodes_per_min_1w: r.recorded.length / minutes,
      episodes_per_min_2w: null,
      note_2w: "recording runs in one process; worker threads not wired yet",
      bytes_per_episode: Math.round(bytes / r.recorded.length),
      windows_per_s: windowsPerS,
      windows_per_s_uncached: coldPerS,
    };
  } finally {
    rmSync(join(out, ".."), { recursive: true, force: true });
  }
}
