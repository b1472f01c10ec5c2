// `npm run bench -- train`: training-step and inference GFLOP/s for an MLP (~1.1M params, batch 256) and a
// Diffusion-Policy U-Net block stack (batch 64, T 16, 256 channels), and the ratio against the same models in PyTorch
// (2 threads) measured alternately in one run. FLOPs = MatMul FLOPs of the forward graph (×3 for a training step).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Rng } from "../src/core/index.ts";
import {
  Conv1d,
  Film,
  GraphBuilder,
  GroupNorm,
  Mlp,
  ParamLayout,
  TrainingGraph,
  Upsample1d,
  buildTrainingGraph,
  inferenceModel,
  mish,
  mseLoss,
  numel,
  type Tensor,
} from "../src/nn/index.ts";
import { matmulFlops } from "../src/encoders/index.ts";
import { Session, type TensorData } from "../src/runtime/index.ts";

const CFG = {
  mlp_dims: [512, 1024, 512, 128],
  mlp_batch: 256,
  unet_batch: 64,
  unet_t: 16,
  unet_da: 16,
  unet_c: 256,
  unet_cond: 128,
};

function resBlock(g: GraphBuilder, name: string, x: Tensor, cond: Tensor, cin: number, cout: number): Tensor {
  return g.scope(name, () => {
    let h = mish(g, new GroupNorm("norm0", 8, cout).apply(g, new Conv1d("conv0", cin, cout, 5).apply(g, x)));
    h = new Film("film", CFG.unet_cond, cout).apply(g, h, cond);
    h = mish(g, new GroupNorm("norm1", 8, cout).apply(g, new Conv1d("conv1", cout, cout, 5).apply(g, h)));
    return g.add(h, cin === cout ? x : new Conv1d("res", cin, cout, 1).apply(g, x));
  });
}

interface Bench {
  g: GraphBuilder;
  pred: Tensor;
  loss: Tensor;
  feeds: Record<string, TensorData>;
}

function randomFeed(rng: Rng, t: Tensor): TensorData {
  const data = new Float32Array(numel(t.shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, dims: t.shape };
}

function build(kind: "mlp" | "unet"): Bench {
  const g = new GraphBuilder();
  const rng = new Rng(1);
  let pred: Tensor;
  if (kind === "mlp") {
    const dims = CFG.mlp_dims;
    const x = g.input("x", [CFG.mlp_batch, dims[0] as number]);
    pred = g.output("pred", new Mlp("mlp", dims, "gelu").apply(g, x));
  } else {
    const { unet_batch: b, unet_t: t, unet_da: da, unet_c: c, unet_cond: cd } = CFG;
    const x = g.input("x", [b, t, da]);
    const cond = g.input("cond", [b, cd]);
    let h = resBlock(g, "b0", x, cond, da, c);
    h = resBlock(g, "b1", h, cond, c, c);
    h = resBlock(g, "b2", new Conv1d("down", c, c, 3, { stride: 2 }).apply(g, h), cond, c, c);
    h = resBlock(g, "b3", new Upsample1d("up", c, c).apply(g, h), cond, c, c);
    pred = g.output("pred", new Conv1d("out", c, da, 1).apply(g, h));
  }
  const target = g.input("target", pred.shape);
  const feeds = Object.fromEntries(g.inputs.map((t) => [t.name, randomFeed(rng, t)]));
  return { g, pred, loss: mseLoss(g, pred, target), feeds };
}

class Torch {
  private lines: AsyncIterator<string>;
  private constructor(
    private proc: ChildProcessWithoutNullStreams,
    rl: Interface,
  ) {
    this.lines = rl[Symbol.asyncIterator]();
  }

  static async start(python: string): Promise<Torch> {
    const script = fileURLToPath(new URL("./train_torch.py", import.meta.url));
    const proc = spawn(python, [script, JSON.stringify(CFG)], { stdio: ["pipe", "pipe", "pipe"] });
    proc.stderr.on("data", (d: Buffer) => process.stderr.write(d));
    const t = new Torch(proc, createInterface({ input: proc.stdout }));
    const first = await t.next();
    if (first !== "ready") throw new Error(`train_torch.py did not start (said ${JSON.stringify(first)})`);
    return t;
  }

  private async next(): Promise<string> {
    const r = await this.lines.next();
    if (r.done) throw new Error("train_torch.py exited early");
    return String(r.value).trim();
  }

  async time(command: string): Promise<number> {
    this.proc.stdin.write(`${command}\n`);
    return Number(await this.next());
  }

  stop(): void {
    this.proc.stdin.end();
  }
}

function findPython(): string | null {
  for (const py of ["python3", "/usr/bin/python3"]) {
    const r = spawnSync(py, ["-c", "import torch"], { stdio: "ignore" });
    if (r.status === 0) return py;
  }
  return null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const rounds = Number(args[0] ?? 3);
  const python = findPython();
  const torch = python ? await Torch.start(python) : null;
  process.stderr.write(`train bench: ${rounds} rounds, PyTorch ${torch ? `via ${python}` : "not available"}\n`);
  const result: Record<string, unknown> = {};
  for (const kind of ["mlp", "unet"] as const) {
    const steps = kind === "mlp" ? 10 : 4;
    const bench = build(kind);
    const fwd = matmulFlops(bench.g);
    const params = ParamLayout.of(bench.g).init(1);
    const inf = await Session.create(inferenceModel(bench.g, params, { outputs: ["pred"] }).bytes);
    const inferFeeds = Object.fromEntries(
      Object.entries(bench.feeds).filter(([k]) => inf.inputs.some((d) => d.name === k)),
    );
    const program = buildTrainingGraph(bench.g, bench.loss, { clipNorm: 1, weightDecay: 1e-6 });
    const trainer = new TrainingGraph(program, await Session.create(program.model.bytes), { params });
    const ours: number[] = [];
    const theirs: number[] = [];
    const oursInfer: number[] = [];
    for (let i = 0; i < 2; i++) await trainer.step(bench.feeds, 1e-4);
    await torch?.time(`${kind} 2`);
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      for (let i = 0; i < steps; i++) await trainer.step(bench.feeds, 1e-4);
      ours.push((performance.now() - t0) / 1000 / steps);
      t0 = performance.now();
      for (let i = 0; i < steps; i++) await inf.run(inferFeeds);
      oursInfer.push((performance.now() - t0) / 1000 / steps);
      if (torch) theirs.push(await torch.time(`${kind} ${steps}`));
      process.stderr.write(
        `  ${kind} round ${r + 1}: ours ${(ours[r] as number) * 1e3} ms/step` +
          (torch ? `, torch ${(theirs[r] as number) * 1e3} ms/step` : "") +
          `, inference ${(oursInfer[r] as number) * 1e3} ms\n`,
      );
    }
    const step = median(ours);
    result[`params_${kind}`] = program.layout.total;
    result[`train_ms_${kind}`] = +(step * 1e3).toFixed(2);
    result[`train_gflops_${kind}`] = +((3 * fwd) / step / 1e9).toFixed(1);
    result[`infer_gflops_${kind}`] = +(fwd / median(oursInfer) / 1e9).toFixed(1);
    result[`torch_train_ms_${kind}`] = torch ? +(median(theirs) * 1e3).toFixed(2) : null;
    result[`ratio_vs_torch_${kind}`] = torch ? +(median(theirs) / step).toFixed(3) : null;
    await inf.release();
  }
  torch?.stop();
  return result;
}
