// The prior from words to goals. On a toy where each of two text embeddings maps to two modes of image embeddings,
// its samples land on the modes, both of them, and not on their average; its exported sampler (prior.onnx) is the
// DDIM loop run step by step in process. On a tiny multi-task dataset with a tiny clip run it trains, writes its
// files and scores above chance; clip runs and datasets that cannot be used are refused naming the file.
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.ts";
import { GraphBuilder, inferenceModel } from "../../src/nn/index.ts";
import { DdimSampler } from "../../src/policy/index.ts";
import { Session } from "../../src/runtime/index.ts";
import { subsetParams } from "../../src/train/embedding.ts";
import { fitPrior, trainPrior, trainTextImage, type FittedPrior, type PriorResult } from "../../src/train/index.ts";
import { tempDir, writeTinyDataset } from "../policy/fixtures.ts";
import { MEANINGS, TINY_CLIP, TINY_PRIOR, TOY_NET, handed } from "./clip-fixtures.ts";

const D = 8;
const axis = (i: number): number[] => Array.from({ length: D }, (_, k) => (k === i ? 1 : 0));
const unit = (v: readonly number[]): number[] => v.map((x) => x / Math.hypot(...v));
/** Text embedding c (axis c) → image embeddings near MODES[c][0] or MODES[c][1] (orthogonal axes). */
const MODES = [
  [axis(2), axis(3)],
  [axis(4), axis(5)],
];

/** 200 pairs: text c = i mod 2, mode ⌊i/2⌋ mod 2, each image its mode jittered by 0.05 and renormalised. */
function toyPairs(): { text: Float32Array; image: Float32Array } {
  const rng = new Rng(7);
  const n = 200;
  const text = new Float32Array(n * D);
  const image = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const c = i % 2;
    text.set(axis(c), i * D);
    image.set(unit(MODES[c]![(i >> 1) % 2]!.map((x) => x + 0.05 * rng.normal())), i * D);
  }
  return { text, image };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>, offset = 0): number =>
  Array.from(b, (x, k) => x * (a[offset + k] as number)).reduce((s, x) => s + x, 0);

/** `n` rows of `row` and `n` rows of N(0, 1) noise. */
function queries(row: readonly number[], n: number, rng: Rng): { text: Float32Array; noise: Float32Array } {
  const text = new Float32Array(n * D);
  for (let i = 0; i < n; i++) text.set(row, i * D);
  return { text, noise: Float32Array.from({ length: n * D }, () => rng.normal()) };
}

async function sample(bytes: Uint8Array, text: Float32Array, noise: Float32Array): Promise<Float32Array> {
  const session = await Session.create(bytes);
  const n = text.length / D;
  const out = await session.run({ text_embedding: { data: text, dims: [n, D] }, noise: { data: noise, dims: [n, D] } });
  await session.release();
  return out.image_embedding!.data as Float32Array;
}

describe("a diffusion prior on a bimodal toy", () => {
  let fit: FittedPrior;
  beforeAll(async () => {
    const { text, image } = toyPairs();
    fit = await fitPrior({
      text: { data: text, dim: D },
      image: { data: image, dim: D },
      config: TOY_NET,
      steps: 600,
      batch: 64,
      lr: 2e-3,
    });
  }, 120_000);

  it("samples both modes of each text's images, each sample on one of them, none at their average", async () => {
    const rng = new Rng(1);
    const n = 48;
    for (const c of [0, 1]) {
      const q = queries(axis(c), n, rng);
      const out = await sample(fit.model.bytes, q.text, q.noise);
      const [a, b] = MODES[c]!;
      let first = 0;
      for (let i = 0; i < n; i++) {
        const [ca, cb] = [dot(out, a!, i * D), dot(out, b!, i * D)];
        // the average of the modes, normalised, has a cosine of 0.71 with each: a sample there fails this
        expect(Math.max(ca, cb)).toBeGreaterThan(0.95);
        expect(Math.hypot(...out.subarray(i * D, (i + 1) * D))).toBeCloseTo(1, 5);
        if (ca > cb) first++;
      }
      // both modes (about half each; a prior that collapsed to one would give 0 or n)
      expect(Math.min(first, n - first)).toBeGreaterThanOrEqual(n / 4);
    }
  });

  it("exports the DDIM loop run step by step in process (prior.onnx)", async () => {
    const net = fit.network;
    const n = 3;
    const g = new GraphBuilder();
    const x = g.input("sample", [n, 1, D]);
    g.output("pred", net.denoise(g, x, g.input("timestep", [n]), g.input("text_embedding", [n, D])));
    const denoiser = await Session.create(inferenceModel(g, subsetParams(fit.layout, fit.params, g)).bytes);
    const rng = new Rng(5);
    const text = Float32Array.from([...axis(0), ...axis(1), ...unit(axis(0).map((v, k) => v + axis(1)[k]!))]);
    const noise = Float32Array.from({ length: n * D }, () => rng.normal());
    const ddim = new DdimSampler(net.schedule, net.config.samplingSteps);
    const xt = noise.slice();
    for (let k = 0; k < ddim.steps; k++) {
      const out = await denoiser.run({
        sample: { data: xt, dims: [n, 1, D] },
        timestep: { data: new Float32Array(n).fill(ddim.timesteps[k]!), dims: [n] },
        text_embedding: { data: text, dims: [n, D] },
      });
      ddim.step(k, out.pred!.data as Float32Array, xt, rng);
    }
    await denoiser.release();
    const exported = await sample(fit.model.bytes, text, noise);
    expect(ddim.steps).toBe(10);
    for (let i = 0; i < n; i++) {
      const row = xt.subarray(i * D, (i + 1) * D);
      const norm = Math.hypot(...row);
      for (let k = 0; k < D; k++) expect(exported[i * D + k]).toBeCloseTo((row[k] as number) / norm, 5);
    }
  });
});

describe("duet prior on a clip run of a multi-task recording", () => {
  const dataset = tempDir("duet-prior-data-");
  const clip = tempDir("duet-prior-clip-");
  const out = tempDir("duet-prior-");
  let r: PriorResult;
  beforeAll(async () => {
    await writeTinyDataset(24, 6, dataset, handed);
    await trainTextImage({ dataset, meanings: MEANINGS, out: clip, ...TINY_CLIP });
    r = await trainPrior({ clip, dataset, meanings: MEANINGS, out, ...TINY_PRIOR });
  }, 180_000);

  it("trains on the clip run's split and scores its samples against CLIP's text embeddings and chance", async () => {
    expect([r.train_episodes, r.held_out_episodes, r.train_pairs, r.dim, r.steps]).toEqual([16, 8, 32, 16, 400]);
    expect(r.queries).toBeGreaterThan(0);
    expect(r.named_hand_queries).toBeLessThanOrEqual(r.queries);
    expect(r.chance_at_1).toBeGreaterThan(0);
    expect(r.chance_at_1).toBeLessThan(1);
    // the prior answers in the image space; the text embedding sits across CLIP's modality gap
    expect(r.prior_cosine).toBeGreaterThan(r.text_cosine);
    expect(r.prior_recall_at_1).toBeGreaterThan(r.chance_at_1);
    expect(r.same_meaning_cosine).toBeGreaterThan(r.other_meaning_cosine);
    expect(r.config.samplingSteps).toBe(10);
    // self-contained for duet sim --prior: the clip run's text encoder beside prior.onnx, its image encoder named
    expect(r.image_encoder_sha256).toBe(
      createHash("sha256")
        .update(readFileSync(join(clip, "image.onnx")))
        .digest("hex"),
    );
    expect(readFileSync(join(out, "text.onnx")).equals(readFileSync(join(clip, "text.onnx")))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "result.json"), "utf8"))).toEqual(r);
    const log = readFileSync(join(out, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as object);
    expect(log).toHaveLength(51); // 50 loss lines, then the result
    expect(log[0]).toMatchObject({ step: 8 });
    expect(log.at(-1)).toEqual({ result: r });
    const session = await Session.create(readFileSync(join(out, "prior.onnx")));
    expect(session.inputs.map((i) => [i.name, i.shape[1]])).toEqual([
      ["text_embedding", 16],
      ["noise", 16],
    ]);
    const text = { data: Float32Array.from({ length: 16 }, (_, k) => (k === 0 ? 1 : 0)), dims: [1, 16] };
    const noise = { data: new Float32Array(16).fill(0.5), dims: [1, 16] };
    const emb = (await session.run({ text_embedding: text, noise })).image_embedding!.data as Float32Array;
    await session.release();
    expect(Math.hypot(...emb)).toBeCloseTo(1, 5);
  });

  it("refuses a clip folder without its encoders, of two runs, or from an older duet clip", async () => {
    const run = (c: string): Promise<PriorResult> =>
      trainPrior({ clip: c, dataset, meanings: MEANINGS, out: tempDir(), ...TINY_PRIOR, steps: 1 });
    const bare = tempDir("duet-prior-bare-");
    copyFileSync(join(clip, "result.json"), join(bare, "result.json"));
    await expect(run(bare)).rejects.toThrow(
      /no .*image\.onnx, .*text\.onnx; give the output folder of a finished duet clip run/,
    );
    // text.onnx from a run embedding into 8 dimensions
    const other = tempDir("duet-prior-other-");
    await trainTextImage({
      dataset,
      meanings: MEANINGS,
      out: other,
      ...TINY_CLIP,
      steps: 1,
      image: { ...TINY_CLIP.image, featureDim: 8 },
      text: { ...TINY_CLIP.text, featureDim: 8 },
    });
    const mixed = tempDir("duet-prior-mixed-");
    for (const f of ["image.onnx", "result.json"]) copyFileSync(join(clip, f), join(mixed, f));
    copyFileSync(join(other, "text.onnx"), join(mixed, "text.onnx"));
    await expect(run(mixed)).rejects.toThrow(/image\.onnx embeds into 16 dimensions but .*text\.onnx into 8/);
    const { seed: _seed, ...older } = JSON.parse(readFileSync(join(clip, "result.json"), "utf8")) as { seed: number };
    writeFileSync(join(mixed, "result.json"), JSON.stringify(older));
    copyFileSync(join(clip, "text.onnx"), join(mixed, "text.onnx"));
    await expect(run(mixed)).rejects.toThrow(/an older duet clip wrote no seed or held_out_share: rerun it.*seed/s);
  });

  it("refuses a dataset whose tasks are not the scenario's instructions", async () => {
    const other = await writeTinyDataset(3, 4, tempDir("duet-prior-other-"), { ...handed, task: () => "wave hello" });
    await expect(
      trainPrior({ clip, dataset: other, meanings: MEANINGS, out: tempDir(), ...TINY_PRIOR, steps: 1 }),
    ).rejects.toThrow(/episode 0's task "wave hello" is none of the scenario's instructions/);
  });
});
