// The optional `observation.environment_state` feature: privileged scene state recorded per frame as a training target.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENVIRONMENT_KEY } from "../../src/core/index.ts";
import { Dataset, DatasetWriter, EpisodeBuilder, validateDataset, vectorStats } from "../../src/data/index.ts";
import { ENV_SPEC, LENGTHS, SPEC, environmentValue, makeEpisode, stateValue, writeFixture } from "./fixtures.ts";

const DE = 3;

/** Episode e's expected environment state, `T,De` row-major. */
const expectedEnvironment = (e: number): number[] =>
  Array.from({ length: (LENGTHS[e] as number) * DE }, (_, k) => environmentValue(e, Math.floor(k / DE), k % DE));

describe("environment state", () => {
  it("round trip: declared in info.json, read back exactly, with statistics in stats.json", async () => {
    const root = await writeFixture(3, { spec: ENV_SPEC });
    const info = JSON.parse(readFileSync(join(root, "meta/info.json"), "utf8")) as {
      features: Record<string, unknown>;
    };
    expect(info.features[ENVIRONMENT_KEY]).toEqual({
      dtype: "float32",
      shape: [DE],
      names: ["bottle_x", "bottle_y", "cap_angle"],
    });
    // After action, before the cameras (LeRobot column order).
    expect(Object.keys(info.features).slice(0, 4)).toEqual([
      "observation.state",
      "action",
      ENVIRONMENT_KEY,
      "observation.images.top",
    ]);

    const ds = await Dataset.open(root);
    expect(ds.spec.environmentNames).toEqual(ENV_SPEC.environmentNames);
    await ds.load();
    const out = new Float32Array(DE + 2).fill(-1);
    for (let e = 0; e < 3; e++) {
      const ep = await ds.episode(e);
      expect(Array.from(ep.environment ?? [])).toEqual(expectedEnvironment(e));
      expect(ep.state[0]).toBe(stateValue(e, 0, 0));
      for (let t = 0; t < (LENGTHS[e] as number); t++) {
        ds.readEnvironment(e, t, out, 2);
        expect(Array.from(out)).toEqual([-1, -1, ...[0, 1, 2].map((j) => environmentValue(e, t, j))]);
      }
    }

    const n = LENGTHS.slice(0, 3).reduce((a, b) => a + b, 0);
    const direct = vectorStats([0, 1, 2].flatMap(expectedEnvironment), n, DE);
    const s = ds.stats()[ENVIRONMENT_KEY];
    expect(s?.count).toBe(n);
    for (const k of ["min", "max", "mean", "std"] as const) {
      expect(s?.[k]).toHaveLength(DE);
      s?.[k].forEach((v, j) => expect(v).toBeCloseTo(direct[k][j] as number, 6));
    }
    expect(s?.min).toEqual([-0.5, 9.5, 19.5]);
    expect(s?.max).toEqual([1, 11, 21]);
    const report = await validateDataset(root);
    expect(report.problems).toEqual([]);
  });

  it("appends on resume with the same spec; another spec (with or without it) is refused and nothing changes", async () => {
    const withEnv = await writeFixture(1, { spec: ENV_SPEC });
    await expect(DatasetWriter.open(withEnv, { spec: SPEC, resume: true })).rejects.toThrow(
      /features\.observation\.environment_state: expected no such feature, received "float32"/,
    );
    const renamed = { ...ENV_SPEC, environmentNames: ["bottle_x", "bottle_y", "cap_turns"] };
    await expect(DatasetWriter.open(withEnv, { spec: renamed, resume: true })).rejects.toThrow(
      /features\.observation\.environment_state\.names/,
    );
    const plain = await writeFixture(1);
    await expect(DatasetWriter.open(plain, { spec: ENV_SPEC, resume: true })).rejects.toThrow(
      /features\.observation\.environment_state: expected float32 \[3\], received nothing \(missing\)/,
    );
    for (const root of [withEnv, plain]) {
      const report = await validateDataset(root);
      expect([report.ok, report.episodes]).toEqual([true, 1]);
    }

    const w = await DatasetWriter.open(withEnv, { spec: ENV_SPEC, resume: true });
    w.addEpisode(makeEpisode(1, LENGTHS[1] as number, ENV_SPEC));
    w.close();
    const ds = await Dataset.open(withEnv);
    expect(Array.from((await ds.episode(1)).environment ?? [])).toEqual(expectedEnvironment(1));
    expect(ds.stats()[ENVIRONMENT_KEY]?.count).toBe((LENGTHS[0] as number) + (LENGTHS[1] as number));
  });

  it("a dataset without it reads as before, and readEnvironment refuses naming the dataset", async () => {
    const root = await writeFixture(2);
    const ds = await Dataset.open(root);
    expect("environmentNames" in ds.spec).toBe(false);
    expect(ds.stats()[ENVIRONMENT_KEY]).toBeUndefined();
    const ep = await ds.episode(0);
    expect("environment" in ep).toBe(false);
    expect(ep.state[0]).toBe(stateValue(0, 0, 0));
    expect(() => ds.readEnvironment(0, 0, new Float32Array(DE))).toThrow(
      `${root}: the dataset has no observation.environment_state`,
    );
  });

  it("a spec without environmentNames ignores the observation's environment state", () => {
    const b = new EpisodeBuilder(SPEC);
    const images = Object.fromEntries(
      SPEC.cameras.map((c) => [
        c.name,
        { width: c.width, height: c.height, data: new Uint8Array(c.width * c.height * 3) },
      ]),
    );
    b.addFrame(
      { time: 0, state: new Float32Array(3), images, environmentState: new Float32Array(7) },
      new Float32Array(4),
    );
    const ep = b.finish({ task: "t", success: true, mode: "", seed: 0 });
    expect([ep.length, "environment" in ep]).toEqual([1, false]);
  });

  it("addFrame without environment state, or of the wrong length, is refused naming the frame and field", () => {
    const b = new EpisodeBuilder({ ...ENV_SPEC, cameras: [] });
    const frame = (environmentState?: Float32Array) => ({
      time: 0,
      state: new Float32Array(3),
      images: {},
      ...(environmentState ? { environmentState } : {}),
    });
    b.addFrame(frame(new Float32Array(DE)), new Float32Array(4));
    b.addFrame(frame(new Float32Array(DE)), new Float32Array(4));
    expect(() => b.addFrame(frame(), new Float32Array(4))).toThrow(
      /^frame 2: observation\.environmentState is missing, the dataset expects 3 entries/,
    );
    expect(() => b.addFrame(frame(new Float32Array(2)), new Float32Array(4))).toThrow(
      "frame 2: observation.environmentState has 2 entries, the dataset expects 3",
    );
    expect(b.frames).toBe(2);
  });

  it("NaN or a wrong size is refused at write; earlier episodes stay and the writer goes on", async () => {
    const root = await writeFixture(2, { spec: ENV_SPEC });
    const w = await DatasetWriter.open(root, { spec: ENV_SPEC, resume: true });
    const ep = makeEpisode(2, 3, ENV_SPEC);
    const nan = Float32Array.from(ep.environment ?? []);
    nan[4] = NaN;
    expect(() => w.addEpisode({ ...ep, environment: nan })).toThrow(
      `${root}: episode rejected: environment state contains NaN or Infinity`,
    );
    const inf = Float32Array.from(ep.environment ?? []);
    inf[0] = -Infinity;
    expect(() => w.addEpisode({ ...ep, environment: inf })).toThrow(/environment state contains NaN or Infinity/);
    expect(() => w.addEpisode({ ...ep, environment: nan.subarray(1) })).toThrow(
      /environment has 8 numbers \(expected 3×3\)/,
    );
    const { environment: _dropped, ...without } = ep;
    expect(() => w.addEpisode(without)).toThrow(/environment has 0 numbers \(expected 3×3\)/);
    expect(w.totalEpisodes).toBe(2);
    w.addEpisode(ep);
    w.close();

    const report = await validateDataset(root);
    expect([report.ok, report.episodes]).toEqual([true, 3]);
    const ds = await Dataset.open(root);
    expect(Array.from((await ds.episode(0)).environment ?? [])).toEqual(expectedEnvironment(0));
    expect(Array.from((await ds.episode(2)).environment ?? [])).toEqual(
      Array.from({ length: 9 }, (_, k) => environmentValue(2, Math.floor(k / 3), k % 3)),
    );
    expect(ds.stats()[ENVIRONMENT_KEY]?.max.every(Number.isFinite)).toBe(true);
  });

  it("environment state given to a dataset that records none is refused, not dropped", async () => {
    const root = await writeFixture(1);
    const w = await DatasetWriter.open(root, { spec: SPEC, resume: true });
    const ep = makeEpisode(1, 3);
    expect(() => w.addEpisode({ ...ep, environment: new Float32Array(9) })).toThrow(
      /environment state given \(the dataset records none/,
    );
    w.close();
    expect((await validateDataset(root)).episodes).toBe(1);
  });

  it("stored rows of another length than info.json declares: the reader and validate name the row and column", async () => {
    const root = await writeFixture(1, { spec: ENV_SPEC });
    const file = join(root, "meta/info.json");
    const info = JSON.parse(readFileSync(file, "utf8")) as { features: Record<string, { shape: number[] }> };
    (info.features[ENVIRONMENT_KEY] as { shape: number[] }).shape = [4];
    writeFileSync(file, JSON.stringify(info));
    const ds = await Dataset.open(root);
    expect(ds.spec.environmentNames).toEqual([0, 1, 2, 3].map((j) => `${ENVIRONMENT_KEY}_${j}`));
    await expect(ds.episode(0)).rejects.toThrow(
      /row 0\.observation\.environment_state: expected 4 numbers, received 3 numbers/,
    );
    const report = await validateDataset(root);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(["row 0.observation.environment_state", "observation.environment_state.min"]),
    );
  });
});
