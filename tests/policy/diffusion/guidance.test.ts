// Classifier-free guidance on the instruction (policy.inference.guidance): the unrolled sampler graph forms the
// unconditional cond inside itself and gives what a TypeScript loop over two plain denoiser runs per step gives; w = 1
// is the unguided sampler, w = 0 the sampler told the null instruction; the policy's loop and its run-time override
// agree with the exported graphs; every misuse is refused, naming the field or flag.
import { describe, expect, it } from "vitest";
import { Rng } from "../../../src/core/index.ts";
import { ByteTokenizer } from "../../../src/encoders/index.ts";
import { ParamLayout } from "../../../src/nn/index.ts";
import {
  DdimSampler,
  IO,
  PolicyNetwork,
  imageInput,
  loadPolicy,
  policyConfigSchema,
  type PolicyConfigInput,
} from "../../../src/policy/index.ts";
import { Session, type TensorData } from "../../../src/runtime/index.ts";
import { CAM, makeModel, network, observation } from "../fixtures.ts";

const LANGUAGE = { maxTokens: 16, dim: 8, depth: 1, heads: 2, featureDim: 8 };
const TOLD = "lift it";

/** A tiny language-conditioned policy with guidance `w` (undefined: the field unset). */
function guided(w: number | undefined, policy: PolicyConfigInput = {}): PolicyNetwork {
  return network({
    language: LANGUAGE,
    ...policy,
    inference: { inferenceSteps: 3, ...(w !== undefined && { guidance: w }) },
  });
}

const maxDiff = (a: Float32Array, b: Float32Array): number =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** The encoder, denoiser and sampler graphs of `net` on seeded weights, and cond for an instruction (null: blank). */
async function graphs(net: PolicyNetwork) {
  const layout = ParamLayout.of(net.trainingLoss(2).g);
  const params = layout.init(5);
  const open = async (g: Parameters<typeof PolicyNetwork.compile>[0]) =>
    Session.create(PolicyNetwork.compile(g, layout, params).bytes, { intraOpThreads: 1 });
  const [enc, den, sampler] = await Promise.all([
    open(net.encoderGraph()),
    open(net.denoiserGraph()),
    open(net.samplerGraph(net.config.inference.inferenceSteps)),
  ]);
  const tokenizer = new ByteTokenizer(LANGUAGE.maxTokens);
  const rng = new Rng(4);
  const obs = {
    [IO.state]: { data: Float32Array.from({ length: 32 }, () => rng.normal() * 0.5), dims: [1, 2, 16] },
    [imageInput("front")]: {
      data: Float32Array.from({ length: 2 * CAM * CAM * 3 }, () => rng.next()),
      dims: [1, 2, CAM, CAM, 3],
    },
  };
  const cond = async (text: string | null): Promise<TensorData> => {
    const t = text === null ? tokenizer.blank(1) : tokenizer.batch([text]);
    const out = await enc.run({
      ...obs,
      [IO.instructionIds]: { data: t.ids, dims: t.dims },
      [IO.instructionEos]: { data: t.eos, dims: t.dims },
    });
    return out[IO.cond]!;
  };
  const noise = Float32Array.from({ length: 10 * net.sampleDim }, () => rng.normal());
  const dims = [1, 10, net.sampleDim];
  const sample = async (c: TensorData): Promise<Float32Array> =>
    (await sampler.run({ [IO.noise]: { data: noise, dims }, [IO.cond]: c }))[IO.sample]!.data as Float32Array;
  /** The DDIM loop in TypeScript: per step the plain denoiser with `c` and with `u`, guided with w. */
  const reference = async (c: TensorData, u: TensorData, w: number): Promise<Float32Array> => {
    const ddim = new DdimSampler(net.schedule, net.config.inference.inferenceSteps);
    const x = Float32Array.from(noise);
    const pred = async (cc: TensorData, t: number) =>
      (
        await den.run({
          [IO.sample]: { data: x, dims },
          [IO.timestep]: { data: Float32Array.of(t), dims: [1] },
          [IO.cond]: cc,
        })
      )[IO.pred]!.data as Float32Array;
    for (let k = 0; k < ddim.steps; k++) {
      const pc = await pred(c, ddim.timesteps[k]!);
      const pu = await pred(u, ddim.timesteps[k]!);
      ddim.step(
        k,
        pc.map((v, i) => pu[i]! + w * (v - pu[i]!)),
        x,
      );
    }
    return x;
  };
  const release = () => Promise.all([enc, den, sampler].map((s) => s.release()));
  return { cond, sample, reference, release };
}

describe("the guided sampler graph", () => {
  for (const prediction of ["epsilon", "sample"] as const) {
    it(`equals two plain denoiser runs per step combined in TypeScript (prediction ${prediction})`, async () => {
      const w = 2.5;
      const g = await graphs(guided(w, { scheduler: { prediction } }));
      const c = await g.cond(TOLD);
      const u = await g.cond(null);
      const got = await g.sample(c);
      const want = await g.reference(c, u, w);
      expect(maxDiff(got, want)).toBeLessThan(1e-5);
      // guidance moves the sample: neither the conditional nor the unconditional one
      expect(maxDiff(got, await g.reference(c, u, 1))).toBeGreaterThan(1e-3);
      expect(maxDiff(got, await g.reference(c, u, 0))).toBeGreaterThan(1e-3);
      await g.release();
    });
  }

  it("at w = 0 equals the unguided sampler told the null instruction", async () => {
    const plain = await graphs(guided(undefined));
    const zero = await graphs(guided(0));
    const c = await zero.cond(TOLD);
    expect(maxDiff(await zero.sample(c), await plain.sample(await plain.cond(null)))).toBeLessThan(1e-5);
    expect(maxDiff(await plain.sample(c), await plain.sample(await plain.cond(null)))).toBeGreaterThan(1e-3);
    await Promise.all([plain.release(), zero.release()]);
  });

  it("at w = 1 is the unguided graph, byte for byte", () => {
    const bytes = (net: PolicyNetwork) => {
      const layout = ParamLayout.of(net.trainingLoss(2).g);
      return PolicyNetwork.compile(net.samplerGraph(3), layout, layout.init(5)).bytes;
    };
    const unset = bytes(guided(undefined));
    expect(bytes(guided(1))).toEqual(unset);
    expect(bytes(guided(2)).length).toBeGreaterThan(unset.length);
  });
});

describe("a guided policy", () => {
  it("samples the same chunk in its loop (two denoiser runs a step) as with its guided sampler graph", async () => {
    const history = [observation(0, 1), observation(0, 2)].map((o) => ({ ...o, instruction: TOLD }));
    const chunk = async (dir: string, options: Parameters<typeof loadPolicy>[1] = {}) => {
      const policy = await loadPolicy(dir, options);
      policy.reset(3);
      return { mode: policy.mode, actions: (await policy.predictChunk(history)).actions };
    };
    const language = { language: LANGUAGE, inference: { inferenceSteps: 3 } };
    const two = makeModel({ ...language, inference: { inferenceSteps: 3, guidance: 2 } });
    const unrolled = await chunk(two);
    const loop = await chunk(two, { mode: "loop" });
    expect(unrolled.mode).toBe("unrolled");
    expect(loop.mode).toBe("loop");
    expect(maxDiff(loop.actions, unrolled.actions)).toBeLessThan(1e-5);
    // a model exported without guidance, guided at run time: the loop, and the same chunk
    const one = makeModel(language);
    const overridden = await chunk(one, { guidance: 2 });
    expect(overridden.mode).toBe("loop");
    expect(maxDiff(overridden.actions, unrolled.actions)).toBeLessThan(1e-5);
    expect(maxDiff((await chunk(one)).actions, unrolled.actions)).toBeGreaterThan(1e-3);
    await expect(loadPolicy(two, { mode: "unrolled", guidance: 1 })).rejects.toThrow(
      /the unrolled sampler graph runs the model's guidance 2, not 1; use mode "loop"/,
    );
  });
});

describe("guidance is refused", () => {
  it("in a config without language, for regression, and out of [0, 20], naming the field", () => {
    const issues = (policy: object) => {
      const r = policyConfigSchema.safeParse(policy);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    };
    expect(issues({ inference: { guidance: 2 } })).toEqual([
      expect.stringMatching(
        /^inference\.guidance: unset or 1 for a policy without language \(guidance weighs the instruction\)$/,
      ),
    ]);
    expect(issues({ language: LANGUAGE, objective: "regression", inference: { guidance: 2 } })).toEqual([
      expect.stringMatching(/^inference\.guidance: unset or 1 unless objective is "diffusion"/),
    ]);
    expect(issues({ language: LANGUAGE, inference: { guidance: -1 } })).toEqual([
      expect.stringMatching(/^inference\.guidance: .*>=0/),
    ]);
    expect(issues({ language: LANGUAGE, inference: { guidance: 21 } })).toEqual([
      expect.stringMatching(/^inference\.guidance: .*<=20/),
    ]);
    expect(issues({ inference: { guidance: 1 } })).toEqual([]);
  });

  it("at run time for a policy without language (duet sim|eval --guidance: tests/cli/bad-input.test.ts)", async () => {
    await expect(loadPolicy(makeModel(), { guidance: 2 })).rejects.toThrow(
      /guidance 2: this policy reads no instruction \(config\.language is null\)/,
    );
  });
});
