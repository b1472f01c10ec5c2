import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Dataset, exportZarr, readZarrArray } from "../../src/data/index.ts";
import {
  ENV_SPEC,
  LENGTHS,
  actionValue,
  environmentValue,
  pixel,
  stateValue,
  tempDir,
  writeFixture,
} from "./fixtures.ts";

describe("zarr export (diffusion_policy replay buffer)", () => {
  it("writes data/<key> arrays concatenated along time and meta/episode_ends, readable back", async () => {
    const root = await writeFixture(3);
    const ds = await Dataset.open(root);
    const out = join(tempDir("duet-zarr-"), "demo.zarr");
    const result = await exportZarr(ds, out);
    const N = LENGTHS.slice(0, 3).reduce((a, b) => a + b, 0);
    expect(result.frames).toBe(N);
    expect(JSON.parse(readFileSync(join(out, ".zgroup"), "utf8"))).toEqual({ zarr_format: 2 });
    expect(existsSync(join(out, "data/.zgroup"))).toBe(true);
    expect(existsSync(join(out, "meta/.zgroup"))).toBe(true);

    const ends = readZarrArray(join(out, "meta/episode_ends"));
    expect(ends.dtype).toBe("<i8");
    expect(Array.from(ends.data as BigInt64Array, Number)).toEqual([5, 12, 16]);

    const state = readZarrArray(join(out, "data/state"));
    expect([state.shape, state.dtype]).toEqual([[N, 3], "<f4"]);
    expect(state.data[12 * 3 + 2]).toBe(stateValue(2, 0, 2));
    const action = readZarrArray(join(out, "data/action"));
    expect(action.shape).toEqual([N, 4]);
    expect(action.data[6 * 4 + 3]).toBe(actionValue(1, 1, 3));
    const ts = readZarrArray(join(out, "data/timestamp"));
    expect(ts.data[6]).toBeCloseTo(0.1, 6);
    const top = readZarrArray(join(out, "data/top"));
    expect([top.shape, top.dtype]).toEqual([[N, 6, 8, 3], "|u1"]);
    expect(top.data[7 * 144 + 5]).toBe(pixel(0, 1, 2, 5));
    const zarray = JSON.parse(readFileSync(join(out, "data/top/.zarray"), "utf8")) as Record<string, unknown>;
    expect(zarray).toMatchObject({ zarr_format: 2, compressor: null, order: "C", filters: null, fill_value: 0 });

    await expect(exportZarr(ds, out)).rejects.toThrow(/already exists/);
    expect(existsSync(join(out, "data/environment_state"))).toBe(false);
  });

  it("exports the environment state as data/environment_state when the dataset has one", async () => {
    const ds = await Dataset.open(await writeFixture(2, { spec: ENV_SPEC }));
    const out = join(tempDir("duet-zarr-"), "demo.zarr");
    const result = await exportZarr(ds, out);
    expect(result.arrays["data/environment_state"]).toEqual([12, 3]);
    const env = readZarrArray(join(out, "data/environment_state"));
    expect(env.data[6 * 3 + 2]).toBe(environmentValue(1, 1, 2));
    const attrs = JSON.parse(readFileSync(join(out, "data/environment_state/.zattrs"), "utf8")) as { names: string[] };
    expect(attrs.names).toEqual(ENV_SPEC.environmentNames);
  });
});
