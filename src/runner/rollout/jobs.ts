// Episode jobs: what to run on a seed, as plain data, and the one table that turns a job into a runner. The same job
// runs in this thread, in a worker thread of the pool (worker.ts), or in any process that can read its files: a job
// names files (scenario, model directory), never objects, and its results are plain data and typed arrays.
import { join } from "node:path";
import type { DatasetSpec, EpisodeRecord } from "../../data/index.ts";
import { PRIOR_FILES } from "../../policy/index.ts";
import type { EpisodeOutcome, EpisodeRunner } from "./episode.ts";
import type { EpisodeSettings } from "./record-episode.ts";
import { episodeBuffers, recordRunner, simSource, type RecordSimJob } from "./record-job.ts";
import { prepareJob, type SimJob } from "./sim-job.ts";

/** Evaluate a policy: play the episode of a seed with the job's outputs (replays, frames, live feed) → its outcome. */
export interface EvaluateJob {
  kind: "evaluate";
  sim: SimJob;
}

/** Record the expert (or a policy's lead and the expert's takeover) on a seed → the episode's frames. */
export interface RecordJob {
  kind: "record";
  source: RecordSimJob;
  /** The dataset's spec (the frames must fit it) and how episodes are played. */
  spec: DatasetSpec;
  settings: EpisodeSettings;
}

export type EpisodeJob = EvaluateJob | RecordJob;

/**
 * A file a job reads, by its role: a scenario (with the robot description it names), a `--policy` reference (a
 * trained model's directory, or a name such as "expert" that reads no file), or a plain file.
 */
export interface JobFile {
  role: string;
  kind: "scenario" | "policy" | "file";
  path: string;
}

/** What one seed of a job gives. */
export type ResultOf<J extends EpisodeJob> = J extends RecordJob ? EpisodeRecord : EpisodeOutcome;

interface JobKind<J extends EpisodeJob> {
  /** The job made ready in this thread: its env and policy built once, for every seed this thread plays. */
  prepare(job: J): EpisodeRunner<ResultOf<J>>;
  /** Buffers of a result that move to another thread instead of being copied. */
  transfer(result: ResultOf<J>): ArrayBuffer[];
  /** The files its episodes read (a queue's worker checks that it has the same ones). */
  files(job: J): JobFile[];
}

const kinds: { [K in EpisodeJob["kind"]]: JobKind<Extract<EpisodeJob, { kind: K }>> } = {
  evaluate: {
    prepare: (job) => prepareJob(job.sim),
    transfer: () => [],
    files: ({ sim }) => [
      { role: "scenario", kind: "scenario", path: sim.scenario },
      { role: "policy", kind: "policy", path: sim.policy },
      ...(sim.goal !== undefined ? [{ role: "goal", kind: "file" as const, path: sim.goal }] : []),
      ...(sim.prior !== undefined
        ? Object.values(PRIOR_FILES).map((f) => ({ role: "prior", kind: "file" as const, path: join(sim.prior!, f) }))
        : []),
    ],
  },
  record: {
    prepare: (job) => {
      const { makeEnv, makePolicy, makeLead } = simSource(job.source);
      const env = makeEnv();
      return recordRunner(env, makePolicy(env), job.spec, job.settings, makeLead(env));
    },
    transfer: episodeBuffers,
    files: ({ source }) => [
      { role: "scenario", kind: "scenario", path: source.scenario },
      ...(source.lead ? [{ role: "lead policy", kind: "policy" as const, path: source.lead.policy }] : []),
    ],
  },
};

function kindOf<J extends EpisodeJob>(job: J): JobKind<J> {
  return kinds[job.kind] as unknown as JobKind<J>;
}

/** A runner for `job` in this thread. */
export function prepareEpisodeJob<J extends EpisodeJob>(job: J): EpisodeRunner<ResultOf<J>> {
  return kindOf(job).prepare(job);
}

/** The buffers of `result` (of `job`) to transfer with it to another thread. */
export function transferables<J extends EpisodeJob>(job: J, result: ResultOf<J>): ArrayBuffer[] {
  return kindOf(job).transfer(result);
}

/** The files `job`'s episodes read. */
export function jobFiles(job: EpisodeJob): JobFile[] {
  return kindOf(job).files(job);
}
