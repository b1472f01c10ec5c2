import { describe, expect, it } from "vitest";
import { Dataset, validateDataset, vectorStats } from "../../src/data/index.ts";
import { LENGTHS, SPEC, actionValue, pixel, stateValue, writeFixture } from "./fixtures.ts";

describe("dataset round trip", () => {
  it("reads back states, actions, images and timestamps exactly as recorded", async () => {
    const root = await writeFixture(4);
    const ds = await Dataset.open(root);
    expect(ds.episodes.map((e) => e.length)).toEqual(LENGTHS);
    expect(ds.totalFrames).toBe(LENGTHS.reduce((a, b) => a + b, 0));
    expect(ds.tasks).toEqual(["unscrew the cap", "other task"]);
    for (let e = 0; e < 4; e++) {
      const ep = await ds.episode(e);
      const T = LENGTHS[e] as number;
      expect(ep.meta).toMatchObject({
        episodeIndex: e,
        length: T,
        success: e % 2 === 0,
        mode: e % 2 === 0 ? "left" : "right",
        seed: 1000 + e,
      });
      expect(Array.from(ep.state)).toEqual(
        Array.from({ length: T * 3 }, (_, k) => stateValue(e, Math.floor(k / 3), k % 3)),
      );
      expect(Array.from(ep.action)).toEqual(
        Array.from({ length: T * 4 }, (_, k) => actionValue(e, Math.floor(k / 4), k % 4)),
      );
      for (let t = 0; t < T; t++) {
        // Timestamps are 1/fps apart within 1e-4 s.
        expect(Math.abs((ep.timestamp[t] as number) - t / SPEC.fps)).toBeLessThan(1e-4);
      }
      SPEC.cameras.forEach((cam, c) => {
        const frames = ep.images[cam.name] ?? [];
        expect(frames).toHaveLength(T);
        frames.forEach((f, t) => {
          expect([f.width, f.height]).toEqual([cam.width, cam.height]);
          expect(Array.from(f.data)).toEqual(
            Array.from({ length: cam.width * cam.height * 3 }, (_, i) => pixel(c, e, t, i)),
          );
        });
      });
    }
  });

  it("stores statistics computed at write time and reads them back", async () => {
    const root = await writeFixture(3);
    const ds = await Dataset.open(root);
    const stats = ds.stats();
    const n = LENGTHS.slice(0, 3).reduce((a, b) => a + b, 0);
    const states: number[] = [];
    for (let e = 0; e < 3; e++)
      for (let t = 0; t < (LENGTHS[e] as number); t++) for (let j = 0; j < 3; j++) states.push(stateValue(e, t, j));
    const direct = vectorStats(states, n, 3);
    const s = stats["observation.state"];
    expect(s?.count).toBe(n);
    for (const k of ["min", "max", "mean", "std"] as const) {
      s?.[k].forEach((v, j) => expect(v).toBeCloseTo(direct[k][j] as number, 9));
    }
    // Quantiles are aggregated per episode (LeRobot's method): monotone and inside [min, max].
    for (let j = 0; j < 3; j++) {
      const q = [s?.q01[j], s?.q10[j], s?.q50[j], s?.q90[j], s?.q99[j]] as number[];
      expect([...q].sort((a, b) => a - b)).toEqual(q);
      expect(q[0]).toBeGreaterThanOrEqual(s?.min[j] as number);
      expect(q[4]).toBeLessThanOrEqual(s?.max[j] as number);
    }
    const img = stats["observation.images.top"];
    expect(img?.mean).toHaveLength(3);
    expect(img?.min.every((v) => v >= 0)).toBe(true);
    expect(img?.max.every((v) => v <= 1)).toBe(true);
    expect(stats["timestamp"]?.max[0]).toBeCloseTo(0.6, 6);
    const report = await validateDataset(root);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it("splits episodes across data files when a file reaches its size limit", async () => {
    const root = await writeFixture(4, { dataFileSizeMb: 0.001 });
    const ds = await Dataset.open(root);
    const files = new Set(ds.episodes.map((e) => ds.dataFileOf(e.episodeIndex)));
    expect(files.size).toBeGreaterThan(1);
    const ep = await ds.episode(3);
    expect(ep.state[0]).toBe(stateValue(3, 0, 0));
    expect((await validateDataset(root)).ok).toBe(true);
  });
});
