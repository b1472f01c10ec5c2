// Contrastive training on a tiny multi-task recording with sound (real simulator, real dataset on disk, real
// onnxruntime). Text–image: it trains, exports unit-norm embedding graphs, reports retrieval against chance; datasets
// from another scenario and scenarios without tasks are refused with messages that say what to do. Audio bound to
// the frozen image space: it trains, ranks each held-out frame for its sound; a dataset without sound is refused.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { instructionMeanings } from "../../src/cli/clip.ts";
import { recordEpisodes } from "../../src/runner/record.ts";
import { Session } from "../../src/runtime/index.ts";
import { trainAudioImage, trainTextImage } from "../../src/train/index.ts";
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

describe("contrastive training", () => {
  const scenario = tinyMultiTask();
  const dataset = tempDir("duet-clip-data-");
  const clip = tempDir("duet-clip-"); // written by the first test, read by the binding tests (run in order)
  beforeAll(async () => {
    await recordEpisodes({ job: { scenario, audio: true }, out: dataset, episodes: 6, seed: 0 });
  }, 120_000);

  it("trains both encoders, writes unit-norm embedding graphs and scores retrieval against chance", async () => {
    const out = clip;
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

  it("binds sound to the frozen image space and ranks each held-out frame for its sound", async () => {
    const out = tempDir("duet-bind-");
    const losses: number[] = [];
    const r = await trainAudioImage({
      dataset,
      clip,
      out,
      windowSteps: 5,
      steps: 20,
      batch: 8,
      lr: 1e-3,
      valShare: 0.34,
      gallery: 20,
      audio: { patch: 16, dim: 16, depth: 1, heads: 2 },
      onStep: (_, loss) => losses.push(loss),
    });
    expect(losses).toHaveLength(20);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(r.gallery).toBe(20);
    expect(r.chance_at_1).toBeCloseTo(1 / 20);
    expect(r.chance_median_rank).toBe(10.5);
    expect(r.median_rank).toBeGreaterThanOrEqual(1);
    expect(r.median_rank).toBeLessThanOrEqual(20);
    expect(r.audio_to_image_recall_at_5).toBeGreaterThanOrEqual(r.audio_to_image_recall_at_1);
    expect(r.spectrogram_std).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(out, "result.json"), "utf8"))).toEqual(r);
    expect(existsSync(join(out, "audio.onnx"))).toBe(true);
  });

  it("refuses to bind sound from a dataset recorded without it", async () => {
    const silent = tempDir("duet-silent-");
    await recordEpisodes({ job: { scenario }, out: silent, episodes: 2, seed: 0 });
    await expect(trainAudioImage({ dataset: silent, clip, out: tempDir(), steps: 1 })).rejects.toThrow(
      /has no observation.audio: record it with duet record --audio/,
    );
  });
});
