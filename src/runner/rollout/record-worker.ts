// Worker-thread entry of RecordPool: rebuilds the job's env and policy, plays the seeds the parent sends (one at a
// time, in arrival order) and sends each finished EpisodeRecord back, its buffers transferred rather than copied.
import { parentPort, workerData } from "node:worker_threads";
import type { Env, Policy } from "../../core/index.ts";
import type { EpisodeRecord } from "../../data/index.ts";
import { recordEpisode, type LeadIn } from "./record-episode.ts";
import { simSource } from "./record-job.ts";
import type { RecordReply, RecordRequest, RecordWorkerData } from "./record-pool.ts";
import type { Closable } from "./sim-job.ts";
import { serveTasks } from "./ts-worker.ts";

const port = parentPort;
if (!port) throw new Error("record-worker.ts must run in a worker thread");
const data = workerData as RecordWorkerData;
let made: { env: Env; policy: Policy; lead: LeadIn | undefined } | null = null;

/** Buffers of `ep` that can be moved to the parent: each typed array made to own its whole buffer. */
function ownBuffers(ep: EpisodeRecord): ArrayBuffer[] {
  const own = (a: Uint8Array): Uint8Array =>
    a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice();
  const list: ArrayBuffer[] = [ep.state.buffer as ArrayBuffer, ep.action.buffer as ArrayBuffer];
  if (ep.environment) list.push(ep.environment.buffer as ArrayBuffer);
  for (const [cam, frames] of Object.entries(ep.images)) {
    const owned = frames.map(own);
    ep.images[cam] = owned;
    for (const f of owned) list.push(f.buffer as ArrayBuffer);
  }
  return list;
}

async function play(seed: number): Promise<void> {
  try {
    if (!made) {
      const { makeEnv, makePolicy, makeLead } = simSource(data.job);
      const env = makeEnv();
      made = { env, policy: makePolicy(env), lead: makeLead(env) };
    }
    const episode = await recordEpisode(made.env, made.policy, data.spec, seed, data.settings, undefined, made.lead);
    port!.postMessage({ kind: "episode", seed, episode } satisfies RecordReply, ownBuffers(episode));
  } catch (e) {
    port!.postMessage({ kind: "error", seed, message: (e as Error).message } satisfies RecordReply);
  }
}

serveTasks<RecordRequest>(
  port,
  (msg) => play(msg.seed),
  async () => {
    // the lead policy's onnxruntime sessions are released before the thread ends (see ts-worker.ts)
    await (made?.lead?.policy as Partial<Closable> | undefined)?.close?.();
  },
);
