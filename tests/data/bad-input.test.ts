// Bad input: each damage gives an error naming the file and field; what is already recorded stays readable.
import { copyFileSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/core/index.ts";
import { Dataset, DatasetWriter, validateDataset } from "../../src/data/index.ts";
import { encodeDataFile } from "../../src/data/datafile.ts";
import { openParquet, readRows } from "../../src/data/parquet.ts";
import { SPEC, makeEpisode, stateValue, tempDir, writeFixture } from "./fixtures.ts";

const editInfo = (root: string, edit: (info: Record<string, unknown>) => void) => {
  const file = join(root, "meta/info.json");
  const info = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(info);
  writeFileSync(file, JSON.stringify(info));
};

describe("bad input", () => {
  it("missing info.json", async () => {
    const root = await writeFixture(1);
    rmSync(join(root, "meta/info.json"));
    await expect(Dataset.open(root)).rejects.toThrow(`${join(root, "meta/info.json")}: cannot read file (ENOENT)`);
    const report = await validateDataset(root);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ file: join(root, "meta/info.json") });
  });

  it("corrupt info.json: invalid JSON, then missing keys and a wrong version", async () => {
    const root = await writeFixture(1);
    const file = join(root, "meta/info.json");
    writeFileSync(file, '{"codebase_version": "v3.0", ');
    await expect(Dataset.open(root)).rejects.toThrow(`${file}: invalid JSON`);
    writeFileSync(file, JSON.stringify({ codebase_version: "v2.1", fps: 10, features: {} }));
    const err = await Dataset.open(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const paths = (err as ValidationError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["codebase_version", "total_episodes", "data_path", "splits"]));
    expect((err as ValidationError).message).toContain(file);
    expect((err as ValidationError).message).toMatch(/codebase_version: expected one of "v3.0", received "v2.1"/);
  });

  it("a truncated data file: validate names it and the episodes it held; episodes in other files stay readable", async () => {
    const root = await writeFixture(3, { dataFileSizeMb: 0.001 }); // one data file per episode
    const ds0 = await Dataset.open(root);
    const damaged = ds0.dataFileOf(1);
    truncateSync(join(root, damaged), 100);
    const report = await validateDataset(root);
    expect(report.ok).toBe(false);
    expect(report.damagedEpisodes).toEqual([1]);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]?.file).toBe(join(root, damaged));
    expect(report.problems[0]?.received).toMatch(/not a readable parquet file .*truncated or corrupt/);
    const ds = await Dataset.open(root);
    await expect(ds.episode(1)).rejects.toThrow(join(root, damaged));
    expect((await ds.episode(0)).state[0]).toBe(stateValue(0, 0, 0));
    expect((await ds.episode(2)).state[0]).toBe(stateValue(2, 0, 0));
  });

  it("one episode with damaged images: validate names that episode and counts its bad rows", async () => {
    const root = await writeFixture(3); // the three episodes share one data file
    const file = join(root, "data/chunk-000/file-000.parquet");
    const { features } = JSON.parse(readFileSync(join(root, "meta/info.json"), "utf8")) as {
      features: Record<string, { dtype: string; shape: number[]; names: null }>;
    };
    const keys = Object.keys(features);
    const rows = await readRows(openParquet(file, readFileSync(file)), keys);
    const columns: Record<string, unknown[]> = Object.fromEntries(keys.map((k) => [k, []]));
    let damagedRows = 0;
    for (const row of rows) {
      const episode = Number(row["episode_index"]);
      for (const k of keys) {
        let v = row[k];
        if (features[k]?.dtype === "int64") v = BigInt(Number(v));
        if (k.startsWith("observation.images.") && episode === 1) v = { bytes: new Uint8Array(40), path: null };
        (columns[k] as unknown[]).push(v);
      }
      if (episode === 1) damagedRows++;
    }
    writeFileSync(file, encodeDataFile(features, { rowGroups: [rows.length], columns }));
    const report = await validateDataset(root);
    expect(report.ok).toBe(false);
    expect(report.damagedEpisodes).toEqual([1]);
    const cameras = SPEC.cameras.length;
    expect(report.problems).toContainEqual({
      file,
      path: "episode 1",
      expected: "readable rows",
      received: `${damagedRows} of its ${damagedRows} rows bad`,
    });
    // every bad value is listed or counted: one per camera in each damaged row
    const listed = report.problems.filter((p) => p.path.startsWith("row ")).length;
    const more = report.problems.find((p) => p.path === "(more rows)");
    expect(listed + Number(/^\d+/.exec(more?.received ?? "0")?.[0])).toBe(damagedRows * cameras);
    expect(report.problems.every((p) => p.path !== "episode 0" && p.path !== "episode 2")).toBe(true);
  });

  it("a dataset knows its scenario: stored in info.json, and resuming with another one is refused naming both", async () => {
    const root = tempDir();
    const easy = { name: "bottle-cap-easy", sha256: "a".repeat(64) };
    const hidden = { name: "bottle-cap-hidden", sha256: "b".repeat(64) };
    const w = await DatasetWriter.open(root, { spec: SPEC, scenario: easy });
    w.addEpisode(makeEpisode(0, 5, SPEC));
    w.close();
    expect((await Dataset.open(root)).info.scenario).toEqual(easy);
    await expect(DatasetWriter.open(root, { spec: SPEC, scenario: hidden, resume: true })).rejects.toThrow(
      /recorded in scenario "bottle-cap-easy" \(sha256 aaaaaaaaaaaa…\); resuming it with scenario "bottle-cap-hidden" \(sha256 bbbbbbbbbbbb…\)/,
    );
    // the refusal leaves the dataset as it was, and the same scenario resumes
    const again = await DatasetWriter.open(root, { spec: SPEC, scenario: easy, resume: true });
    again.addEpisode(makeEpisode(1, 5, SPEC));
    again.close();
    expect((await validateDataset(root)).episodes).toBe(2);
  });

  it("a missing data file and a corrupt episodes file", async () => {
    const root = await writeFixture(2);
    const data = join(root, "data/chunk-000/file-000.parquet");
    const saved = join(root, "saved.parquet");
    copyFileSync(data, saved);
    rmSync(data);
    const report = await validateDataset(root);
    expect(report.damagedEpisodes).toEqual([0, 1]);
    expect(report.problems[0]).toMatchObject({ file: data });
    expect(report.problems[0]?.received).toMatch(/ENOENT/);
    copyFileSync(saved, data);
    const episodes = join(root, "meta/episodes/chunk-000/file-000.parquet");
    writeFileSync(episodes, "PAR1 garbage");
    await expect(Dataset.open(root)).rejects.toThrow(`${episodes}: not a readable parquet file`);
    expect((await validateDataset(root)).problems.some((p) => p.file === episodes)).toBe(true);
  });

  it("wrong feature shape and dtype: the data file no longer matches info.json", async () => {
    const root = await writeFixture(2);
    editInfo(root, (info) => {
      const f = info["features"] as Record<string, { shape: number[]; dtype: string }>;
      (f["observation.state"] as { shape: number[] }).shape = [5];
      (f["action"] as { dtype: string }).dtype = "float64";
    });
    const report = await validateDataset(root);
    expect(report.ok).toBe(false);
    const data = join(root, "data/chunk-000/file-000.parquet");
    expect(report.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: join(root, "meta/info.json"),
          path: "features.action.dtype",
          expected: '"float32"',
        }),
      ]),
    );
    // The reader refuses it, naming info.json's field.
    await expect(Dataset.open(root)).rejects.toThrow(/features\.action\.dtype: expected "float32", received "float64"/);
    editInfo(root, (info) => {
      const f = info["features"] as Record<string, { dtype: string }>;
      (f["action"] as { dtype: string }).dtype = "float32";
    });
    // Now info.json is self-consistent but the stored rows have 3 numbers, not 5.
    const ds = await Dataset.open(root);
    await expect(ds.episode(0)).rejects.toThrow(/row 0\.observation\.state: expected 5 numbers, received 3 numbers/);
    expect(
      (await validateDataset(root)).problems.some((p) => p.file === data && /observation\.state/.test(p.path)),
    ).toBe(true);
  });

  it("a data file with other column types than info.json declares", async () => {
    const root = await writeFixture(1);
    const file = join(root, "data/chunk-000/file-000.parquet");
    const f = JSON.parse(readFileSync(join(root, "meta/info.json"), "utf8")) as {
      features: Record<string, { dtype: string; shape: number[]; names: null }>;
    };
    const features = { ...f.features, "observation.state": { dtype: "float64", shape: [3], names: null } };
    const T = 5;
    const columns: Record<string, unknown[]> = {};
    for (const key of Object.keys(features)) columns[key] = [];
    for (let t = 0; t < T; t++) {
      (columns["observation.state"] as unknown[]).push([1, 2, 3]);
      (columns["action"] as unknown[]).push([1, 2, 3, 4]);
      for (const cam of SPEC.cameras)
        (columns[`observation.images.${cam.name}`] as unknown[]).push({ bytes: new Uint8Array(40), path: null });
      (columns["timestamp"] as unknown[]).push(t / 10);
      for (const k of ["frame_index", "episode_index", "index", "task_index"])
        (columns[k] as unknown[]).push(BigInt(k === "frame_index" || k === "index" ? t : 0));
    }
    writeFileSync(file, encodeDataFile(features, { rowGroups: [T], columns }));
    const report = await validateDataset(root);
    expect(report.problems).toEqual([
      { file, path: "column observation.state", expected: "float32[]", received: "float64[]" },
    ]);
    expect(report.damagedEpisodes).toEqual([0]);
  });

  it("a dataset from another robot (different features) is refused by training and by validate --expect", async () => {
    const root = await writeFixture(1);
    const other = { ...SPEC, stateNames: [...SPEC.stateNames, "s3"], cameras: [{ name: "top", height: 6, width: 8 }] };
    const err = await Dataset.open(root, { expect: other }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([
      { path: "features.observation.state.shape", expected: "[4]", received: "[3]" },
      { path: "features.observation.state.names", expected: '["s0","s1","s2","s3"]', received: '["s0","s1","s2"]' },
      { path: "features.observation.images.wrist", expected: "no such feature", received: '"image"' },
    ]);
    expect((err as ValidationError).message).toContain(join(root, "meta/info.json"));
    const report = await validateDataset(root, { expect: other });
    expect(report.ok).toBe(false);
    // Recording into it with the other robot is refused too, and the dataset is untouched.
    await expect(DatasetWriter.open(root, { spec: other, resume: true })).rejects.toThrow(
      /features\.observation\.state\.shape/,
    );
    expect((await validateDataset(root)).ok).toBe(true);
  });

  it("an episode of the wrong size is rejected before anything is written", async () => {
    const root = await writeFixture(1);
    const w = await DatasetWriter.open(root, { spec: SPEC, resume: true });
    const ep = makeEpisode(1, 3);
    expect(() => w.addEpisode({ ...ep, state: ep.state.subarray(1) })).toThrow(/state has 8 numbers \(expected 3×3\)/);
    expect(() => w.addEpisode({ ...ep, images: { top: ep.images["top"] ?? [] } })).toThrow(/camera wrist has 0 frames/);
    w.close();
    const report = await validateDataset(root);
    expect([report.ok, report.episodes]).toEqual([true, 1]);
  });

  it("meta totals that disagree with the episodes", async () => {
    const root = await writeFixture(2);
    editInfo(root, (info) => (info["total_frames"] = 99));
    await expect(Dataset.open(root)).rejects.toThrow(
      /total_frames: expected 12 \(sum of episode lengths\), received 99/,
    );
  });
});
