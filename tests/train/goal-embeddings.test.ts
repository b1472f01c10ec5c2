// Goal-embedding policies (policy.goal {"camera", "embedding": "clip"}): trained with `--clip` (jointly and on a frozen
// observer), exported with the clip run's image encoder; in the simulator their goal is the expert's last frame or a
// --goal PNG through that encoder, or a --prior's seeded sample from the instruction, and each episode says which.
// Every bad input is refused naming the flag or file, before any episode runs.
import { createHash } from "node:crypto";
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { encodePng, type CameraFrame, type Observation } from "../../src/core/index.ts";
import { ImagePreprocessor } from "../../src/encoders/index.ts";
import { DiffusionPolicy, loadPolicy, readPolicyModel, reexportPolicy, releasePolicy } from "../../src/policy/index.ts";
import { Session } from "../../src/runtime/index.ts";
import { createEnv, createExpert } from "../../src/sim/index.ts";
import { simulate } from "../../src/cli/sim.ts";
import { checkJob, prepareJob, runEpisode, type SimJob } from "../../src/runner/rollout/index.ts";
import { train, trainConfigSchema, trainPrior, trainTextImage } from "../../src/train/index.ts";
import {
  CAM,
  observation,
  simArgs,
  tempDir,
  tinyCameraScenario,
  tinyConfig,
  writeTinyDataset,
} from "../policy/fixtures.ts";
import { MEANINGS, TINY_CLIP, TINY_PRIOR, handed } from "./clip-fixtures.ts";

const D = TINY_CLIP.image.featureDim;
const sha256 = (file: string): string => createHash("sha256").update(readFileSync(file)).digest("hex");
const config = (goal: object, trainOverrides: object = {}) =>
  trainConfigSchema.parse(
    tinyConfig({ policy: { goal }, train: { steps: 4, checkpointEvery: 4, valEvery: 4, ...trainOverrides } }),
  );
const EMBEDDED = { camera: "front", embedding: "clip" };

const dataset = tempDir("duet-goalemb-data-");
const clip = tempDir("duet-goalemb-clip-");
const prior = tempDir("duet-goalemb-prior-");
const model = tempDir("duet-goalemb-model-");
const frozen = tempDir("duet-goalemb-frozen-");
let scenario = "";
let multiTask = "";
let job: SimJob;

beforeAll(async () => {
  await writeTinyDataset(24, 6, dataset, handed);
  await trainTextImage({ dataset, meanings: MEANINGS, out: clip, ...TINY_CLIP, steps: 10 });
  await trainPrior({ clip, dataset, meanings: MEANINGS, out: prior, ...TINY_PRIOR, steps: 10 });
  await train({ dataset, config: config(EMBEDDED), out: model, clip });
  // the multi-task model was trained this way: on a frozen observer (here the joint run's)
  await train({ dataset, config: config(EMBEDDED), out: frozen, clip, observerFrom: model });
  const dir = tempDir("duet-goalemb-scenario-");
  scenario = tinyCameraScenario("scenarios/bottle-cap.json", dir);
  multiTask = tinyCameraScenario("scenarios/multi-task.json", dir);
  job = { scenario, policy: model, cameras: true };
}, 300_000);

afterEach(() => {
  vi.restoreAllMocks();
});

/** Play `seeds` of `j` in this thread, recording the goal embedding each chunk of each episode was given. */
async function play(j: SimJob, seeds: readonly number[]): Promise<{ goals: Float32Array[][]; origins: unknown[] }> {
  const spy = vi.spyOn(DiffusionPolicy.prototype, "predictChunk");
  const run = prepareJob(j);
  const goals: Float32Array[][] = [];
  const origins: unknown[] = [];
  try {
    for (const seed of seeds) {
      spy.mockClear();
      origins.push((await run(seed)).goal);
      goals.push(spy.mock.calls.map(([history]) => (history.at(-1) as Observation).goalEmbedding as Float32Array));
    }
  } finally {
    await run.close();
  }
  return { goals, origins };
}

/** The clip run's image.onnx on one frame, preprocessed as its evaluation does: the oracle of the goal embeddings. */
async function clipEmbedding(frame: CameraFrame): Promise<Float32Array> {
  const session = await Session.create(join(clip, "image.onnx"));
  const prep = new ImagePreprocessor({ sourceHeight: CAM, sourceWidth: CAM });
  const images = new Float32Array(prep.imageSize);
  prep.process(frame, prep.evalParams(), images, 0);
  const out = (await session.run({ images: { data: images, dims: [1, CAM, CAM, 3] } })).embedding!.data;
  await session.release();
  return out as Float32Array;
}

const maxDiff = (a: Float32Array, b: Float32Array): number => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe("training a goal-embedding policy (--clip)", () => {
  it("exports the clip run's image encoder with the model, its SHA-256 and width in model.json", () => {
    for (const dir of [model, frozen]) {
      const m = readPolicyModel(dir);
      expect(m.goalEncoder).toEqual({ file: "goal-image.onnx", sha256: sha256(join(clip, "image.onnx")), dim: D });
      expect(readFileSync(join(dir, "goal-image.onnx")).equals(readFileSync(join(clip, "image.onnx")))).toBe(true);
      expect(m.provenance.clip).toBe(clip);
      expect(m.config.goal).toEqual(EMBEDDED);
    }
    expect(readPolicyModel(frozen).provenance.observer_from).toMatchObject({ model });
  });

  it("takes the embedding as the last observation input, `goal_embedding` [1, D], and refuses a bad one", async () => {
    const session = await Session.create(join(model, "encoder.onnx"));
    expect(session.inputs.map((i) => [i.name, [...i.shape]])).toEqual([
      ["state", [1, 2, 16]],
      ["image_front", [1, 2, CAM, CAM, 3]],
      ["goal_embedding", [1, D]],
    ]);
    await session.release();
    const policy = await loadPolicy(model);
    try {
      const obs = observation(0, 5);
      await expect(policy.predictChunk([obs])).rejects.toThrow(
        /carries no goal embedding, and this policy is conditioned on the CLIP image embedding of a goal frame of camera "front"/,
      );
      const unit = (n: number) => new Float32Array(n).fill(1 / Math.sqrt(n));
      await expect(policy.predictChunk([{ ...obs, goalEmbedding: unit(D + 1) }])).rejects.toThrow(
        new RegExp(
          `the goal embedding has ${D + 1} values, expected a unit-length CLIP image embedding of ${D} values`,
        ),
      );
      await expect(policy.predictChunk([{ ...obs, goalEmbedding: new Float32Array(D).fill(1) }])).rejects.toThrow(
        /the goal embedding has length 4\.0000/,
      );
      expect((await policy.predictChunk([{ ...obs, goalEmbedding: unit(D) }])).actions.every(Number.isFinite)).toBe(
        true,
      );
    } finally {
      await releasePolicy(policy);
    }
  });

  it("refuses a goal-embedding config without --clip, --clip for any other, and a clip run of another camera", async () => {
    const out = () => tempDir("duet-goalemb-bad-");
    await expect(train({ dataset, config: config(EMBEDDED), out: out() })).rejects.toThrow(
      /policy\.goal\.embedding "clip" conditions the policy on a duet clip run's image embeddings .*give that run's output folder with --clip DIR/,
    );
    await expect(train({ dataset, config: config({ camera: "front" }), out: out(), clip })).rejects.toThrow(
      /--clip .*duet-goalemb-clip-\w+: training config reads no CLIP embedding \(its policy\.goal is \{"camera":"front"\}\); leave the flag out/,
    );
    await expect(
      train({ dataset, config: config({ camera: "wrist", embedding: "clip" }), out: out(), clip }),
    ).rejects.toThrow(
      /--clip .*: that run paired frames of camera "front", but training config's policy\.goal\.camera is "wrist"/,
    );
    // a resume must embed its goals with the clip run it started with
    await expect(train({ dataset, config: config(EMBEDDED), out: model, resume: true })).rejects.toThrow(
      /checkpoint\.safetensors: embedded its goals with the clip run .*duet-goalemb-clip-\w+; resume with --clip/,
    );
  });

  it("re-exports with its goal encoder", () => {
    const to = tempDir("duet-goalemb-reexport-");
    expect(reexportPolicy(model, to).goalEncoder).toEqual(readPolicyModel(model).goalEncoder);
    expect(readFileSync(join(to, "goal-image.onnx")).equals(readFileSync(join(model, "goal-image.onnx")))).toBe(true);
  });
});

describe("a goal-embedding policy in the simulator", () => {
  it("is fed the clip image encoder's embedding of the expert's last frame of the same episode", async () => {
    const { goals, origins } = await play(job, [3]);
    expect(origins).toEqual(["expert-frame"]);
    expect(goals[0]!.length).toBeGreaterThan(1); // every chunk of the episode given its goal
    // the oracle: the expert's episode of seed 3 played here, its last frame through the clip run's image.onnx
    const env = createEnv(scenario, { cameras: true });
    let last: Observation | null = null;
    await runEpisode(env, createExpert(env, {}), 3, { onStep: (_s, _o, _a, r) => (last = r.observation) });
    const want = await clipEmbedding((last as unknown as Observation).images.front!);
    for (const fed of goals[0]!) expect(maxDiff(fed, want)).toBeLessThan(1e-6);
  }, 120_000);

  it("takes a --goal PNG through the same encoder", async () => {
    const png = join(tempDir("duet-goalemb-png-"), "goal.png");
    const frame = { width: CAM, height: CAM, data: new Uint8Array(CAM * CAM * 3).map((_, i) => (i * 11) & 255) };
    writeFileSync(png, encodePng(frame));
    const { goals, origins } = await play({ ...job, goal: png }, [0]);
    expect(origins).toEqual(["png"]);
    expect(maxDiff(goals[0]![0]!, await clipEmbedding(frame))).toBeLessThan(1e-6);
    writeFileSync(png, encodePng({ width: 4, height: 4, data: new Uint8Array(48) }));
    await expect(checkJob({ ...job, goal: png })).rejects.toThrow(
      /goal-image\.onnx: a goal frame of 4x4 \(48 bytes\), expected a 8x8 RGB frame/,
    );
  }, 120_000);

  it("takes --prior's sample for the episode's instruction: the same for a seed every time, another for another seed", async () => {
    const j = { ...job, policy: frozen, prior };
    await checkJob(j);
    const a = await play(j, [0, 1]);
    const b = await play(j, [0]);
    expect(a.origins).toEqual(["prior", "prior"]);
    const [s0, s1] = [a.goals[0]![0]!, a.goals[1]![0]!];
    expect(Math.hypot(...s0)).toBeCloseTo(1, 5);
    expect(a.goals[0]!.every((g) => g === a.goals[0]![0])).toBe(true); // one sample per episode
    expect(maxDiff(b.goals[0]![0]!, s0)).toBe(0);
    expect(maxDiff(s1, s0)).toBeGreaterThan(1e-3);
  }, 120_000);

  it("records each episode's goal source in duet sim --json's per_episode", async () => {
    const args = simArgs({ scenario, policy: model, cameras: true });
    expect((await simulate({ ...args, prior })).per_episode.map((o) => o.goal)).toEqual(["prior"]);
    expect((await simulate(args)).per_episode.map((o) => o.goal)).toEqual(["expert-frame"]);
  }, 120_000);
});

describe("refused before any episode runs", () => {
  it("a prior trained on another CLIP run than the policy's goal encoder", async () => {
    const other = tempDir("duet-goalemb-other-prior-");
    cpSync(prior, other, { recursive: true });
    const result = JSON.parse(readFileSync(join(other, "result.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(other, "result.json"), JSON.stringify({ ...result, image_encoder_sha256: "0".repeat(64) }));
    await expect(checkJob({ ...job, prior: other })).rejects.toThrow(
      /--prior: prior .*duet-goalemb-other-prior-\w+ was trained on another CLIP run than .*duet-goalemb-model-\w+'s goal encoder/,
    );
  });

  it("a prior folder with a file missing, or from a duet prior that recorded no image encoder", async () => {
    const bare = tempDir("duet-goalemb-bare-prior-");
    for (const f of ["prior.onnx", "result.json"]) copyFileSync(join(prior, f), join(bare, f));
    await expect(checkJob({ ...job, prior: bare })).rejects.toThrow(
      /--prior .*duet-goalemb-bare-prior-\w+: no text\.onnx; give the output folder of a finished duet prior run/,
    );
    copyFileSync(join(prior, "text.onnx"), join(bare, "text.onnx"));
    const { image_encoder_sha256: _sha, ...older } = JSON.parse(readFileSync(join(prior, "result.json"), "utf8")) as {
      image_encoder_sha256: string;
    };
    writeFileSync(join(bare, "result.json"), JSON.stringify(older));
    await expect(checkJob({ ...job, prior: bare })).rejects.toThrow(
      /an older duet prior recorded no image_encoder_sha256/,
    );
  });

  it("a model directory without its goal encoder, or with another one", async () => {
    const copy = tempDir("duet-goalemb-copy-");
    cpSync(model, copy, { recursive: true });
    copyFileSync(join(clip, "text.onnx"), join(copy, "goal-image.onnx"));
    await expect(checkJob({ ...job, policy: copy })).rejects.toThrow(
      /goal-image\.onnx: sha256 \w+…, but model\.json says \w+…: not the goal encoder this model was trained with/,
    );
    rmSync(join(copy, "goal-image.onnx"));
    await expect(checkJob({ ...job, policy: copy })).rejects.toThrow(
      /goal-image\.onnx is missing \(the goal encoder listed in model\.json\)/,
    );
  });

  it("an instruction longer than the prior's text encoder takes: --instruction's, or one the scenario may draw", async () => {
    const long = `unscrew the cap ${"please ".repeat(6)}`.trim(); // 57 bytes; the tiny text encoder takes 46
    const j = { ...job, scenario: multiTask, prior };
    await expect(checkJob({ ...j, instruction: long, scoredAs: { task: "unscrew", hand: null } })).rejects.toThrow(
      /--instruction: instruction "unscrew the cap please please please \.\.\." is 57 UTF-8 bytes; the text encoder takes at most 46 .*\(the text encoder of the prior .*duet-goalemb-prior-\w+, the duet clip run's\)/,
    );
    await expect(checkJob(j)).rejects.toThrow(
      /tiny-camera-multi-task\.json \(tasks\[\]\.instructions\): instruction "unscrew the cap holding the bottle .*" is 54 UTF-8 bytes/,
    );
    await expect(checkJob({ ...j, instruction: "lift the bottle" })).resolves.toBeUndefined();
  });

  it("--prior for a policy that reads no goal embedding, with --goal, or for the expert", async () => {
    const plain = tempDir("duet-goalemb-plain-");
    await train({ dataset, config: config({ camera: "front" }, { steps: 1 }), out: plain });
    await expect(simulate(simArgs({ scenario, cameras: true, policy: plain, prior }))).rejects.toThrow(
      /--prior .*: .*duet-goalemb-plain-\w+ reads no goal embedding \(only a policy trained with policy\.goal\.embedding "clip"/,
    );
    await expect(simulate(simArgs({ policy: model, prior, goal: "docs/sim.png" }))).rejects.toThrow(
      /--prior .* and --goal docs\/sim\.png: each gives every episode's goal; give one/,
    );
    await expect(simulate(simArgs({ prior }))).rejects.toThrow(/--prior .*: the expert reads no goal/);
  });
});
