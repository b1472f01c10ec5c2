import { truncateSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { datasetInfo, formatInfo, formatReport } from "../../src/cli/dataset.ts";
import { Dataset, validateDataset } from "../../src/data/index.ts";
import { writeFixture } from "../data/fixtures.ts";

describe("duet dataset", () => {
  it("info reports episodes, frames, fps, features, success rate, modes and episodes per task", async () => {
    const root = await writeFixture(4);
    const s = await datasetInfo(root);
    expect(s).toMatchObject({
      episodes: 4,
      frames: 22,
      fps: 10,
      successes: 2,
      success_rate: 0.5,
      modes: { left: 2, right: 2 },
      episodes_per_task: { "unscrew the cap": 3, "other task": 1 },
    });
    expect(s.features["observation.images.top"]).toEqual({ dtype: "image", shape: [6, 8, 3] });
    expect(s.episode_lengths).toEqual({ min: 4, mean: 5.5, max: 7 });
    expect(formatInfo(s)).toContain("success 2/4 = 50.0%");
    expect(formatInfo(s)).toContain('"other task" 1');
  });

  it("validate's report lists each problem with file and field", async () => {
    const root = await writeFixture(2);
    expect(formatReport(await validateDataset(root))).toMatch(/valid LeRobot v3.0 dataset, 2 episodes, 12 frames/);
    truncateSync(join(root, "data/chunk-000/file-000.parquet"), 50);
    const text = formatReport(await validateDataset(root));
    expect(text).toContain("INVALID, 1 problem");
    expect(text).toContain(join(root, "data/chunk-000/file-000.parquet"));
    // one data file holds both episodes: nothing says "the others remain readable"
    expect(text).toContain("  damaged episodes 0, 1 (data/chunk-000/file-000.parquet)\n");
    expect(text).not.toContain("remain readable");
  });

  it("validate's report says which sound episodes a damaged data file takes down with it, and which stay readable", async () => {
    const root = await writeFixture(3, { dataFileSizeMb: 0.001 }); // one data file per episode
    const report = await validateDataset(root);
    const shared = formatReport({
      ...report,
      ok: false,
      damagedEpisodes: [1],
      damagedFiles: [{ file: "data/chunk-000/file-000.parquet", damaged: [1], sound: [0, 2] }],
      dataFiles: 1,
    });
    expect(shared).toContain(
      "  damaged episode 1 (data/chunk-000/file-000.parquet); episodes 0, 2 in the same file cannot be loaded either " +
        "until it is repaired (a data file loads as a whole)\n",
    );
    expect(shared).not.toContain("remain readable");
    const file = (await Dataset.open(root)).dataFileOf(1);
    truncateSync(join(root, file), 100);
    const own = formatReport(await validateDataset(root));
    expect(own).toContain(`  damaged episode 1 (${file})\n  the episodes in the other 2 data files remain readable\n`);
  });

  it("validate's report prints warnings under a valid dataset too", async () => {
    const root = await writeFixture(2);
    const report = await validateDataset(root);
    const warning = { file: "data/x.parquet", path: "observation.state", expected: "≤ 0.5 rad", received: "0.9 rad" };
    const text = formatReport({ ...report, warnings: [warning] });
    expect(text.split("\n").slice(0, 3)).toEqual([
      expect.stringMatching(/valid LeRobot v3.0 dataset/) as string,
      "warning:",
      "  - data/x.parquet: observation.state: expected ≤ 0.5 rad, received 0.9 rad",
    ]);
  });
});
