// Training batches: train.augment.dropInstruction gives the expected share of training windows the null instruction
// (classifier-free guidance's condition dropout), none of the validation windows, and leaves the batches of a config
// without it, or with 0, bit for bit as they were.
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.ts";
import { Dataset, WindowSampler } from "../../src/data/index.ts";
import { ByteTokenizer } from "../../src/encoders/index.ts";
import { IO, MinMaxNormalizer, PolicyNetwork, policyConfigSchema } from "../../src/policy/index.ts";
import { BatchAssembler, type BatchOptions } from "../../src/train/index.ts";
import type { TensorData } from "../../src/runtime/index.ts";
import { SHAPE, actionAt, observation, tempDir, writeTinyDataset } from "../policy/fixtures.ts";

const TASK = "lift it";
const MAX_TOKENS = 16;

let sampler: WindowSampler;
beforeAll(async () => {
  const root = await writeTinyDataset(2, 16, tempDir("duet-batch-"), {
    observation,
    action: actionAt,
    task: () => TASK,
  });
  sampler = await WindowSampler.create(await Dataset.open(root), { obsSteps: 2, actionSteps: 10, cameras: [] });
});

function assembler(batch: number, options: Partial<BatchOptions> = {}): BatchAssembler {
  const config = policyConfigSchema.parse({
    language: { maxTokens: MAX_TOKENS, dim: 8, depth: 1, heads: 2, featureDim: 8 },
    denoiser: { name: "unet", downDims: [16], groups: 8, stepEmbedDim: 8 },
  });
  const range = new MinMaxNormalizer({ min: Array(16).fill(-1), max: Array(16).fill(1) });
  const network = new PolicyNetwork(config, { ...SHAPE, cameras: [] });
  return new BatchAssembler(network, sampler, batch, range, range, { imageShift: 0, stateNoise: 0.1, ...options });
}

/** Three batches from one seeded Rng, every feed copied. */
function batches(a: BatchAssembler, augment = true): Record<string, number[]>[] {
  const rng = new Rng(9);
  return [0, 1, 2].map(() =>
    Object.fromEntries(
      Object.entries(a.fill(rng, augment)).map(([name, t]: [string, TensorData]) => [name, Array.from(t.data, Number)]),
    ),
  );
}

/** Per row of the last fill: the text it holds, "" for the null instruction. */
function texts(a: BatchAssembler): string[] {
  const ids = a.feeds[IO.instructionIds]!.data as BigInt64Array;
  const eos = a.feeds[IO.instructionEos]!.data as Float32Array;
  const tokenizer = new ByteTokenizer(MAX_TOKENS);
  return Array.from({ length: ids.length / MAX_TOKENS }, (_, b) => {
    const row = [...ids.subarray(b * MAX_TOKENS, (b + 1) * MAX_TOKENS)].map(Number);
    const marked = eos.subarray(b * MAX_TOKENS, (b + 1) * MAX_TOKENS).some((v) => v !== 0);
    return marked ? tokenizer.decode(row) : row.every((id) => id === 256) ? "" : "?";
  });
}

describe("train.augment.dropInstruction", () => {
  it("at 0 leaves the batches bit for bit as without it", () => {
    const without = batches(assembler(8));
    expect(batches(assembler(8, { dropInstruction: 0 }))).toEqual(without);
    expect(batches(assembler(8, { dropInstruction: 0.5 }))).not.toEqual(without);
  });

  it("gives that share of training windows the null instruction, and no validation window", () => {
    const a = assembler(400, { dropInstruction: 0.25 });
    a.fill(new Rng(1), true);
    const rows = texts(a);
    const dropped = rows.filter((t) => t === "").length;
    // binomial(400, 0.25): mean 100, standard deviation 8.7; seeded, so the same count every run
    expect(dropped).toBeGreaterThan(100 - 4 * 8.7);
    expect(dropped).toBeLessThan(100 + 4 * 8.7);
    expect(rows.filter((t) => t !== "").every((t) => t === TASK)).toBe(true);
    a.fill(new Rng(1), false);
    expect(texts(a).every((t) => t === TASK)).toBe(true);
  });
});
