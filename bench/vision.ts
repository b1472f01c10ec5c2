// `npm run bench -- vision`: for each encoder preset — parameters, forward MatMul FLOPs per frame, ms to encode one
// control step's frames (3 cameras × To = 2 through a shared MultiCameraEncoder; the tubelet sees one 2-frame clip
// per camera) split into preprocessing (uint8 → float, evaluation transform) and the ONNX session run, and training
// samples/s of the encoder alone (forward + backward + fused AdamW, batch 32 images or clips, MSE to a random target).
// Options: --presets a,b (default vit-small,vit-small-plain,vit-tiny,cnn-small,tubelet-small), --repeats N (encode
// timings, default 30), --steps N (training steps timed after one warm-up, default 5). Progress → stderr.
import { Rng, type CameraFrame, type Observation } from "../src/core/index.ts";
import {
  GraphBuilder,
  TrainingGraph,
  buildTrainingGraph,
  inferenceModel,
  mseLoss,
  ParamLayout,
  type Tensor,
} from "../src/nn/index.ts";
import { Session, type TensorData } from "../src/runtime/index.ts";
import {
  ImagePreprocessor,
  MultiCameraEncoder,
  createEncoder,
  encoderCost,
  encoderPreset,
  type ImageEncoder,
} from "../src/encoders/index.ts";

const CAMERAS = ["top", "left_wrist", "right_wrist"];
const TO = 2;
const BATCH = 32;

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (x: number, digits = 3): number => Number(x.toPrecision(digits));

function randomFrame(rng: Rng, h: number, w: number): CameraFrame {
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { height: h, width: w, data };
}

/** ms to preprocess and encode one control step (median of `repeats`). */
async function controlStep(preset: string, repeats: number): Promise<{ preprocess_ms: number; encode_ms: number }> {
  const config = encoderPreset(preset);
  const mc = new MultiCameraEncoder({ cameras: CAMERAS }, config);
  const enc = mc.encoders[0] as ImageEncoder;
  const video = enc.frames > 1;
  const n = video ? 1 : TO; // rows per camera: To images, or one clip of To frames
  const g = new GraphBuilder();
  const inputs: Record<string, Tensor> = {};
  for (const c of CAMERAS) inputs[c] = g.input(c, [n, ...mc.inputDims(c)]);
  g.output("features", mc.apply(g, inputs));
  const session = await Session.create(inferenceModel(g, ParamLayout.of(g).init(1)).bytes, { label: preset });
  const pre = new ImagePreprocessor({ sourceHeight: enc.height, sourceWidth: enc.width });
  const rng = new Rng(2);
  const history: Observation[] = Array.from({ length: TO }, (_, t) => ({
    time: t * 0.1,
    state: new Float32Array(16),
    images: Object.fromEntries(CAMERAS.map((c) => [c, randomFrame(rng, enc.height, enc.width)])),
  }));
  const buffers = Object.fromEntries(CAMERAS.map((c) => [c, new Float32Array(TO * pre.imageSize)]));
  const feeds: Record<string, TensorData> = Object.fromEntries(
    CAMERAS.map((c) => [c, { data: buffers[c] as Float32Array, dims: [n, ...mc.inputDims(c)] }]),
  );
  const pre_ms: number[] = [];
  const run_ms: number[] = [];
  for (let r = 0; r < repeats + 3; r++) {
    const t0 = performance.now();
    pre.packHistory(history, CAMERAS, buffers);
    const t1 = performance.now();
    await session.run(feeds);
    const t2 = performance.now();
    if (r >= 3) {
      pre_ms.push(t1 - t0);
      run_ms.push(t2 - t1);
    }
  }
  await session.release();
  return { preprocess_ms: round(median(pre_ms)), encode_ms: round(median(run_ms)) };
}

/** Training throughput of the encoder alone on batch 32. */
async function training(preset: string, steps: number): Promise<Record<string, number>> {
  const enc = createEncoder(encoderPreset(preset));
  const dims = enc.frames === 1 ? [BATCH, enc.height, enc.width, 3] : [BATCH, enc.frames, enc.height, enc.width, 3];
  const g = new GraphBuilder();
  g.training = true;
  const feats = enc.apply(g, g.input("images", dims));
  const loss = mseLoss(g, feats, g.input("target", feats.shape));
  const t0 = performance.now();
  const program = buildTrainingGraph(g, loss, { weightDecay: 1e-6, clipNorm: 1 });
  const session = await Session.create(program.model.bytes, { label: `${preset} training` });
  const build_ms = performance.now() - t0;
  const trainer = new TrainingGraph(program, session, { params: program.layout.init(1) });
  const rng = new Rng(3);
  const images = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform(-1, 1);
  const target = new Float32Array(BATCH * enc.featureDim);
  for (let i = 0; i < target.length; i++) target[i] = rng.normal();
  const batch = { images: { data: images, dims }, target: { data: target, dims: [BATCH, enc.featureDim] } };
  await trainer.step(batch, 1e-4); // warm-up
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t = performance.now();
    await trainer.step(batch, 1e-4);
    times.push(performance.now() - t);
  }
  await session.release();
  const step = median(times);
  const flops = 3 * BATCH * encoderCost(enc).flops;
  return {
    train_step_ms: round(step),
    train_samples_per_s: round((1000 * BATCH) / step),
    train_gflops_per_s: round(flops / step / 1e6),
    train_graph_build_ms: round(build_ms),
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const presets = option(args, "presets", "vit-small,vit-small-plain,vit-tiny,cnn-small,tubelet-small").split(",");
  const repeats = Number(option(args, "repeats", "30"));
  const steps = Number(option(args, "steps", "5"));
  const results: Record<string, unknown> = {};
  for (const preset of presets) {
    const enc = createEncoder(encoderPreset(preset));
    const cost = encoderCost(enc);
    process.stderr.write(`vision bench: ${preset} (${cost.params} params, ${round(cost.flops / 1e6)} MFLOP/input)\n`);
    const step = await controlStep(preset, repeats);
    process.stderr.write(`  control step: ${JSON.stringify(step)}\n`);
    const train = await training(preset, steps);
    process.stderr.write(`  training: ${JSON.stringify(train)}\n`);
    results[preset] = {
      input: enc.frames === 1 ? [enc.height, enc.width, 3] : [enc.frames, enc.height, enc.width, 3],
      feature_dim: enc.featureDim,
      params: cost.params,
      mflops_per_frame: round(cost.flops / enc.frames / 1e6),
      mflops_per_input: round(cost.flops / 1e6),
      control_step: `${CAMERAS.length} cameras × To=${TO} frames, shared encoder + camera embedding`,
      ...step,
      ...train,
    };
  }
  return { bench: "vision", batch: BATCH, intra_op_threads: 2, flops: "MatMul FLOPs of the forward graph", results };
}
