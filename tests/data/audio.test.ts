// The optional `observation.audio` feature: each frame's mono sound (S samples at 16 kHz), recorded from a simulator
// that synthesises contact sound, stored inline as a float32 list with one-channel statistics.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AUDIO_KEY, AUDIO_SAMPLE_RATE, ValidationError } from "../../src/core/index.ts";
import {
  Dataset,
  DatasetWriter,
  EpisodeBuilder,
  exportZarr,
  readZarrArray,
  validateDataset,
  vectorStats,
  type DatasetSpec,
} from "../../src/data/index.ts";
import { recordEpisodes } from "../../src/runner/record/index.ts";
import { filesOf, tinyScenario } from "../runner/record/record-fixtures.ts";
import { AUDIO_SPEC, LENGTHS, SPEC, audioValue, makeEpisode, stateValue, tempDir, writeFixture } from "./fixtures.ts";

const S = AUDIO_SPEC.audioSamples as number;

/** Episode e's expected sound, `T,S` row-major. */
const expectedAudio = (e: number): number[] =>
  Array.from({ length: (LENGTHS[e] as number) * S }, (_, k) => audioValue(e, Math.floor(k / S), k % S));

const readJson = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;

/** An observation for a spec without cameras: 3 state entries, optional sound. */
const frame = (audio?: Float32Array) => ({
  time: 0,
  state: new Float32Array(3),
  images: {},
  ...(audio ? { audio } : {}),
});

describe("audio", () => {
  it("round trip: declared in info.json with its sample rate, read back exactly, one-channel statistics", async () => {
    const root = await writeFixture(3, { spec: AUDIO_SPEC });
    const info = readJson(join(root, "meta/info.json")) as { features: Record<string, unknown> };
    expect(info.features[AUDIO_KEY]).toEqual({
      dtype: "float32",
      shape: [S],
      names: null,
      info: { "audio.sample_rate": AUDIO_SAMPLE_RATE, "audio.channels": 1 },
    });
    // After action, before the cameras (LeRobot column order).
    expect(Object.keys(info.features).slice(0, 4)).toEqual([
      "observation.state",
      "action",
      AUDIO_KEY,
      "observation.images.top",
    ]);

    const ds = await Dataset.open(root);
    expect(ds.spec.audioSamples).toBe(S);
    expect("environmentNames" in ds.spec).toBe(false);
    await ds.load();
    const out = new Float32Array(S + 2).fill(-1);
    for (let e = 0; e < 3; e++) {
      const ep = await ds.episode(e);
      expect(Array.from(ep.audio ?? [])).toEqual(expectedAudio(e));
      expect(ep.state[0]).toBe(stateValue(e, 0, 0));
      for (let t = 0; t < (LENGTHS[e] as number); t++) {
        ds.readAudio(e, t, out, 2);
        expect(Array.from(out)).toEqual([-1, -1, ...Array.from({ length: S }, (_, k) => audioValue(e, t, k))]);
      }
    }

    // Statistics: one entry each (the mono channel) over every sample; count in frames, as for images.
    const frames = LENGTHS.slice(0, 3).reduce((a, b) => a + b, 0);
    const all = [0, 1, 2].flatMap(expectedAudio);
    const direct = vectorStats(all, all.length, 1);
    const s = ds.stats()[AUDIO_KEY];
    expect(s?.count).toBe(frames);
    for (const k of ["min", "max", "mean", "std"] as const) {
      expect(s?.[k]).toHaveLength(1);
      expect(s?.[k][0]).toBeCloseTo(direct[k][0] as number, 6);
    }
    expect([s?.min[0], s?.max[0]]).toEqual([Math.min(...all), Math.max(...all)]);
    const file = readJson(join(root, "meta/stats.json")) as Record<string, Record<string, unknown>>;
    expect(file[AUDIO_KEY]?.["q50"]).toHaveLength(1);
    expect(file[AUDIO_KEY]?.["count"]).toEqual([frames]);

    expect((await validateDataset(root)).problems).toEqual([]);
  });

  it("a dataset without it has no audio feature, reads as before, and readAudio refuses naming the dataset", async () => {
    const root = await writeFixture(2);
    const info = readJson(join(root, "meta/info.json")) as { features: Record<string, unknown> };
    expect(Object.keys(info.features)).not.toContain(AUDIO_KEY);
    expect(Object.keys(readJson(join(root, "meta/stats.json")))).not.toContain(AUDIO_KEY);
    const ds = await Dataset.open(root);
    expect("audioSamples" in ds.spec).toBe(false);
    const ep = await ds.episode(0);
    expect("audio" in ep).toBe(false);
    expect(ep.state[0]).toBe(stateValue(0, 0, 0));
    expect(() => ds.readAudio(0, 0, new Float32Array(S))).toThrow(
      `${root}: the dataset has no observation.audio (recorded without sound)`,
    );
  });

  it("a spec without audioSamples ignores the observation's sound", () => {
    const b = new EpisodeBuilder({ ...SPEC, cameras: [] });
    b.addFrame(frame(new Float32Array(1600).fill(0.5)), new Float32Array(4));
    const ep = b.finish({ task: "t", success: true, mode: "", seed: 0 });
    expect([ep.length, "audio" in ep]).toEqual([1, false]);
  });

  it("addFrame without sound, or of the wrong length, is refused naming the frame; earlier frames stay", () => {
    const b = new EpisodeBuilder({ ...AUDIO_SPEC, cameras: [] });
    b.addFrame(frame(new Float32Array(S).fill(0.25)), new Float32Array(4));
    b.addFrame(frame(new Float32Array(S).fill(-0.5)), new Float32Array(4));
    expect(() => b.addFrame(frame(), new Float32Array(4))).toThrow(
      /^frame 2: observation\.audio is missing, the dataset expects 5 samples \(its spec has audioSamples\)/,
    );
    expect(() => b.addFrame(frame(new Float32Array(S + 1)), new Float32Array(4))).toThrow(
      "frame 2: observation.audio has 6 samples, the dataset expects 5",
    );
    expect(b.frames).toBe(2);
    const ep = b.finish({ task: "t", success: true, mode: "", seed: 0 });
    expect(Array.from(ep.audio ?? [])).toEqual([
      ...new Array<number>(S).fill(0.25),
      ...new Array<number>(S).fill(-0.5),
    ]);
  });

  it("bad sound is refused at write; committed episodes stay, the writer goes on, validate passes", async () => {
    const root = await writeFixture(2, { spec: AUDIO_SPEC });
    const w = await DatasetWriter.open(root, { spec: AUDIO_SPEC, resume: true });
    // An episode whose observation lacks sound fails while being built, before anything reaches the writer.
    const b = new EpisodeBuilder(AUDIO_SPEC);
    expect(() => b.addFrame({ ...frame(), images: {} }, new Float32Array(4))).toThrow(
      /^frame 0: observation\.audio is missing/,
    );
    const ep = makeEpisode(2, 3, AUDIO_SPEC);
    const nan = Float32Array.from(ep.audio ?? []);
    nan[7] = NaN;
    expect(() => w.addEpisode({ ...ep, audio: nan })).toThrow(
      `${root}: episode rejected: audio contains NaN or Infinity`,
    );
    expect(() => w.addEpisode({ ...ep, audio: nan.subarray(1) })).toThrow(/audio has 14 samples \(expected 3×5\)/);
    const { audio: _dropped, ...without } = ep;
    expect(() => w.addEpisode(without)).toThrow(/audio has 0 samples \(expected 3×5\)/);
    expect(w.totalEpisodes).toBe(2);
    w.addEpisode(ep);
    w.close();

    const report = await validateDataset(root);
    expect([report.problems, report.episodes]).toEqual([[], 3]);
    const ds = await Dataset.open(root);
    expect(Array.from((await ds.episode(0)).audio ?? [])).toEqual(expectedAudio(0));
    expect(Array.from((await ds.episode(1)).audio ?? [])).toEqual(expectedAudio(1));
    expect(Array.from((await ds.episode(2)).audio ?? [])).toEqual(
      Array.from({ length: 3 * S }, (_, k) => audioValue(2, Math.floor(k / S), k % S)),
    );
  });

  it("sound given to a dataset that records none is refused, not dropped; resume with another spec is refused", async () => {
    const plain = await writeFixture(1);
    const w = await DatasetWriter.open(plain, { spec: SPEC, resume: true });
    expect(() => w.addEpisode({ ...makeEpisode(1, 3), audio: new Float32Array(15) })).toThrow(
      /audio given \(the dataset records none/,
    );
    w.close();
    await expect(DatasetWriter.open(plain, { spec: AUDIO_SPEC, resume: true })).rejects.toThrow(
      /features\.observation\.audio: expected float32 \[5\], received nothing \(missing\)/,
    );
    const withAudio = await writeFixture(1, { spec: AUDIO_SPEC });
    await expect(DatasetWriter.open(withAudio, { spec: SPEC, resume: true })).rejects.toThrow(
      /features\.observation\.audio: expected no such feature, received "float32"/,
    );
    await expect(
      DatasetWriter.open(withAudio, { spec: { ...AUDIO_SPEC, audioSamples: 6 }, resume: true }),
    ).rejects.toThrow(/features\.observation\.audio\.shape: expected \[6\], received \[5\]/);
    for (const root of [plain, withAudio]) {
      const report = await validateDataset(root);
      expect([report.problems, report.episodes]).toEqual([[], 1]);
    }
  });

  it("a declared feature of another dtype, shape or sample rate is refused, naming the field", async () => {
    const root = await writeFixture(1, { spec: AUDIO_SPEC });
    const file = join(root, "meta/info.json");
    const good = readFileSync(file, "utf8");
    const edit = (f: (audio: Record<string, unknown>) => void): void => {
      const info = JSON.parse(good) as { features: Record<string, Record<string, unknown>> };
      f(info.features[AUDIO_KEY] as Record<string, unknown>);
      writeFileSync(file, JSON.stringify(info));
    };
    const issues = async (): Promise<string[]> => {
      const err = await Dataset.open(root).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      return (err as ValidationError).issues.map((i) => `${i.path}: ${i.received}`);
    };
    edit((a) => (a["dtype"] = "float64"));
    expect(await issues()).toEqual(['features.observation.audio.dtype: "float64"']);
    edit((a) => (a["shape"] = [5, 1]));
    expect(await issues()).toEqual(["features.observation.audio.shape: [5,1]"]);
    edit((a) => (a["info"] = { "audio.sample_rate": 48000, "audio.channels": 1 }));
    expect(await issues()).toEqual(["features.observation.audio.info.audio.sample_rate: 48000"]);
    edit((a) => delete a["info"]);
    expect(await issues()).toEqual([
      "features.observation.audio.info.audio.sample_rate: nothing (missing)",
      "features.observation.audio.info.audio.channels: nothing (missing)",
    ]);
    expect((await validateDataset(root)).ok).toBe(false);
    writeFileSync(file, good);
    expect((await validateDataset(root)).ok).toBe(true);
  });

  it("stored rows of another length than info.json declares: the reader and validate name the row and column", async () => {
    const root = await writeFixture(1, { spec: AUDIO_SPEC });
    const file = join(root, "meta/info.json");
    const info = JSON.parse(readFileSync(file, "utf8")) as { features: Record<string, { shape: number[] }> };
    (info.features[AUDIO_KEY] as { shape: number[] }).shape = [S + 1];
    writeFileSync(file, JSON.stringify(info));
    const ds = await Dataset.open(root);
    expect(ds.spec.audioSamples).toBe(S + 1);
    await expect(ds.episode(0)).rejects.toThrow(/row 0\.observation\.audio: expected 6 samples, received 5 samples/);
    const report = await validateDataset(root);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.path)).toContain("row 0.observation.audio");
    expect(report.damagedEpisodes).toEqual([0]);
  });

  it("exports data/audio to zarr with its sample rate", async () => {
    const ds = await Dataset.open(await writeFixture(2, { spec: AUDIO_SPEC }));
    const out = join(tempDir("duet-zarr-"), "demo.zarr");
    const result = await exportZarr(ds, out);
    expect(result.arrays["data/audio"]).toEqual([12, S]);
    const audio = readZarrArray(join(out, "data/audio"));
    expect([audio.shape, audio.dtype]).toEqual([[12, S], "<f4"]);
    expect(audio.data[6 * S + 4]).toBe(audioValue(1, 1, 4));
    expect(readJson(join(out, "data/audio/.zattrs"))).toEqual({
      source: AUDIO_KEY,
      sample_rate: AUDIO_SAMPLE_RATE,
      channels: 1,
    });
    const plain = join(tempDir("duet-zarr-"), "plain.zarr");
    await exportZarr(await Dataset.open(await writeFixture(1)), plain);
    expect(existsSync(join(plain, "data/audio"))).toBe(false);
  });
});

describe("recording sound from the simulator", () => {
  it("records 1600 samples per frame: silence at the reset, sound after; worker threads record the same", async () => {
    const scenario = tinyScenario();
    const out = tempDir("duet-rec-audio-");
    const r = await recordEpisodes({ job: { scenario, audio: true }, out, episodes: 1, seed: 0 });
    expect(r.recorded).toHaveLength(1);
    const ds = await Dataset.open(out);
    expect(ds.spec.audioSamples).toBe(1600);
    expect(ds.spec.audioSamples).toBe(AUDIO_SAMPLE_RATE / ds.info.fps);
    const T = r.recorded[0]?.length as number;
    expect(T).toBeGreaterThan(2);
    await ds.load();
    const samples = new Float32Array(1600);
    ds.readAudio(0, 0, samples);
    expect(samples.every((v) => v === 0)).toBe(true);
    const peaks: number[] = [];
    for (let t = 1; t < T; t++) {
      ds.readAudio(0, t, samples);
      peaks.push(samples.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    }
    // Every later frame carries at least the noise floor (1e-3 amplitude), and nothing is wildly out of range.
    expect(peaks.every((p) => p > 1e-4 && p < 10)).toBe(true);
    const ep = await ds.episode(0);
    expect(ep.audio).toHaveLength(T * 1600);
    expect((await validateDataset(out)).problems).toEqual([]);

    // The flag travels with the job to worker threads: the same bytes as one thread.
    const two = tempDir("duet-rec-audio2-");
    await recordEpisodes({ job: { scenario, audio: true }, workers: 2, out: two, episodes: 1, seed: 0 });
    const a = filesOf(out);
    const b = filesOf(two);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [path, bytes] of a) expect(b.get(path)?.equals(bytes), path).toBe(true);
  });

  it("a recording without --audio has no audio feature", async () => {
    const out = tempDir("duet-rec-noaudio-");
    await recordEpisodes({ job: { scenario: tinyScenario() }, out, episodes: 1, seed: 0 });
    const spec: DatasetSpec = (await Dataset.open(out)).spec;
    expect("audioSamples" in spec).toBe(false);
  });
});
