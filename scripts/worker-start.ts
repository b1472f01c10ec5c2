// What a worker thread of the episode pool costs before it is up to speed: CPU seconds (the whole process's) for a
// recording episode played warm in this thread, and for starting a worker and playing the same episode in it, the
// worker started through tsx (as the pool did) or from the esbuild bundle (as it does: worker-bundle.ts). Alternating,
// R rounds.
//
//   node --import tsx scripts/worker-start.ts [--rounds 3] [--seed 5] [--scenario scenarios/bottle-cap.json]
//
// Prints one JSON object: { seed, cpu_s: { in_thread: [...], tsx_worker: [...], bundled_worker: [...] } }.
import { parseArgs } from "node:util";
import type { Worker } from "node:worker_threads";
import { recordJobOf } from "../src/runner/record/index.ts";
import { prepareEpisodeJob } from "../src/runner/rollout/index.ts";
import { startTsWorker, stopWorker } from "../src/runner/rollout/ts-worker.ts";
import { startBundledWorker, workerBundle } from "../src/runner/rollout/worker-bundle.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seed: { type: "string", default: "5" },
    scenario: { type: "string", default: "scenarios/bottle-cap.json" },
  },
});
const rounds = Number(values.rounds);
const seed = Number(values.seed);
if (!(Number.isInteger(rounds) && rounds >= 1))
  throw new Error(`--rounds: expected an integer ≥ 1, got ${values.rounds}`);
if (!(Number.isInteger(seed) && seed >= 0)) throw new Error(`--seed: expected an integer ≥ 0, got ${values.seed}`);
const cpuS = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const job = await recordJobOf({ job: { scenario: values.scenario }, seed: 1 });
const entry = new URL("../src/runner/rollout/worker.ts", import.meta.url);
const bundle = await workerBundle(entry);
const runner = prepareEpisodeJob(job);
for (let i = 0; i < 2; i++) await runner(seed); // warm this thread's code
/** Start a worker, play `seed` in it, stop it. */
async function inWorker(worker: Worker): Promise<void> {
  await new Promise<void>((resolve) => {
    worker.once("message", () => resolve());
    worker.postMessage({ kind: "seed", seed });
  });
  await stopWorker(worker);
}
const cpu = { in_thread: [] as number[], tsx_worker: [] as number[], bundled_worker: [] as number[] };
for (let r = 0; r < rounds; r++) {
  for (const kind of ["in_thread", "tsx_worker", "bundled_worker"] as const) {
    const start = cpuS();
    if (kind === "in_thread") await runner(seed);
    else await inWorker(kind === "tsx_worker" ? startTsWorker(entry, job) : startBundledWorker(bundle, job));
    cpu[kind].push(Number((cpuS() - start).toFixed(2)));
    process.stderr.write(`round ${r + 1}: ${kind} ${cpu[kind].at(-1)} CPU s\n`);
  }
}
await runner.close();
process.stdout.write(JSON.stringify({ seed, cpu_s: cpu }) + "\n");
