// The episode pool with evaluation jobs. When an episode fails inside a worker thread (issue 41, A1–A4) the error
// reaches the caller as a DuetError naming the seed and the cause, every worker ends on its own after releasing its
// onnxruntime sessions, and nothing aborts the process (an abort here would end the test run itself). The CLI checks
// these problems before starting workers (tests/cli/bad-input.test.ts); these tests start the workers regardless.
// Cancelled (Ctrl-C), a pool stops its episodes in hand and its workers before it throws. (Recording jobs:
// tests/runner/record/record-workers.test.ts.)
import { cpSync, mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DuetError } from "../../../src/core/index.ts";
import {
  EpisodeAborted,
  checkJob,
  playSeeds,
  runEpisodes,
  type EvaluateJob,
} from "../../../src/runner/rollout/index.ts";
import { capWorkers } from "../../../src/cli/args.ts";
import { tinyScenario } from "../record/record-fixtures.ts";

const SCENARIO = "scenarios/bottle-cap.json";

function cutModel(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "duet-pool-")), "model");
  cpSync("models/bottle-cap-unet", dir, { recursive: true });
  truncateSync(join(dir, "sampler.onnx"), 1_763_885);
  return dir;
}

describe("runEpisodes with two workers, when episodes fail inside the workers", () => {
  it("rejects with a DuetError naming the seed and the graph that does not load (after every worker has ended)", async () => {
    const model = cutModel();
    const run = runEpisodes({ scenario: SCENARIO, policy: model, cameras: true }, [5, 6], { workers: 2 });
    await expect(run).rejects.toThrow(DuetError);
    await expect(run).rejects.toThrow(
      new RegExp(`^episode with seed [56]: ${model}/sampler\\.onnx: onnxruntime could not load the model`),
    );
  }, 60_000);

  it("rejects with a named error when the frames folder is a file, after the episode in hand", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "duet-pool-")), "file.txt");
    writeFileSync(file, "x");
    const job = { scenario: SCENARIO, policy: "expert", cameras: false, framesDir: file };
    await expect(runEpisodes(job, [0, 1], { workers: 2 })).rejects.toThrow(
      /^episode with seed [01]: frames folder .*file\.txt\/episode_[01]\/\w+: cannot be created as a folder \(ENOTDIR/,
    );
  }, 60_000);
});

describe("playSeeds with evaluation jobs", () => {
  // short episodes: the bottle-cap-easy scene with a 1.2 s limit
  const job: EvaluateJob = { kind: "evaluate", sim: { scenario: tinyScenario(), policy: "expert", cameras: false } };

  it("yields in seed order what one thread plays, whichever worker finishes first", async () => {
    const seeds = [7, 3, 5];
    const one = await runEpisodes(job.sim, seeds);
    const arrived: number[] = [];
    const played: number[] = [];
    for await (const { seed, result } of playSeeds(job, seeds, { workers: 2, onResult: (s) => arrived.push(s) })) {
      played.push(seed);
      const { wall_s: _w, ...outcome } = result;
      const { wall_s: _w1, ...expected } = one[played.length - 1]!;
      expect(outcome).toEqual(expected);
    }
    expect(played).toEqual(seeds);
    expect([...arrived].sort()).toEqual([...seeds].sort());
  }, 120_000);

  it.each([1, 2])(
    "with %i worker(s), stops when cancelled and throws EpisodeAborted",
    async (workers) => {
      const cancel = new AbortController();
      const played: number[] = [];
      const run = async (): Promise<void> => {
        for await (const { seed } of playSeeds(job, [0, 1, 2, 3, 4, 5], { workers, signal: cancel.signal })) {
          played.push(seed);
          cancel.abort();
        }
      };
      await expect(run()).rejects.toBeInstanceOf(EpisodeAborted);
      expect(played).toEqual([0]);
    },
    120_000,
  );
});

describe("checkJob: what every episode shares, checked once in this thread", () => {
  it("names the graph that does not load, and the output folder that cannot be created", async () => {
    const model = cutModel();
    await expect(checkJob({ scenario: SCENARIO, policy: model, cameras: true })).rejects.toThrow(
      `${model}/sampler.onnx: onnxruntime could not load the model`,
    );
    const file = join(mkdtempSync(join(tmpdir(), "duet-pool-")), "file.txt");
    writeFileSync(file, "x");
    await expect(
      checkJob({ scenario: SCENARIO, policy: "expert", cameras: false, replayDir: file }, { replayDir: "--replay" }),
    ).rejects.toThrow(`--replay ${file}: cannot be created as a folder (EEXIST: a file of that name is in the way)`);
  }, 60_000);
});

describe("capWorkers", () => {
  it("keeps a request within the cores and caps one above them with one warning", () => {
    const warnings: string[] = [];
    expect(capWorkers(2, (l) => warnings.push(l), 4)).toBe(2);
    expect(capWorkers(4, (l) => warnings.push(l), 4)).toBe(4);
    expect(warnings).toEqual([]);
    expect(capWorkers(99, (l) => warnings.push(l), 4)).toBe(4);
    expect(warnings).toEqual(["--workers 99 is more than this machine's 4 cores; using 4"]);
  });
});
