// `npm run bench -- vision`: for each encoder preset, measured the way a policy uses it — parameters, forward MatMul
// FLOPs per frame, ms to encode one control step (the policy's encoder graph as exported to encoder.onnx: 3 cameras ×
// To = 2 frames, each camera with its own encoder; a tubelet takes each camera's 2 frames as one clip) and training
// samples/s of one camera's encoder alone on batch 32 observation windows of To frames (forward + backward + fused
// AdamW, MSE to a random target). Chunk latency with image conversion and denoising is `npm run bench -- policy`.
// Options: --presets a,b (default vit-patch16,tubelet-patch16,cnn-patch8,vit-small,tubelet-small), --repeats N
// (encode timings, default 30), --steps N (training steps timed after one warm-up, default 5). Progress → stderr.
import { Rng } from "../src/core/index.ts";
import { GraphBuilder, ParamLayout, TrainingGraph, buildTrainingGraph, mseLoss } from "../src/nn/index.ts";
import { Session, type TensorData } from "../src/runtime/index.ts";
import { createEncoder, encoderCost, type ImageEncoder } from "../src/encoders/index.ts";
import { IO, PolicyNetwork, imageInput, policyConfigSchema } from "../src/policy/index.ts";

const CAMERAS = ["front", "left_wrist", "right_wrist"];
const TO = 2;
const BATCH = 32;
const STATE_DIM = 16;

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (x: number, digits = 3): number => Number(x.toPrecision(digits));

const random = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));

/** ms to encode one control step through the policy's encoder graph (median of `repeats`). */
async function controlStep(preset: string, enc: ImageEncoder, repeats: number): Promise<{ encode_ms: number }> {
  const config = policyConfigSchema.parse({ obsSteps: TO, encoder: { name: preset } });
  const cameras = CAMERAS.map((name) => ({ name, height: enc.height, width: enc.width }));
  const net = new PolicyNetwork(config, { stateDim: STATE_DIM, actionDim: STATE_DIM, cameras }, preset);
  const layout = ParamLayout.of(net.trainingLoss(1).g);
  const model = PolicyNetwork.compile(net.encoderGraph(), layout, layout.init(1));
  const session = await Session.create(model.bytes, { label: `${preset} encoder graph` });
  const rng = new Rng(2);
  const feeds: Record<string, TensorData> = {
    [IO.state]: { data: random(rng, TO * STATE_DIM), dims: [1, TO, STATE_DIM] },
  };
  for (const c of cameras) {
    feeds[imageInput(c.name)] = { data: random(rng, TO * c.height * c.width * 3), dims: [1, TO, c.height, c.width, 3] };
  }
  const times: number[] = [];
  for (let r = 0; r < repeats + 3; r++) {
    const t0 = performance.now();
    await session.run(feeds);
    if (r >= 3) times.push(performance.now() - t0);
  }
  await session.release();
  return { encode_ms: round(median(times)) };
}

/** Training throughput of one camera's encoder alone (as the observer applies it) on batch 32 windows of To frames. */
async function training(preset: string, enc: ImageEncoder, steps: number): Promise<Record<string, number>> {
  const dims = [BATCH, TO, enc.height, enc.width, 3];
  const g = new GraphBuilder();
  g.training = true;
  const feats = enc.applySteps(g, g.input("images", dims));
  const loss = mseLoss(g, feats, g.input("target", feats.shape));
  const t0 = performance.now();
  const program = buildTrainingGraph(g, loss, { weightDecay: 1e-6, clipNorm: 1 });
  const session = await Session.create(program.model.bytes, { label: `${preset} training` });
  const build_ms = performance.now() - t0;
  const trainer = new TrainingGraph(program, session, { params: program.layout.init(1) });
  const rng = new Rng(3);
  const images = random(
    rng,
    dims.reduce((a, b) => a * b, 1),
  );
  const target = Float32Array.from({ length: BATCH * TO * enc.featureDim }, () => rng.normal());
  const batch = { images: { data: images, dims }, target: { data: target, dims: feats.shape } };
  await trainer.step(batch, 1e-4); // warm-up
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t = performance.now();
    await trainer.step(batch, 1e-4);
    times.push(performance.now() - t);
  }
  await session.release();
  const step = median(times);
  const flops = 3 * BATCH * (TO / enc.frames) * encoderCost(enc).flops;
  return {
    train_step_ms: round(step),
    train_samples_per_s: round((1000 * BATCH) / step),
    train_gflops_per_s: round(flops / step / 1e6),
    train_graph_build_ms: round(build_ms),
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const presets = option(args, "presets", "vit-patch16,tubelet-patch16,cnn-patch8,vit-small,tubelet-small").split(",");
  const repeats = Number(option(args, "repeats", "30"));
  const steps = Number(option(args, "steps", "5"));
  const results: Record<string, unknown> = {};
  for (const preset of presets) {
    const enc = createEncoder({ name: preset }, "--presets");
    const cost = encoderCost(enc);
    process.stderr.write(`vision bench: ${preset} (${cost.params} params, ${round(cost.flops / 1e6)} MFLOP/input)\n`);
    const step = await controlStep(preset, enc, repeats);
    process.stderr.write(`  control step: ${JSON.stringify(step)}\n`);
    const train = await training(preset, enc, steps);
    process.stderr.write(`  training: ${JSON.stringify(train)}\n`);
    results[preset] = {
      input: enc.frames === 1 ? [enc.height, enc.width, 3] : [enc.frames, enc.height, enc.width, 3],
      feature_dim: enc.featureDim,
      params: cost.params,
      mflops_per_frame: round(cost.flops / enc.frames / 1e6),
      mflops_per_input: round(cost.flops / 1e6),
      control_step: `${CAMERAS.length} cameras × To=${TO} frames, one encoder per camera (the policy's encoder graph)`,
      ...step,
      ...train,
    };
  }
  return {
    bench: "vision",
    batch: `${BATCH} windows of To=${TO} frames`,
    intra_op_threads: 2,
    flops: "MatMul FLOPs of the forward graph",
    results,
  };
}
