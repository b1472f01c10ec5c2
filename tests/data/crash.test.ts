// Crash safety: an episode joins the dataset only when complete; a crash at any point of a commit leaves a dataset
// that validates and holds every episode committed before; resume appends.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  Dataset,
  DatasetWriter,
  EpisodeBuilder,
  nodeFs,
  validateDataset,
  type DatasetFs,
} from "../../src/data/index.ts";
import { recordEpisodes } from "../../src/runner/record/index.ts";
import { FakeEnv, FakePolicy } from "./fake-env.ts";
import { SPEC, makeEpisode, stateValue, tempDir, watchRecorder, writeFixture } from "./fixtures.ts";

class Crash extends Error {}

/** node:fs that, once armed, "crashes" (throws, and refuses every later call) after `budget` mutating operations. */
function crashingFs(): { fs: DatasetFs; arm: (budget: number) => void } {
  const real = nodeFs();
  let left = Infinity;
  const mutate =
    <A extends unknown[]>(f: (...a: A) => void) =>
    (...a: A) => {
      if (left-- <= 0) throw new Crash("simulated crash");
      f(...a);
    };
  const fs = { ...real, writeFile: mutate(real.writeFile), rename: mutate(real.rename), unlink: mutate(real.unlink) };
  return { fs, arm: (budget) => (left = budget) };
}

/** The pid of a process that has exited. */
const deadPid = spawnSync(process.execPath, ["-e", ""]).pid;

describe("crash safety", () => {
  it("a crash at every step of a commit leaves either the old or the new dataset, never a broken one", async () => {
    // One commit of episode 2 takes ~14 mutating operations (5 temp files, journal, renames, unlink).
    let sawOld = false;
    let sawNew = false;
    for (let budget = 0; budget < 16; budget++) {
      const root = await writeFixture(2);
      const { fs, arm } = crashingFs();
      const w = await DatasetWriter.open(root, { spec: SPEC, resume: true, fs });
      arm(budget);
      let crashed = false;
      try {
        w.addEpisode(makeEpisode(2, 4));
      } catch (e) {
        crashed = true;
        expect(String(e)).toMatch(/simulated crash/);
      }
      // The crashed process never released its lock: make it a dead process's lock, as after a real crash.
      writeFileSync(join(root, "meta/.duet-lock"), String(deadPid));
      const report = await validateDataset(root);
      expect(report.problems, `budget ${budget}`).toEqual([]);
      expect([2, 3], `budget ${budget}`).toContain(report.episodes);
      if (report.episodes === 2) sawOld = true;
      else sawNew = true;
      if (!crashed) expect(report.episodes).toBe(3);
      // Resume appends after whatever was committed.
      const again = await DatasetWriter.open(root, { spec: SPEC, resume: true });
      again.addEpisode(makeEpisode(9, 5));
      again.close();
      const ds = await Dataset.open(root);
      expect(ds.episodes.length).toBe(report.episodes + 1);
      const last = await ds.episode(report.episodes);
      expect(last.state[0]).toBe(stateValue(9, 0, 0));
      expect((await ds.episode(1)).state[0]).toBe(stateValue(1, 0, 0));
      expect(readdirTemps(root)).toEqual([]);
    }
    expect([sawOld, sawNew]).toEqual([true, true]);
  });

  it("ignores an abandoned episode and stray temp files, and appends on resume", async () => {
    const root = await writeFixture(2);
    // An episode being recorded when the process died: built, never committed.
    const b = new EpisodeBuilder(SPEC);
    b.addFrame({ time: 0, state: new Float32Array(3), images: makeImages() }, new Float32Array(4));
    // A temp file of a commit that never reached its commit point.
    writeFileSync(join(root, "data/chunk-000/file-001.parquet.duet-tmp"), "partial");
    writeFileSync(join(root, "meta/info.json.duet-tmp"), "{ half a json");
    const report = await validateDataset(root);
    expect([report.ok, report.episodes]).toEqual([true, 2]);
    const w = await DatasetWriter.open(root, { spec: SPEC, resume: true });
    expect(existsSync(join(root, "meta/info.json.duet-tmp"))).toBe(false);
    w.addEpisode(makeEpisode(2, 3));
    w.close();
    const ds = await Dataset.open(root);
    expect(ds.episodes.map((e) => e.length)).toEqual([5, 7, 3]);
    // Resume starts a new data file (as LeRobot does), committed files are not rewritten.
    expect(ds.dataFileOf(2)).toBe("data/chunk-000/file-001.parquet");
  });

  it("a recording process killed with SIGKILL mid-episode leaves a valid dataset with every completed episode", async () => {
    const out = tempDir("duet-kill-");
    const { child, exited, committed, waitForCommitted } = watchRecorder(
      ["--import", "tsx", join(import.meta.dirname, "record-child.ts"), out],
      out,
    );
    await waitForCommitted(3);
    // Episodes take ~30 steps with a 3 ms pause per 4-step chunk: wait into the next one, then kill.
    await new Promise((r) => setTimeout(r, 15));
    const before = committed();
    child.kill("SIGKILL");
    await exited;
    const report = await validateDataset(out);
    expect(report.problems).toEqual([]);
    expect(report.episodes).toBeGreaterThanOrEqual(before);
    // Resume appends, continuing the seed sequence.
    const result = await recordEpisodes({
      makeEnv: () => new FakeEnv(30),
      makePolicy: () => new FakePolicy(),
      out,
      episodes: 2,
      seed: 7,
      resume: true,
    });
    expect(result.recorded.map((e) => e.seed)).toEqual([7 + report.episodes, 8 + report.episodes]);
    const after = await validateDataset(out);
    expect([after.ok, after.episodes]).toEqual([true, report.episodes + 2]);
  });
});

function makeImages() {
  return Object.fromEntries(
    SPEC.cameras.map((c) => [
      c.name,
      { width: c.width, height: c.height, data: new Uint8Array(c.width * c.height * 3) },
    ]),
  );
}

function readdirTemps(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of nodeFs().list(dir)) {
      const p = join(dir, name);
      if (name.endsWith(".duet-tmp")) out.push(p);
      else if (!name.includes(".")) walk(p);
    }
  };
  walk(join(root, "meta"));
  walk(join(root, "data"));
  return out;
}
