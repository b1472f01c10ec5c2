import { describe, expect, it } from "vitest";
import { Dataset, validateDataset } from "../../../src/data/index.ts";
import { recordEpisodes, type RecordProgress } from "../../../src/runner/record/index.ts";
import { FakeEnv, FakePolicy, fakeLength } from "../../data/fake-env.ts";
import { tempDir } from "../../data/fixtures.ts";

describe("recordEpisodes", () => {
  it("records obs/actions/images per control step and episode success/mode, then resumes the seed sequence", async () => {
    const out = tempDir("duet-record-");
    const seen: RecordProgress[] = [];
    const first = await recordEpisodes({
      makeEnv: () => new FakeEnv(),
      makePolicy: () => new FakePolicy(),
      out,
      episodes: 3,
      seed: 10,
      onProgress: (p) => seen.push(p),
    });
    expect(first.recorded.map((e) => e.seed)).toEqual([10, 11, 12]);
    expect(seen.map((p) => p.done)).toEqual([0, 1, 2, 3]);
    expect(seen.at(-1)?.datasetEpisodes).toBe(3);

    // Without --resume an existing dataset is refused, and left as it was.
    await expect(
      recordEpisodes({ makeEnv: () => new FakeEnv(), makePolicy: () => new FakePolicy(), out, episodes: 1, seed: 10 }),
    ).rejects.toThrow(/already exists here; pass --resume/);

    const second = await recordEpisodes({
      makeEnv: () => new FakeEnv(),
      makePolicy: () => new FakePolicy(),
      out,
      episodes: 2,
      seed: 10,
      resume: true,
    });
    expect(second.recorded.map((e) => [e.episodeIndex, e.seed])).toEqual([
      [3, 13],
      [4, 14],
    ]);

    const ds = await Dataset.open(out);
    expect(ds.info.fps).toBe(20);
    expect(ds.spec.stateNames[0]).toBe("left_joint1");
    expect(ds.spec.cameras).toEqual([{ name: "top", height: 4, width: 4 }]);
    expect(ds.episodes.map((e) => e.length)).toEqual([10, 11, 12, 13, 14].map((s) => fakeLength(s)));
    expect(ds.episodes.map((e) => [e.success, e.mode])).toEqual([
      [true, "left"],
      [false, "right"],
      [true, "left"],
      [false, "right"],
      [true, "left"],
    ]);
    // Frame t = observation at step t and the action taken there (the whole 4-step chunk is executed).
    const ep = await ds.episode(1);
    for (let t = 0; t < ep.meta.length; t++) {
      const planned = Math.floor(t / 4) * 4;
      expect(ep.state[t * 16]).toBe(11 + t * 0.5);
      expect(ep.action[t * 16]).toBe(11 + planned * 0.5 + (t - planned));
      expect(ep.images["top"]?.[t]?.data[0]).toBe((t * 11 + 33) & 255);
    }
    expect((await validateDataset(out)).ok).toBe(true);
  });

  /** Record up to 5 fake episodes; once `at` are committed, `abort` is handed the controller's abort to call. */
  async function recordAborting(at: number, abort: (fire: () => void) => void) {
    const out = tempDir("duet-record-");
    const controller = new AbortController();
    const result = await recordEpisodes({
      makeEnv: () => new FakeEnv(),
      makePolicy: () => new FakePolicy(),
      out,
      episodes: 5,
      seed: 0,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === at) abort(() => controller.abort());
      },
    });
    return { result, report: await validateDataset(out) };
  }

  it("stops on abort without committing the episode in progress", async () => {
    const { result, report } = await recordAborting(2, (fire) => fire());
    expect(result.aborted).toBe(true);
    expect(result.recorded).toHaveLength(2);
    expect([report.ok, report.episodes]).toEqual([true, 2]);
  });

  it("stops on an abort from outside the loop (a Ctrl-C handler, a timer) while a one-thread recording runs", async () => {
    // scheduled on the event loop, as a signal handler is: it runs only if recording yields to the loop
    const { result, report } = await recordAborting(1, (fire) => setImmediate(fire));
    expect([result.aborted, result.recorded.length]).toEqual([true, 1]);
    expect(report.episodes).toBe(1);
  });

  it("rejects an env that never finishes instead of recording forever", async () => {
    const out = tempDir("duet-record-");
    await expect(
      recordEpisodes({
        makeEnv: () => new FakeEnv(1000),
        makePolicy: () => new FakePolicy(),
        out,
        episodes: 1,
        seed: 0,
        maxSteps: 20,
      }),
    ).rejects.toThrow(/did not finish within 20 steps/);
  });
});
