// Contrastive training. On a task built to be learnable (a tiny dataset written through src/data: three tasks, each
// with its own colour in the frames and its own tone in the sound), text–image training retrieves well above chance
// and sound binds to the frozen image space well above chance. On a real multi-task recording from the simulator (with
// sound), both trainers read what the recorder wrote. Datasets that cannot be used are refused with messages that say
// what to do. Every test builds or reads its own data; none depends on another's output or order.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { instructionMeanings } from "../../src/cli/clip.ts";
import { AUDIO_SAMPLE_RATE } from "../../src/core/index.ts";
import { recordEpisodes } from "../../src/runner/record/index.ts";
import { Session } from "../../src/runtime/index.ts";
import {
  trainAudioImage,
  trainTextImage,
  type InstructionMeaning,
  type RetrievalResult,
  type TextImageOptions,
} from "../../src/train/index.ts";
import { CAM, observation, tempDir, writeTinyDataset, type TinyData } from "../policy/fixtures.ts";

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

// The learnable task: episode e does task e mod 3, asked in one of two phrasings. Its frames are dominated by the
// task's colour channel (brightening with t), its sound is a tone in the task's own band (rising with t).
const TASKS = ["unscrew", "lift", "shake"];
const PHRASINGS = [
  ["unscrew the cap", "open the bottle"],
  ["lift the bottle", "raise the bottle"],
  ["shake the bottle", "rattle it"],
];
const MEANINGS = new Map<string, InstructionMeaning>(
  PHRASINGS.flatMap((ps, k) => ps.map((p): [string, InstructionMeaning] => [p, { task: TASKS[k]!, hand: null }])),
);
const SAMPLES = AUDIO_SAMPLE_RATE / 10; // one control period at the fixtures' 10 Hz
const HZ = [400, 1200, 3600];
const taskOf = (e: number): number => e % 3;
const learnable: TinyData = {
  observation: (e, t) => {
    const k = taskOf(e);
    const data = new Uint8Array(CAM * CAM * 3).map(
      (_, i) => (i % 3 === k ? 100 + 15 * t : 40) + ((i * 7 + e * 13 + t * 5) % 20),
    );
    return { ...observation(e, t), images: { front: { width: CAM, height: CAM, data } } };
  },
  action: () => 0,
  task: (e) => PHRASINGS[taskOf(e)]![Math.floor(e / 3) % 2]!,
  audio: (e, t) => {
    const hz = HZ[taskOf(e)]! * (1 + 0.1 * t);
    return Float32Array.from(
      { length: SAMPLES },
      (_, i) => 0.2 * Math.sin((2 * Math.PI * hz * (t * SAMPLES + i)) / AUDIO_SAMPLE_RATE),
    );
  },
};

/** Tiny encoders and a short seeded run (18 episodes: 12 trained on, 6 held out). */
const TINY_CLIP = {
  steps: 80,
  batch: 8,
  lr: 3e-3,
  seed: 0,
  valShare: 0.34,
  image: { patch: 4, dim: 16, depth: 1, heads: 2, featureDim: 16 },
  text: { maxTokens: 32, dim: 16, depth: 1, heads: 2, featureDim: 16 },
} satisfies Partial<TextImageOptions>;
const TINY_BIND = {
  windowSteps: 5,
  steps: 80,
  batch: 8,
  lr: 3e-3,
  seed: 0,
  valShare: 0.34,
  gallery: 20,
  audio: { patch: 16, dim: 16, depth: 1, heads: 2 },
};

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("contrastive training on a learnable task", () => {
  // Built once and only read by the tests: the dataset and a text–image run on it.
  const dataset = tempDir("duet-clip-data-");
  const clip = tempDir("duet-clip-");
  const losses: number[] = [];
  let result: RetrievalResult;
  beforeAll(async () => {
    await writeTinyDataset(18, 8, dataset, learnable);
    result = await trainTextImage({
      dataset,
      meanings: MEANINGS,
      out: clip,
      ...TINY_CLIP,
      onStep: (_, loss) => losses.push(loss),
    });
  }, 120_000);

  it("aligns text and images: retrieval on held-out episodes well above chance, unit-norm embedding graphs", async () => {
    expect(losses).toHaveLength(80);
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)));
    expect([result.train_episodes, result.held_out_episodes, result.gallery]).toEqual([12, 6, 6]);
    expect(result.queries).toBe(6); // every task is among the held-out episodes
    for (const k of ["text_to_image", "image_to_text"] as const) {
      expect(result[`${k}_chance`]).toBeCloseTo(1 / 3, 6); // two of six held-out episodes per task; two of six phrasings
      // a perfect run scores 1; a random one about 1/3
      expect(result[`${k}_recall_at_1`]).toBeGreaterThanOrEqual(result[`${k}_chance`] + 0.5);
    }
    expect(result.temperature).toBeGreaterThanOrEqual(0.01);
    expect(JSON.parse(readFileSync(join(clip, "result.json"), "utf8"))).toEqual(result);
    const session = await Session.create(readFileSync(join(clip, "image.onnx")));
    const emb = (
      await session.run({ images: { data: new Float32Array(2 * CAM * CAM * 3).fill(0.3), dims: [2, CAM, CAM, 3] } })
    ).embedding!.data as Float32Array;
    await session.release();
    expect(Math.hypot(...emb.subarray(0, 16))).toBeCloseTo(1, 4);
    expect(existsSync(join(clip, "text.onnx"))).toBe(true);
  });

  it("takes weight decay and gradient clipping as options, by default 0.1 and a gradient norm of 1", async () => {
    const lossesWith = async (extra: Partial<TextImageOptions>): Promise<number[]> => {
      const seen: number[] = [];
      const out = tempDir("duet-clip-");
      await trainTextImage({
        dataset,
        meanings: MEANINGS,
        out,
        ...TINY_CLIP,
        steps: 5,
        ...extra,
        onStep: (_, l) => seen.push(l),
      });
      return seen;
    };
    const defaults = await lossesWith({});
    expect(defaults).toHaveLength(5);
    expect(await lossesWith({ weightDecay: 0.1, clipNorm: 1 })).toEqual(defaults);
    expect(await lossesWith({ weightDecay: 0, clipNorm: null })).not.toEqual(defaults);
  });

  it("binds sound to the frozen image space: each held-out frame ranks high for its own sound", async () => {
    const out = tempDir("duet-bind-");
    const bindLosses: number[] = [];
    const r = await trainAudioImage({ dataset, clip, out, ...TINY_BIND, onStep: (_, loss) => bindLosses.push(loss) });
    expect(bindLosses).toHaveLength(80);
    expect(mean(bindLosses.slice(-10))).toBeLessThan(mean(bindLosses.slice(0, 10)));
    expect([r.gallery, r.chance_at_1, r.chance_at_5, r.chance_median_rank]).toEqual([20, 1 / 20, 5 / 20, 10.5]);
    // the sound names the task (a third of the gallery) and the moment: far above chance on every measure
    expect(r.audio_to_image_recall_at_1).toBeGreaterThanOrEqual(3 * r.chance_at_1);
    expect(r.audio_to_image_recall_at_5).toBeGreaterThanOrEqual(r.chance_at_5 + 0.4);
    expect(r.median_rank).toBeLessThanOrEqual(r.chance_median_rank / 2);
    expect(r.spectrogram_std).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(out, "result.json"), "utf8"))).toEqual(r);
    expect(existsSync(join(out, "audio.onnx"))).toBe(true);
  });
});

describe("contrastive training on a recording from the simulator", () => {
  it("reads a multi-task recording with sound: the scenario's instructions are its tasks, its sound binds", async () => {
    const scenario = tinyMultiTask();
    const dataset = tempDir("duet-clip-sim-");
    await recordEpisodes({ job: { scenario, audio: true }, out: dataset, episodes: 3, seed: 0 });
    const clip = tempDir("duet-clip-");
    const r = await trainTextImage({
      dataset,
      meanings: instructionMeanings(scenario),
      out: clip,
      ...TINY_CLIP,
      text: { ...TINY_CLIP.text, maxTokens: 64 }, // the scenario's longest instruction is 53 bytes
      steps: 2,
    });
    expect([r.train_episodes, r.held_out_episodes, r.gallery, r.steps]).toEqual([2, 1, 1, 2]);
    expect(Number.isFinite(r.final_loss)).toBe(true);
    const a = await trainAudioImage({ dataset, clip, out: tempDir("duet-bind-"), ...TINY_BIND, steps: 2 });
    expect([a.train_episodes, a.held_out_episodes, a.gallery, a.steps]).toEqual([2, 1, 20, 2]);
    expect(a.spectrogram_std).toBeGreaterThan(0);
  }, 120_000);
});

describe("contrastive training refuses", () => {
  it("a dataset whose tasks are not the scenario's instructions, and a scenario without tasks", async () => {
    const other = await writeTinyDataset(2, 4, tempDir("duet-clip-other-"), { ...learnable, task: () => "wave hello" });
    await expect(trainTextImage({ dataset: other, meanings: MEANINGS, out: tempDir(), steps: 1 })).rejects.toThrow(
      /episode 0's task "wave hello" is none of the scenario's instructions/,
    );
    expect(() => instructionMeanings("scenarios/bottle-cap.json")).toThrow(
      /has no task list: text–image training needs a multi-task scenario/,
    );
  });

  it("to bind sound from a dataset recorded without it", async () => {
    const { audio: _audio, ...silent } = learnable;
    const dataset = await writeTinyDataset(2, 4, tempDir("duet-silent-"), silent);
    await expect(trainAudioImage({ dataset, clip: tempDir(), out: tempDir(), steps: 1 })).rejects.toThrow(
      /has no observation.audio: record it with duet record --audio/,
    );
  });
});
