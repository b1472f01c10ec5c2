// Pictures of episodes: GIF frames decode with the expected count and size, PNG stills, bad input.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GifReader } from "omggif";
import { describe, expect, it } from "vitest";
import { decodePng } from "../../src/core/index.ts";
import { loadScenario } from "../../src/sim/index.ts";
import { loadReplayWithChunks } from "../../src/runner/replay/index.ts";
import { episodeGif, episodePng, gifFrameIndices } from "../../src/viewer/index.ts";
import { exportMedia } from "../../src/cli/view.ts";
import { SCENARIO_FILE, tempDir, writeFixtureReplay } from "./fixtures.ts";

const file = writeFixtureReplay({ steps: 5 });
const replay = loadReplayWithChunks(file);

function frameRgba(gif: GifReader, k: number): Uint8Array {
  const out = new Uint8Array(gif.width * gif.height * 4);
  gif.decodeAndBlitFrameRGBA(k, out);
  return out;
}

describe("episode GIF", () => {
  it("has one frame per stride step plus the last, at the requested size, and shows the motion", () => {
    expect(replay.poses.length).toBe(6);
    expect(gifFrameIndices(6, 2)).toEqual([0, 2, 4, 5]);
    const gif = new GifReader(Buffer.from(episodeGif(replay, { size: 48, stride: 2 })));
    expect([gif.numFrames(), gif.width, gif.height]).toEqual([4, 48, 48]);
    expect(gif.frameInfo(0).delay).toBe(20); // 2 frames at 10 Hz = 200 ms = 20 centiseconds
    const first = frameRgba(gif, 0);
    const last = frameRgba(gif, 3);
    const colours = new Set<number>();
    for (let i = 0; i < first.length; i += 4) colours.add((first[i]! << 16) | (first[i + 1]! << 8) | first[i + 2]!);
    expect(colours.size).toBeGreaterThan(8); // not blank
    let changed = 0;
    for (let i = 0; i < first.length; i += 4) if (first[i] !== last[i] || first[i + 1] !== last[i + 1]) changed++;
    expect(changed).toBeGreaterThan(20); // the arms moved
  });

  it("renders a scenario camera view with that camera's aspect", () => {
    const cameras = loadScenario(SCENARIO_FILE).cameras;
    const gif = new GifReader(Buffer.from(episodeGif(replay, { size: 32, view: "left_wrist", cameras })));
    expect([gif.numFrames(), gif.width, gif.height]).toEqual([6, 32, 32]);
  });

  it("rejects an unknown view, naming the ones available", () => {
    expect(() => episodeGif(replay, { view: "top", cameras: loadScenario(SCENARIO_FILE).cameras })).toThrow(
      'view "top": expected one of 3d, front, left_wrist, right_wrist',
    );
    expect(() => episodeGif(replay, { size: 4 })).toThrow("size: expected an integer from 8 to 2048, received 4");
  });
});

describe("duet view --gif / --png", () => {
  const base = { port: 0, resume: false, seed: 0, view: "3d", size: 40, stride: 1, speed: 1 };

  it("writes a PNG still of the requested frame and a GIF of the whole episode", async () => {
    const dir = tempDir("media");
    const png = join(dir, "docs", "sim.png");
    exportMedia(file, { ...base, png, frame: 2 });
    const still = decodePng(readFileSync(png));
    expect([still.width, still.height]).toEqual([40, 40]);
    expect(Buffer.from(still.data).equals(decodePng(episodePng(replay, { size: 40, frame: 2 })).data)).toBe(true);
    const gifFile = join(dir, "rollout.gif");
    exportMedia(file, { ...base, gif: gifFile, view: "front", scenario: SCENARIO_FILE });
    const gif = new GifReader(readFileSync(gifFile));
    expect([gif.numFrames(), gif.width, gif.height]).toEqual([6, 40, 40]);
  });

  it("reports a missing or corrupt episode file by name", async () => {
    const dir = tempDir("bad");
    expect(() => exportMedia(join(dir, "nope.json"), { ...base, gif: join(dir, "x.gif") })).toThrow(
      `${join(dir, "nope.json")}: cannot read file (ENOENT)`,
    );
    const corrupt = join(dir, "episode_1.json");
    writeFileSync(corrupt, '{"version": 1, "poses": [');
    expect(() => exportMedia(corrupt, { ...base, gif: join(dir, "x.gif") })).toThrow(`${corrupt}: invalid JSON`);
  });
});
