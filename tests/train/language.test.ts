// Language-conditioned policies (policy.language): the instruction is an input that picks between demonstrations the
// observations cannot tell apart — two instructions that differ only in which hand holds and which unscrews give the
// two modes — and what cannot be read, or paraphrased, is refused before anything trains or moves.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Observation } from "../../src/core/index.ts";
import { loadPolicy } from "../../src/policy/index.ts";
import { train, trainConfigSchema } from "../../src/train/index.ts";
import { sim } from "../../src/cli/sim.ts";
import { rephrase } from "../../src/sim/index.ts";
import { actionAt, observation, oneEpisodeConfig, simArgs, tempDir, writeTinyDataset } from "../policy/fixtures.ts";

// the same words; only the roles of the hands are swapped
const LEFT = "the left hand holds the bottle and the right hand unscrews the cap";
const RIGHT = "the right hand holds the bottle and the left hand unscrews the cap";
const LANGUAGE = { maxTokens: 72, dim: 32, depth: 1, heads: 2, featureDim: 16 };

/** Two episodes with the same observations and opposite actions; only the task text tells them apart. */
const twoTasks = {
  observation: (_e: number, t: number) => observation(0, t),
  action: (e: number, t: number, j: number) => (e === 0 ? 1 : -1) * actionAt(0, t, j),
  task: (e: number) => (e === 0 ? LEFT : RIGHT),
};

function told(o: Observation, instruction: string): Observation {
  return { ...o, instruction };
}

let dataset = "";
let model = "";
beforeAll(async () => {
  dataset = await writeTinyDataset(2, 16, tempDir("duet-lang-"), twoTasks);
  model = tempDir("duet-lang-model-");
  const config = trainConfigSchema.parse(
    // 800 steps: at 300 the byte-level encoder still averaged the two (mean error 0.33; 0.13 at 500, 0.01 at 800)
    oneEpisodeConfig({ language: LANGUAGE, scheduler: { prediction: "sample" } }, { steps: 800 }),
  );
  await train({ dataset, config, out: model });
}, 300_000);

describe("language-conditioned policy", () => {
  it("follows the instruction: the same observations give each instruction's own demonstration", async () => {
    const policy = await loadPolicy(model);
    for (const [instruction, sign] of [
      [LEFT, 1],
      [RIGHT, -1],
    ] as const) {
      const errors: number[] = [];
      for (const t of [2, 5]) {
        policy.reset(t);
        const chunk = await policy.predictChunk([
          told(observation(0, t - 1), instruction),
          told(observation(0, t), instruction),
        ]);
        for (let k = 0; k < 10; k++)
          for (let j = 0; j < 16; j++) errors.push(Math.abs(chunk.actions[k * 16 + j]! - sign * actionAt(0, t + k, j)));
      }
      // the two demonstrations are up to 1.0 apart; averaging them would be off by about 0.3 on average
      expect(errors.reduce((a, e) => a + e, 0) / errors.length).toBeLessThan(0.05);
    }
  });

  it("refuses an observation without an instruction, and one the text encoder cannot read", async () => {
    const policy = await loadPolicy(model);
    await expect(policy.predictChunk([observation(0, 4), observation(0, 5)])).rejects.toThrow(
      /carries no instruction, and this policy is language-conditioned \(config\.language\).*no action taken/,
    );
    await expect(policy.predictChunk([told(observation(0, 5), "x".repeat(80))])).rejects.toThrow(
      /is 80 UTF-8 bytes; the text encoder takes at most 70/,
    );
    await expect(policy.predictChunk([told(observation(0, 5), "left\u0007")])).rejects.toThrow(/a control character/);
  });

  it("refuses to train on a task the text encoder cannot read, naming the episode", async () => {
    const long = await writeTinyDataset(2, 16, tempDir("duet-lang-long-"), {
      ...twoTasks,
      task: (e) => (e === 1 ? `${RIGHT} and then ${RIGHT}` : LEFT),
    });
    const config = trainConfigSchema.parse(oneEpisodeConfig({ language: LANGUAGE }, { steps: 2 }));
    await expect(train({ dataset: long, config, out: tempDir("duet-lang-refused-") })).rejects.toThrow(
      /meta\/episodes episode 1 task: expected an instruction the text encoder reads \(policy\.language\.maxTokens 72\), received instruction .* is 142 UTF-8 bytes/,
    );
  });

  it("paraphrases only what the grammar knows, for a language-conditioned policy, naming the episode", async () => {
    const odd = await writeTinyDataset(2, 16, tempDir("duet-lang-odd-"), {
      ...twoTasks,
      task: (e) => (e === 1 ? "dance with the bottle" : LEFT),
    });
    const paraphrased = (policy: object) =>
      trainConfigSchema.parse(oneEpisodeConfig(policy, { steps: 2, augment: { paraphrase: 0.5 } }));
    const out = () => tempDir("duet-lang-paraphrase-");
    await expect(
      train({ dataset: odd, config: paraphrased({ language: LANGUAGE }), out: out(), rephrase }),
    ).rejects.toThrow(
      /1 training episode\(s\) have an instruction the grammar cannot rephrase[\s\S]*meta\/episodes episode 1 task: expected an instruction the paraphrase grammar knows .*received "dance with the bottle"/,
    );
    await expect(train({ dataset, config: paraphrased({}), out: out(), rephrase })).rejects.toThrow(
      /train\.augment\.paraphrase: expected 0 for a policy without policy\.language, received 0\.5/,
    );
    await expect(train({ dataset, config: paraphrased({ language: LANGUAGE }), out: out() })).rejects.toThrow(
      /train\.augment\.paraphrase is on, but no paraphrase grammar was given/,
    );
  });

  it("trains with train.augment.dropInstruction: at 0 the same weights as without it, above 0 others", async () => {
    const weights = async (augment: object): Promise<Buffer[]> => {
      const out = tempDir("duet-lang-drop-");
      const config = trainConfigSchema.parse(oneEpisodeConfig({ language: LANGUAGE }, { steps: 3, augment }));
      await train({ dataset, config, out });
      return ["encoder.onnx", "denoiser.onnx"].map((f) => readFileSync(join(out, f)));
    };
    const without = await weights({});
    expect(await weights({ dropInstruction: 0 })).toEqual(without);
    expect(await weights({ dropInstruction: 0.5 })).not.toEqual(without);
  });

  it('reads hashed words with policy.language.tokens "words": trains, says so in model.json, runs them', async () => {
    // LEFT is 13 words, 67 bytes: over what a byte-level encoder of 16 tokens takes, within the word-level one's 14
    const words = { ...LANGUAGE, maxTokens: 16, tokens: "words", buckets: 64 };
    const out = tempDir("duet-lang-words-");
    await train({ dataset, config: trainConfigSchema.parse(oneEpisodeConfig({ language: words }, { steps: 3 })), out });
    const saved = JSON.parse(readFileSync(join(out, "model.json"), "utf8")) as { config: { language: object } };
    expect(saved.config.language).toEqual({ ...words, mlpRatio: 4 });
    const policy = await loadPolicy(out);
    const chunk = await policy.predictChunk([told(observation(0, 4), LEFT), told(observation(0, 5), LEFT)]);
    expect(chunk.actions.every(Number.isFinite)).toBe(true);
    const fifteen = "a b c d e f g h i j k l m n o";
    await expect(policy.predictChunk([told(observation(0, 5), fifteen)])).rejects.toThrow(
      /"a b c d e f g h i j k l m n o" is 15 words; the text encoder takes at most 14 \(maxTokens 16/,
    );
    const args = simArgs({ scenario: "scenarios/multi-task.json", policy: out, instruction: fifteen, task: "unscrew" });
    await expect(sim(args)).rejects.toThrow(/is 15 words; .*\(the default, 130, takes 128 words\)/);
  });

  it("duet sim --instruction refuses a policy trained without instructions", async () => {
    const plain = tempDir("duet-plain-");
    await train({
      dataset,
      config: trainConfigSchema.parse(oneEpisodeConfig({}, { steps: 2 })),
      out: plain,
    });
    const args = simArgs({ scenario: "scenarios/multi-task.json", policy: plain, instruction: "unscrew the cap" });
    await expect(sim(args)).rejects.toThrow(/does not read instructions \(its policy\.language is null/);
  });
});
