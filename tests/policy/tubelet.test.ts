// A policy whose encoder is a tubelet (video) ViT: each camera's To observation frames are one clip, whose features
// the observer repeats at every step; it trains, exports, loads and predicts, and a clip of the wrong length is refused.
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.ts";
import { ParamLayout } from "../../src/nn/index.ts";
import { IO, PolicyNetwork, imageInput, loadPolicy } from "../../src/policy/index.ts";
import { Session } from "../../src/runtime/index.ts";
import { train, trainConfigSchema, type TrainEvent } from "../../src/train/index.ts";
import { CAM, network, observation, tempDir, tinyConfig, tinyTubelet, writeTinyDataset } from "./fixtures.ts";

/**
 * The encoder graph's `cond` `1,To,Dobs` for two frames of the one camera (state 0), with the temporal kernel Δ drawn
 * at random: at its zero init the tubelet sees only the central (latest) frame.
 */
async function cond(net: PolicyNetwork, first: Float32Array, second: Float32Array): Promise<Float32Array> {
  const layout = ParamLayout.of(net.trainingLoss(1).g);
  const params = layout.init(3);
  const rng = new Rng(4);
  const delta = layout.view(params, "obs.front.patch.proj.temporal");
  for (let i = 0; i < delta.length; i++) delta[i] = rng.normal() * 0.1;
  const session = await Session.create(PolicyNetwork.compile(net.encoderGraph(), layout, params).bytes);
  const images = new Float32Array(2 * CAM * CAM * 3);
  images.set(first);
  images.set(second, first.length);
  const out = await session.run({
    [IO.state]: { data: new Float32Array(32), dims: [1, 2, 16] },
    [imageInput("front")]: { data: images, dims: [1, 2, CAM, CAM, 3] },
  });
  await session.release();
  return out[IO.cond]!.data as Float32Array;
}

const frame = (k: number): Float32Array =>
  Float32Array.from({ length: CAM * CAM * 3 }, (_, i) => Math.sin(0.37 * i + k) * 0.8);

describe("tubelet policy", () => {
  it("encodes the two observation frames as one clip: the same camera features at both steps, from both frames", async () => {
    const net = network({ encoder: tinyTubelet(2), obsSteps: 2 });
    const { imageOffset: at, imageDim: f, featureDim: d } = net.observer;
    expect(f).toBe(8);
    const a = await cond(net, frame(0), frame(1));
    expect([...a.subarray(d + at, d + at + f)]).toEqual([...a.subarray(at, at + f)]);
    // Another first frame (the latest unchanged) changes the features: the clip is encoded, not its last frame.
    const b = await cond(net, frame(5), frame(1));
    const moved = Math.max(...Array.from({ length: f }, (_, i) => Math.abs(a[at + i]! - b[at + i]!)));
    expect(moved).toBeGreaterThan(1e-3);
  });

  it("trains a few steps, exports, loads and predicts finite chunks", async () => {
    const dataset = await writeTinyDataset();
    const out = tempDir("duet-model-");
    const events: TrainEvent[] = [];
    const config = trainConfigSchema.parse(
      tinyConfig({ policy: { encoder: tinyTubelet(2), obsSteps: 2 }, train: { steps: 20, valEvery: 10 } }),
    );
    const result = await train({ dataset, config, out, onEvent: (e) => events.push(e) });
    expect(result.step).toBe(20);
    const losses = events.flatMap((e) => (e.kind === "step" ? [e.loss] : []));
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    const policy = await loadPolicy(out);
    policy.reset(1);
    const chunk = await policy.predictChunk([observation(0, 3), observation(0, 4)]);
    expect(chunk.actions.length).toBe(160);
    expect(chunk.actions.every((v) => Number.isFinite(v))).toBe(true);
  });

  it("refuses a clip whose frames differ from policy.obsSteps, naming both", () => {
    expect(() => network({ encoder: tinyTubelet(3), obsSteps: 2 })).toThrow(
      /policy.encoder: .*frames must equal policy.obsSteps \(2\); received frames = 3/,
    );
  });
});
