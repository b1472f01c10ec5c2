// CLIP-style text–image training on a tiny multi-task recording (real simulator, real dataset on disk, real
// onnxruntime): it trains, exports unit-norm embedding graphs, reports retrieval against chance; datasets from
// another scenario and scenarios without tasks are refused with messages that say what to do.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { instructionMeanings } from "../../src/cli/clip.ts";
import { recordEpisodes } from "../../src/runner/record.ts";
import { Session } from "../../src/runtime/index.ts";
import { trainTextImage } from "../../src/train/index.ts";
import { tempDir } from "../data/fixtures.ts";
import { tinyScenario } from "../runner/recordFixtures.ts";

/** scenarios/multi-task.json with 16×16 cameras. */
function tinyMultiTask(): string {
  const s = JSON.parse(readFileSync("scenarios/multi-task.json", "utf8")) as {
    robot: string;
    cameras: { width: number; height: number }[];
  };
  s.robot = resolve("robots/panda-pair.json");
  for (const c of s.cameras) c.width = c.height = 16;
  const file = join(mkdtempSync(join(tmpdir(), "duet-scn-")), "multi.json");
  writeFileSync(file, JSON.stringify(s));
  return file;
}

describe("text–image training", () => {
  const scenario = tinyMultiTask();
  const dataset = tempDir("duet-clip-data-");
  beforeAll(async () => {
    await recordEpisodes({ job: { scenario }, out: dataset, episodes: 6, seed: 0 });
  }, 120_000);

  it("trains both encoders, writes unit-norm embedding graphs and scores retrieval against chance", async () => {
    const out = tempDir("duet-clip-");
    const losses: number[] = [];
    const r = await trainTextImage({
      dataset,
      meanings: instructionMeanings(scenario),
      out,
      steps: 30,
      batch: 8,
      lr: 1e-3,
      valShare: 0.34,
      image: { patch: 4, dim: 16, depth: 1, heads: 2, featureDim: 16 },
      text: { maxTokens: 64, dim: 16, depth: 1, heads: 2, featureDim: 16 },
      onStep: (_, loss) => losses.push(loss),
    });
    expect(losses).toHaveLength(30);
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(losses.slice(0, 5).reduce((a, b) => a + b) / 5);
    expect(r.train_episodes + r.held_out_episodes).toBe(6);
    expect(r.gallery).toBe(r.held_out_episodes);
    for (const k of ["text_to_image", "image_to_text"] as const) {
      expect(r[`${k}_recall_at_1`]).toBeGreaterThanOrEqual(0);
      expect(r[`${k}_recall_at_1`]).toBeLessThanOrEqual(1);
      expect(r[`${k}_chance`]).toBeGreaterThan(0);
      expect(r[`${k}_chance`]).toBeLessThanOrEqual(1);
    }
    expect(r.temperature).toBeGreaterThanOrEqual(0.01);
    expect(JSON.parse(readFileSync(join(out, "result.json"), "utf8"))).toEqual(r);
    const session = await Session.create(readFileSync(join(out, "image.onnx")));
    const emb = (
      await session.run({ images: { data: new Float32Array(2 * 16 * 16 * 3).fill(0.3), dims: [2, 16, 16, 3] } })
    ).embedding!.data as Float32Array;
    await session.release();
    expect(Math.hypot(...emb.subarray(0, 16))).toBeCloseTo(1, 4);
    expect(existsSync(join(out, "text.onnx"))).toBe(true);
  });

  it("refuses a dataset whose tasks are not the scenario's instructions, and a scenario without tasks", async () => {
    const single = tempDir("duet-clip-single-");
    await recordEpisodes({ job: { scenario: tinyScenario() }, out: single, episodes: 2, seed: 0 });
    await expect(
      trainTextImage({ dataset: single, meanings: instructionMeanings(scenario), out: tempDir(), steps: 1 }),
    ).rejects.toThrow(/episode 0's task "unscrew the bottle cap" is none of the scenario's instructions/);
    expect(() => instructionMeanings("scenarios/bottle-cap.json")).toThrow(
      /has no task list: text–image training needs a multi-task scenario/,
    );
  });
});
