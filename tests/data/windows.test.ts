import { describe, expect, it } from "vitest";
import { Dataset, WindowSampler, splitEpisodes } from "../../src/data/index.ts";
import { LENGTHS, actionValue, pixel, stateValue, writeFixture } from "./fixtures.ts";

describe("training windows", () => {
  it("gives To observation and Tp action steps, edge-padded with pad masks, one window per frame", async () => {
    const root = await writeFixture(3);
    const ds = await Dataset.open(root);
    const sampler = await WindowSampler.create(ds, { obsSteps: 2, actionSteps: 4, episodes: [0, 2] });
    expect(sampler.length).toBe((LENGTHS[0] as number) + (LENGTHS[2] as number));
    const out = sampler.createBuffers();
    // Window 0: anchor frame 0 of episode 0 → o[-1] padded with o[0].
    sampler.fill(0, out);
    expect([out.episode, out.frame]).toEqual([0, 0]);
    expect(Array.from(out.statePad)).toEqual([1, 0]);
    expect(Array.from(out.state)).toEqual([0, 1, 2, 0, 1, 2].map((j) => stateValue(0, 0, j)));
    expect(Array.from(out.actionPad)).toEqual([0, 0, 0, 0]);
    expect(out.action[4]).toBe(actionValue(0, 1, 0));
    // Last window of episode 2 (length 4): anchor 3, actions 3,4,5,6 → 4..6 padded with a[3].
    const last = LENGTHS[0] as number; // first window of episode 2
    sampler.fill(last + 3, out);
    expect([out.episode, out.frame]).toEqual([2, 3]);
    expect(Array.from(out.statePad)).toEqual([0, 0]);
    expect(out.state[0]).toBe(stateValue(2, 2, 0));
    expect(out.state[3]).toBe(stateValue(2, 3, 0));
    expect(Array.from(out.actionPad)).toEqual([0, 1, 1, 1]);
    for (let k = 0; k < 4; k++) expect(out.action[k * 4 + 1]).toBe(actionValue(2, 3, 1));
    // Images follow the observation steps (camera "wrist" = index 1; frame 2 then frame 3).
    const wrist = out.images["wrist"] as Uint8Array;
    const size = 4 * 5 * 3;
    expect(wrist[0]).toBe(pixel(1, 2, 2, 0));
    expect(wrist[size + 10]).toBe(pixel(1, 2, 3, 10));
    expect(() => sampler.fill(sampler.length, out)).toThrow(RangeError);
  });

  it("carries only the cameras asked for; an unknown camera is refused", async () => {
    const root = await writeFixture(1);
    const ds = await Dataset.open(root);
    const wristOnly = await WindowSampler.create(ds, { cameras: ["wrist"] });
    const out = wristOnly.fill(1, wristOnly.createBuffers());
    expect(Object.keys(out.images)).toEqual(["wrist"]);
    expect((out.images["wrist"] as Uint8Array)[0]).toBe(pixel(1, 0, 0, 0));
    const none = await WindowSampler.create(ds, { cameras: [] });
    expect(none.fill(0, none.createBuffers()).images).toEqual({});
    await expect(WindowSampler.create(ds, { cameras: ["front"] })).rejects.toThrow(
      /camera "front" is not one of the dataset.s \(top, wrist\)/,
    );
  });

  it("limits action padding when asked (Diffusion Policy's pad_after)", async () => {
    const root = await writeFixture(1);
    const ds = await Dataset.open(root);
    const sampler = await WindowSampler.create(ds, { obsSteps: 2, actionSteps: 4, maxActionPad: 1 });
    // Length 5, Tp 4, at most 1 padded step → anchors 0..2.
    expect(sampler.length).toBe(3);
    const out = sampler.fill(2, sampler.createBuffers());
    expect(Array.from(out.actionPad)).toEqual([0, 0, 0, 1]);
  });

  it("splits episodes into train and validation by a seeded shuffle", () => {
    const a = splitEpisodes(20, { valFraction: 0.2, seed: 3 });
    expect(a.val).toHaveLength(4);
    expect([...a.train, ...a.val].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(splitEpisodes(20, { valFraction: 0.2, seed: 3 })).toEqual(a);
    expect(splitEpisodes(20, { valFraction: 0.2, seed: 4 }).val).not.toEqual(a.val);
    expect(splitEpisodes(1, { valFraction: 0.5, seed: 1 })).toEqual({ train: [0], val: [] });
  });
});
