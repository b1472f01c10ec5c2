// Training configs: every preset in configs/ validates and builds its networks; bad fields are all named; the
// word-level language config reads every phrasing it may train or be benchmarked on.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PolicyNetwork, sceneIndices } from "../../src/policy/index.ts";
import { ENVIRONMENT_NAMES, allPhrasings, grammarMeanings, loadParaphrases } from "../../src/sim/index.ts";
import { tokenizerFor } from "../../src/encoders/index.ts";
import { AUDIO_SAMPLE_RATE } from "../../src/core/index.ts";
import { loadTrainConfig } from "../../src/train/index.ts";
import { tempDir } from "../policy/fixtures.ts";
import { writeFileSync } from "node:fs";

const CAMERAS = ["front", "left_wrist", "right_wrist"].map((name) => ({ name, height: 96, width: 96 }));

describe("configs/", () => {
  const files = readdirSync("configs").filter((f) => f.endsWith(".json"));
  it("has the tiny preset and the shipped models' configs", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "tiny.json",
        ...["unet", "transformer", "regression", "unet-cnn"].map((n) => `bottle-cap-${n}.json`),
      ]),
    );
  });
  for (const f of files) {
    it(`${f} validates and builds its networks for the bottle-cap cameras, scene state, sound and CLIP goals`, () => {
      const c = loadTrainConfig(join("configs", f));
      const net = new PolicyNetwork(c.policy, {
        stateDim: 16,
        actionDim: 16,
        cameras: c.policy.encoder ? CAMERAS.filter((cam) => (c.policy.cameras ?? [cam.name]).includes(cam.name)) : [],
        sceneDim: c.policy.observeScene ? sceneIndices(c.policy, ENVIRONMENT_NAMES, f).length : 0,
        ...(c.policy.audio && { audioSamples: AUDIO_SAMPLE_RATE / 10 }),
        // a goal-embedding policy's width is its duet clip run's (64 by default)
        ...(c.policy.goal?.embedding && { goalEmbeddingDim: 64 }),
      });
      expect(net.sampleDim).toBe(16);
      expect(net.denoiserGraph().outputs.get("pred")?.shape).toEqual([1, 10, 16]);
    });
  }

  it("names every bad field of a config file", () => {
    const file = join(tempDir(), "bad.json");
    writeFileSync(
      file,
      JSON.stringify({
        policy: { inference: { actionSteps: 12 }, actionRange: "per-step", denoiser: { name: "unet", kernel: 4 } },
        train: { lr: -1, epochs: 3 },
      }),
    );
    const err = String(
      (() => {
        try {
          loadTrainConfig(file);
        } catch (e) {
          return e;
        }
      })(),
    );
    expect(err).toMatch(/bad.json: 5 invalid fields/);
    expect(err).toMatch(/policy.actionRange: expected "shared" unless actions is "relative"/);
    expect(err).toMatch(/policy.denoiser.kernel: expected an odd kernel size/);
    expect(err).toMatch(/train.lr: expected > 0, received -1/);
    expect(err).toMatch(/train: expected no unknown keys \(found epochs\)/);
    expect(err).toMatch(/policy.inference.actionSteps: expected ≤ predSteps \(10\); received 12/);
  });

  it("refuses train.augment.dropInstruction for a policy without language, and outside [0, 1)", () => {
    const errorOf = (config: object): string => {
      const file = join(tempDir(), "drop.json");
      writeFileSync(file, JSON.stringify(config));
      try {
        loadTrainConfig(file);
      } catch (e) {
        return String(e);
      }
      return "";
    };
    const language = { maxTokens: 16, dim: 8, depth: 1, heads: 2, featureDim: 8 };
    expect(errorOf({ train: { augment: { dropInstruction: 0.1 } } })).toMatch(
      /drop.json: .*\n.*train.augment.dropInstruction: expected 0 or unset for a policy without policy.language \(there is no instruction to drop\), received 0.1/,
    );
    expect(errorOf({ policy: { language }, train: { augment: { dropInstruction: 1 } } })).toMatch(
      /train.augment.dropInstruction: expected < 1/,
    );
    expect(errorOf({ policy: { language }, train: { augment: { dropInstruction: -0.1 } } })).toMatch(
      /train.augment.dropInstruction: expected >= 0/,
    );
    expect(errorOf({ policy: { language }, train: { augment: { dropInstruction: 0.1 } } })).toBe("");
  });

  it('refuses policy.language.buckets without tokens "words", and an unknown tokens, naming the field', () => {
    const errorOf = (language: object): string => {
      const file = join(tempDir(), "words.json");
      writeFileSync(file, JSON.stringify({ policy: { language: { maxTokens: 16, ...language } } }));
      try {
        loadTrainConfig(file);
      } catch (e) {
        return String(e);
      }
      return "";
    };
    const bytesOnly = /words.json: .*\n.*policy.language.buckets: expected absent unless tokens is "words"/;
    expect(errorOf({ buckets: 64 })).toMatch(bytesOnly);
    expect(errorOf({ tokens: "bytes", buckets: 64 })).toMatch(bytesOnly);
    expect(errorOf({ tokens: "subwords" })).toMatch(
      /policy.language.tokens: expected one of "bytes", "words", received "subwords"/,
    );
    expect(errorOf({ tokens: "words", buckets: 0 })).toMatch(/policy.language.buckets: expected >= 1/);
    expect(errorOf({ tokens: "words", buckets: 64 })).toBe("");
  });

  it("the word-level paraphrase config reads every phrasing the grammar trains on, and the benchmark's", () => {
    const { language } = loadTrainConfig("configs/multi-task-unet-paraphrase-words.json").policy;
    expect(language).toMatchObject({ tokens: "words", buckets: 4096, maxTokens: 40 });
    const tokenizer = tokenizerFor(language as NonNullable<typeof language>);
    const texts = [
      ...grammarMeanings().flatMap(allPhrasings),
      ...loadParaphrases("bench/paraphrases.json").groups.flatMap((g) => g.phrasings.map((p) => p.text)),
    ];
    expect(texts.length).toBeGreaterThan(60_000); // the grammar, filler included
    const unread = texts.filter((t) => {
      try {
        tokenizer.normalize(t);
        return false;
      } catch {
        return true;
      }
    });
    expect(unread).toEqual([]);
  });

  it("an unknown encoder name lists the known ones", () => {
    const c = loadTrainConfig("configs/bottle-cap-unet.json");
    expect(
      () =>
        new PolicyNetwork(
          { ...c.policy, encoder: { name: "resnet" } },
          { stateDim: 16, actionDim: 16, cameras: CAMERAS },
          "x.json",
        ),
    ).toThrow(/x.json: encoder.name "resnet" is unknown; expected one of .*"vit-small".*"cnn-small"/);
  });
});
