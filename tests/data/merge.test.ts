// Merging datasets (a queue recording's shards): the merged dataset is the one the same episodes recorded into one
// dataset make, byte for byte — indices renumbered, tasks unified, statistics aggregated exactly — and shards that do
// not fit together are refused before anything is written.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { STATE_KEY } from "../../src/core/index.ts";
import {
  Dataset,
  DatasetWriter,
  mergeDatasets,
  validateDataset,
  vectorStats,
  type DatasetSpec,
} from "../../src/data/index.ts";
import { filesOf } from "../runner/record/record-fixtures.ts";
import { ENV_SPEC, LENGTHS, SPEC, makeEpisode, tempDir, writeFixture } from "./fixtures.ts";

/** A dataset of fixture episodes `es` (episode e: its fixture length, seed 1000 + e) in this order. */
async function shard(es: readonly number[], spec: DatasetSpec = SPEC): Promise<string> {
  const root = tempDir("duet-shard-");
  const w = await DatasetWriter.open(root, { spec });
  for (const e of es) w.addEpisode(makeEpisode(e, LENGTHS[e % LENGTHS.length] as number, spec));
  w.close();
  return root;
}

function expectSameFiles(a: string, b: string): void {
  const x = filesOf(a);
  const y = filesOf(b);
  expect([...y.keys()]).toEqual([...x.keys()]);
  for (const [path, bytes] of x) expect(y.get(path)?.equals(bytes), path).toBe(true);
}

describe("mergeDatasets", () => {
  it("gives, in shard order, the dataset of the same episodes recorded into one: indices, tasks and stats", async () => {
    const reference = await writeFixture(5);
    // the second shard meets "other task" first: its task_index 0 is the merged dataset's 1
    const a = await shard([0, 1]);
    const b = await shard([2, 3, 4]);
    expect((await Dataset.open(b)).tasks).toEqual(["other task", "unscrew the cap"]);
    const out = join(tempDir("duet-merged-"), "out");
    const seen: number[] = [];
    const r = await mergeDatasets(out, [a, b], { onEpisode: (done) => seen.push(done) });
    expect([r.episodes, r.frames, r.duplicates, seen]).toEqual([5, 5 + 7 + 4 + 6 + 5, 0, [1, 2, 3, 4, 5]]);
    expect(r.shards).toEqual([
      { root: a, episodes: 2 },
      { root: b, episodes: 3 },
    ]);
    expectSameFiles(reference, out);
    expect((await validateDataset(out)).ok).toBe(true);

    // the statistics are those of every frame at once, not an average of the shards' (which would weight them equally)
    const ds = await Dataset.open(out);
    const states = await Promise.all(ds.episodes.map(async (e) => (await ds.episode(e.episodeIndex)).state));
    const all = Float32Array.from(states.flatMap((s) => [...s]));
    const direct = vectorStats(all, ds.totalFrames, SPEC.stateNames.length);
    const merged = ds.stats()[STATE_KEY]!;
    expect(merged.count).toBe(ds.totalFrames);
    for (const key of ["min", "max", "mean", "std"] as const) {
      merged[key].forEach((v, j) => expect(v).toBeCloseTo(direct[key][j] as number, 9));
    }
    const [sa, sb] = [(await Dataset.open(a)).stats()[STATE_KEY]!, (await Dataset.open(b)).stats()[STATE_KEY]!];
    expect(merged.mean[0]).not.toBeCloseTo(((sa.mean[0] as number) + (sb.mean[0] as number)) / 2, 3);
  });

  it("DatasetWriter.addEpisodes commits, across data files, what addEpisode commits one episode at a time", async () => {
    // a data file per episode: the one commit leaves four files for new ones
    const reference = await writeFixture(5, { dataFileSizeMb: 0.001 });
    const out = tempDir("duet-batch-");
    const w = await DatasetWriter.open(out, { spec: SPEC, dataFileSizeMb: 0.001 });
    const metas = w.addEpisodes([0, 1, 2, 3, 4].map((e) => makeEpisode(e, LENGTHS[e % LENGTHS.length] as number)));
    w.close();
    expect(metas.map((m) => [m.episodeIndex, m.dataFile, m.from])).toEqual([
      [0, 0, 0],
      [1, 1, 5],
      [2, 2, 12],
      [3, 3, 16],
      [4, 4, 22],
    ]);
    expectSameFiles(reference, out);
  });

  it("by seed: orders episodes by seed and takes a seed found in two shards once; refuses copies that differ", async () => {
    const reference = await writeFixture(5);
    // episode 2 committed by a worker that died before reporting it, and recorded again by another
    const a = await shard([4, 0, 2]);
    const b = await shard([3, 2, 1]);
    const out = join(tempDir("duet-merged-"), "out");
    const r = await mergeDatasets(out, [a, b], { order: "seed" });
    expect([r.episodes, r.duplicates]).toEqual([5, 1]);
    expect(r.shards.map((s) => s.episodes)).toEqual([3, 2]);
    expectSameFiles(reference, out);

    // seed 1002 again, but another episode (another length and frames): not a copy
    const c = tempDir("duet-shard-");
    const w = await DatasetWriter.open(c, { spec: SPEC });
    w.addEpisode(makeEpisode(2, 9));
    w.close();
    const refused = join(tempDir("duet-merged-"), "out");
    await expect(mergeDatasets(refused, [a, c], { order: "seed" })).rejects.toThrow(
      new RegExp(
        `seed 1002 is in ${a} \\(episode 2\\) and in ${c} \\(episode 0\\), with a different length, ` +
          "observation.state, action, observation.images.top, observation.images.wrist: these are not shards of one " +
          "recording; merge them in shard order instead",
      ),
    );
  });

  it("refuses datasets of other features, fps or robot type, naming each shard and field, before writing", async () => {
    const a = await shard([0]);
    const withEnv = await shard([1], ENV_SPEC);
    const fps20 = await shard([2], { ...SPEC, fps: 20 });
    const otherRobot = await shard([3], { ...SPEC, robotType: "other_robot" });
    const out = join(tempDir("duet-merged-"), "out");
    const merging = mergeDatasets(out, [a, withEnv, fps20, otherRobot]);
    await expect(merging).rejects.toThrow(
      `the datasets must record the same features at the same fps as the first, ${a}/meta/info.json`,
    );
    const message = await merging.catch((e: Error) => e.message);
    expect(message).toContain(
      `  - ${withEnv}/meta/info.json: features.observation.environment_state: expected no such feature, received "float32"`,
    );
    expect(message).toContain(`  - ${fps20}/meta/info.json: fps: expected 10, received 20`);
    expect(message).toContain(
      `  - ${otherRobot}/meta/info.json: robot_type: expected "test_bimanual", received "other_robot"`,
    );
    expect(existsSync(out)).toBe(false);
    await expect(mergeDatasets(a, [withEnv])).rejects.toThrow(`${a}: a dataset already exists here`);
  });
});
