// duet record --workers K: episodes played in worker threads, committed by the main thread in seed order, give the
// same dataset as one thread; resume and abort behave as in one thread; a worker's error names its seed.
import { describe, expect, it } from "vitest";
import { Dataset, validateDataset } from "../../../src/data/index.ts";
import { recordEpisodes, type RecordProgress } from "../../../src/runner/record/index.ts";
import { tempDir } from "../../data/fixtures.ts";
import { filesOf, tinyScenario } from "./record-fixtures.ts";

const scenario = tinyScenario();
const job = { scenario, mode: "random" as const };

describe("recordEpisodes with worker threads", () => {
  it("writes byte-for-byte the dataset of a one-thread recording, and resumes the seed sequence", async () => {
    const one = tempDir("duet-rec1-");
    const two = tempDir("duet-rec2-");
    const r1 = await recordEpisodes({ job, out: one, episodes: 4, seed: 5 });
    const seen: RecordProgress[] = [];
    const r2 = await recordEpisodes({
      job,
      workers: 2,
      out: two,
      episodes: 4,
      seed: 5,
      onProgress: (p) => seen.push(p),
    });
    expect(r2.recorded.map((e) => [e.episodeIndex, e.seed])).toEqual(r1.recorded.map((e) => [e.episodeIndex, e.seed]));
    expect(seen.map((p) => [p.done, p.episode])).toEqual([
      [0, -1],
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 3],
    ]);
    const a = filesOf(one);
    const b = filesOf(two);
    expect([...b.keys()]).toEqual([...a.keys()]);
    expect([...a.keys()]).toContain("data/chunk-000/file-000.parquet");
    for (const [path, bytes] of a) expect(b.get(path)?.equals(bytes), path).toBe(true);

    // Episodes differ from each other (different seeds → different scenes), so order mistakes would show.
    const ds = await Dataset.open(two);
    const e0 = await ds.episode(0);
    const e1 = await ds.episode(1);
    // (the last frames: at 12×12 the first ones can coincide, the bottle moves by less than a pixel between seeds)
    expect(e0.images["front"]?.at(-1)?.data).not.toEqual(e1.images["front"]?.at(-1)?.data);

    // Resume with workers: 2 more, seeds 9 and 10, identical to the same resume in one thread.
    const more2 = await recordEpisodes({ job, workers: 2, out: two, episodes: 2, seed: 5, resume: true });
    await recordEpisodes({ job, out: one, episodes: 2, seed: 5, resume: true });
    expect(more2.recorded.map((e) => [e.episodeIndex, e.seed])).toEqual([
      [4, 9],
      [5, 10],
    ]);
    const a2 = filesOf(one);
    const b2 = filesOf(two);
    expect([...b2.keys()]).toEqual([...a2.keys()]);
    for (const [path, bytes] of a2) expect(b2.get(path)?.equals(bytes), path).toBe(true);
    expect((await validateDataset(two)).ok).toBe(true);
  });

  it("aborts without committing the episodes in flight, and reports a worker's failure with its seed", async () => {
    const out = tempDir("duet-rec-abort-");
    const controller = new AbortController();
    const r = await recordEpisodes({
      job,
      workers: 2,
      out,
      episodes: 6,
      seed: 0,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 2) controller.abort();
      },
    });
    expect([r.aborted, r.recorded.length, r.datasetEpisodes]).toEqual([true, 2, 2]);
    const report = await validateDataset(out);
    expect([report.ok, report.episodes]).toEqual([true, 2]);

    await expect(
      recordEpisodes({ job, workers: 2, out: tempDir("duet-rec-err-"), episodes: 2, seed: 3, maxSteps: 4 }),
    ).rejects.toThrow(/episode with seed 3: .*did not finish within 4 steps/);
    await expect(recordEpisodes({ workers: 2, out: tempDir("duet-rec-err-"), episodes: 1, seed: 0 })).rejects.toThrow(
      /workers 2: worker threads rebuild the source from a job/,
    );
  });
});
