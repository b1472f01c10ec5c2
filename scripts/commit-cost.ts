// What committing an episode costs the recording's main thread as the open data file grows: DatasetWriter.addEpisode
// of synthetic episodes the size of the bench's (160 frames, 16 state and action values, three cameras of
// --png-bytes each: 812 KB an episode in `npm run bench -- record`), timed one by one. Every commit rewrites the open
// data file (src/data/writer.ts), so the time grows with the episodes already in it.
//
//   node --import tsx scripts/commit-cost.ts [--episodes 40] [--png-bytes 1690]
//
// Prints one JSON object: { episodes, png_bytes, commit_ms: [...] }.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DatasetWriter, type EpisodeRecord } from "../src/data/index.ts";
import { ImageStatsAccumulator } from "../src/data/stats.ts";

const { values } = parseArgs({
  options: { episodes: { type: "string", default: "40" }, "png-bytes": { type: "string", default: "1690" } },
});
const episodes = Number(values.episodes);
const pngBytes = Number(values["png-bytes"]);
for (const [name, v] of [
  ["--episodes", episodes],
  ["--png-bytes", pngBytes],
] as const) {
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${name}: expected an integer ≥ 1, got ${v}`);
}
const T = 160;
const cameras = ["front", "left_wrist", "right_wrist"];
const names = (p: string) => Array.from({ length: 16 }, (_, i) => `${p}${i}`);
const spec = {
  fps: 10,
  robotType: "bench",
  stateNames: names("s"),
  actionNames: names("a"),
  cameras: cameras.map((name) => ({ name, height: 96, width: 96 })),
};
const pixels = new ImageStatsAccumulator();
pixels.add(new Uint8Array(96 * 96 * 3).map((_, i) => i % 251));
const imageStats = pixels.finish(T);
const root = mkdtempSync(join(tmpdir(), "duet-commit-cost-"));
try {
  const writer = await DatasetWriter.open(join(root, "dataset"), { spec });
  const times: number[] = [];
  for (let e = 0; e < episodes; e++) {
    const ep: EpisodeRecord = {
      length: T,
      state: new Float32Array(T * 16).map((_, i) => Math.sin(i + e)),
      action: new Float32Array(T * 16).map((_, i) => Math.cos(i + e)),
      images: Object.fromEntries(
        cameras.map((c) => [c, Array.from({ length: T }, (_, t) => new Uint8Array(pngBytes).fill((t + e) % 256))]),
      ),
      imageStats: Object.fromEntries(cameras.map((c) => [c, imageStats])),
      task: "bench",
      success: true,
      mode: "left",
      seed: e,
    };
    const start = performance.now();
    writer.addEpisode(ep);
    times.push(Math.round(performance.now() - start));
    process.stderr.write(`episode ${e + 1}/${episodes}: ${times.at(-1)} ms\n`);
  }
  writer.close();
  process.stdout.write(JSON.stringify({ episodes, png_bytes: pngBytes, commit_ms: times }) + "\n");
} finally {
  rmSync(root, { recursive: true, force: true });
}
