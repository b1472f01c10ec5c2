// Hearing policies (policy.audio) and privileged policies that read only some scene entries (policy.sceneEntries):
// the sound is an input that picks between demonstrations the other observations cannot tell apart, the training
// windows' spectrograms are those the runtime computes, and what cannot be heard or read is refused.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { AUDIO_SAMPLE_RATE, Rng, type Observation } from "../../src/core/index.ts";
import { loadPolicy, readPolicyModel } from "../../src/policy/index.ts";
import { prepareJob } from "../../src/runner/rollout/index.ts";
import { trainedPolicy } from "../../src/runner/deploy/index.ts";
import { createEnv } from "../../src/sim/index.ts";
import { train, trainConfigSchema } from "../../src/train/index.ts";
import { EpisodeSound, SoundWindow } from "../../src/encoders/index.ts";
import { actionAt, observation, oneEpisodeConfig, tempDir, writeTinyDataset } from "../policy/fixtures.ts";

const SAMPLES = AUDIO_SAMPLE_RATE / 10; // one control period at the fixtures' 10 Hz
const AUDIO = { window: 3, patch: 8, dim: 16, depth: 1, heads: 2, featureDim: 8 };

/** A period of a tone at `hz` (the phase runs on across periods). */
function tone(hz: number, t: number): Float32Array {
  return Float32Array.from(
    { length: SAMPLES },
    (_, i) => 0.2 * Math.sin((2 * Math.PI * hz * (t * SAMPLES + i)) / AUDIO_SAMPLE_RATE),
  );
}
const HZ = [500, 3000];

/** Two episodes with the same observations and opposite actions; only the sound tells them apart. */
const twoSounds = {
  observation: (_e: number, t: number) => observation(0, t),
  action: (e: number, t: number, j: number) => (e === 0 ? 1 : -1) * actionAt(0, t, j),
  audio: (e: number, t: number) => tone(HZ[e] as number, t),
};

const heard = (e: number, t: number): Observation => ({ ...observation(0, t), audio: tone(HZ[e] as number, t) });

describe("sound windows", () => {
  it("an episode's spectrogram, sliced per frame, is each window's own (the first period repeated before the start)", () => {
    const window = new SoundWindow(3, SAMPLES, 8);
    expect([window.frames, window.rows, window.mels]).toEqual([28, 24, 64]);
    const rng = new Rng(3);
    const T = 6;
    const audio = Float32Array.from({ length: T * SAMPLES }, () => 0.1 * rng.normal());
    const episode = new EpisodeSound(window, audio);
    const direct = new Float32Array(window.size);
    for (const t of [0, 1, 2, 5]) {
      for (let k = 0; k < 3; k++) {
        const f = Math.max(0, t - 2 + k);
        window.wave.set(audio.subarray(f * SAMPLES, (f + 1) * SAMPLES), k * SAMPLES);
      }
      window.write(direct);
      const sliced = episode.rows(t);
      let worst = 0;
      for (let i = 0; i < direct.length; i++) worst = Math.max(worst, Math.abs(direct[i]! - sliced[i]!));
      expect(worst).toBeLessThan(1e-4);
    }
  });

  it("refuses a window too short for the encoder's patch", () => {
    expect(() => new SoundWindow(1, 400, 16)).toThrow(
      /give 1 spectrogram frames, fewer than the 16 the encoder's patch needs/,
    );
  });
});

let model = "";
beforeAll(async () => {
  const dataset = await writeTinyDataset(2, 16, tempDir("duet-hear-"), twoSounds);
  model = tempDir("duet-hear-model-");
  const config = trainConfigSchema.parse(
    oneEpisodeConfig({ audio: AUDIO, scheduler: { prediction: "sample" } }, { steps: 300 }),
  );
  await train({ dataset, config, out: model });
}, 300_000);

describe("hearing policy", () => {
  it("follows the sound: the same observations give each sound's own demonstration", async () => {
    const policy = await loadPolicy(model);
    expect(policy.historySteps).toBe(3);
    expect(readPolicyModel(model).normalizer.audio?.std).toBeGreaterThan(0);
    for (const [e, sign] of [
      [0, 1],
      [1, -1],
    ] as const) {
      const errors: number[] = [];
      for (const t of [2, 5]) {
        policy.reset(t);
        const chunk = await policy.predictChunk([heard(e, t - 2), heard(e, t - 1), heard(e, t)]);
        for (let k = 0; k < 10; k++)
          for (let j = 0; j < 16; j++) errors.push(Math.abs(chunk.actions[k * 16 + j]! - sign * actionAt(0, t + k, j)));
      }
      // the two demonstrations are up to 1.0 apart; averaging them would be off by about 0.3 on average
      expect(errors.reduce((a, x) => a + x, 0) / errors.length).toBeLessThan(0.05);
    }
  });

  it("duet sim runs it with the simulator's contact sound and the history its sound window needs", async () => {
    const scenario = JSON.parse(readFileSync("scenarios/bottle-cap.json", "utf8")) as Record<string, unknown>;
    Object.assign(scenario, { robot: resolve("robots/panda-pair.json"), time_limit_s: 2 });
    const file = join(tempDir("duet-hear-scenario-"), "short.json");
    writeFileSync(file, JSON.stringify(scenario));
    expect((await prepareJob({ scenario: file, policy: model, cameras: false })(0)).steps).toBe(20);
    // rollouts hand a policy the history it asks for: To = 2 here, but 3 periods of sound
    expect(trainedPolicy(model, createEnv(file, { cameras: false, audio: true })).historySteps).toBe(3);
  });

  it("refuses an observation without sound, with another period length, or with a non-finite sample", async () => {
    const policy = await loadPolicy(model);
    await expect(policy.predictChunk([observation(0, 4), heard(0, 5)])).rejects.toThrow(
      /observation t-1 has no audio, expected 1600 \(one control period at 16000 Hz\): this policy hears \(config\.audio\).*no action taken/,
    );
    const short = { ...heard(0, 5), audio: new Float32Array(800) };
    await expect(policy.predictChunk([heard(0, 4), short])).rejects.toThrow(
      /observation t-0 has 800 audio samples, expected 1600/,
    );
    const nan = heard(0, 5);
    nan.audio![7] = Number.NaN;
    await expect(policy.predictChunk([heard(0, 4), nan])).rejects.toThrow(
      /observation t-0 audio sample 7 is NaN; no action taken/,
    );
  });

  it("refuses a hearing model whose control rate does not divide the audio rate", () => {
    const dir = tempDir("duet-hear-fps-");
    cpSync(model, dir, { recursive: true });
    const file = join(dir, "model.json");
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), fps: 30 }));
    expect(() => readPolicyModel(dir)).toThrow(
      /fps: expected a divisor of 16000 \(config\.audio: a whole number of sound samples per control period\); found 30/,
    );
  });

  it("refuses to train on a dataset without sound", async () => {
    const silent = await writeTinyDataset(1, 16, tempDir("duet-deaf-"));
    const config = trainConfigSchema.parse(oneEpisodeConfig({ audio: AUDIO }, { steps: 2 }));
    await expect(train({ dataset: silent, config, out: tempDir("duet-deaf-model-") })).rejects.toThrow(
      /policy\.audio: expected null, or a dataset with observation\.audio of 1600 samples per frame \(duet record --audio\), received a dataset without sound/,
    );
  });
});

describe("scene entries", () => {
  const scene = {
    observation: (e: number, t: number) => observation(e, t),
    action: actionAt,
    environment: (e: number, t: number) => [e, t / 16, -t / 16],
  };

  it("a privileged policy reads only the named entries of the scene state it is given whole", async () => {
    const dataset = await writeTinyDataset(2, 16, tempDir("duet-entries-"), scene);
    const out = tempDir("duet-entries-model-");
    const config = trainConfigSchema.parse(
      oneEpisodeConfig({ observeScene: true, sceneEntries: ["scene_2", "scene_0"] }, { steps: 2 }),
    );
    await train({ dataset, config, out });
    const m = readPolicyModel(out);
    expect(m.environmentNames).toEqual(["scene_0", "scene_1", "scene_2"]);
    const policy = await loadPolicy(out);
    const at = (scene: number[]): Observation => ({ ...observation(0, 5), environmentState: Float32Array.from(scene) });
    const chunk = async (scene: number[]): Promise<number[]> => {
      policy.reset(1);
      return [...(await policy.predictChunk([at(scene), at(scene)])).actions];
    };
    const base = await chunk([0, 0.3, -0.3]);
    expect(base.every(Number.isFinite)).toBe(true);
    expect(await chunk([0, 0.9, -0.3])).toEqual(base); // scene_1 is not read
    expect(await chunk([0, 0.3, -0.9])).not.toEqual(base); // scene_2 is
    expect(await chunk([1, 0.3, -0.3])).not.toEqual(base); // and scene_0
  });

  it("refuses an entry the dataset's scene state lacks, and entries without observeScene", async () => {
    const dataset = await writeTinyDataset(1, 16, tempDir("duet-entries-bad-"), scene);
    const config = trainConfigSchema.parse(
      oneEpisodeConfig({ observeScene: true, sceneEntries: ["scene_0", "cap_x"] }, { steps: 2 }),
    );
    await expect(train({ dataset, config, out: tempDir("duet-entries-bad-model-") })).rejects.toThrow(
      /policy\.sceneEntries\.1: expected an entry of the dataset's scene state \(scene_0, scene_1, scene_2\), received "cap_x"/,
    );
    expect(() => trainConfigSchema.parse(oneEpisodeConfig({ sceneEntries: ["scene_0"] }, { steps: 2 }))).toThrow(
      /null unless observeScene is true/,
    );
  });
});
