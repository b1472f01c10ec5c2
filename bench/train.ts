// `npm run bench -- train [--rounds N] [--python PATH]`: the training step of an MLP (~1.1M params, batch 256, GELU,
// 512-1024-512-128) and of a Diffusion-Policy U-Net block stack (batch 64, T 16, 256 channels) against the same models
// in PyTorch (2 threads each), and inference GFLOP/s. FLOPs = MatMul FLOPs of the forward graph (×3 for a step).
// PyTorch runs bench/train_torch.py under `--python PATH`, else $DUET_TORCH_PYTHON, else the first `python3` that
// imports torch (e.g. `python3 -m venv /work/torch-venv && /work/torch-venv/bin/pip install torch numpy`, then
// DUET_TORCH_PYTHON=/work/torch-venv/bin/python); without one the PyTorch fields are null.
// Each round alternates: our steps (each timed), a pause so that spinning worker threads of the side that ran go idle,
// PyTorch's steps, our inference; every figure is a median over rounds. JSON per model (`mlp`, `unet`): train_ms,
// torch_train_ms, vs_torch (PyTorch's ms / ours: above 1 is faster than PyTorch), phases_ms (ours, from onnxruntime's
// per-node profile: bench/train-phases.ts), torch_phases_ms (forward, backward, optimizer = clip + AdamW + zero_grad);
// and torch_version.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DuetError, Rng } from "../src/core/index.ts";
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
import { intArg } from "../src/cli/args.ts";
import { matmulFlops } from "../src/encoders/index.ts";
import { Session, type TensorData } from "../src/runtime/index.ts";
import { median } from "./median.ts";
import { option } from "./option.ts";
import { phaseSplit } from "./train-phases.ts";

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

/** PyTorch's medians over one batch of steps (ms): the step and its phases. */
interface TorchTiming {
  step: number;
  forward: number;
  backward: number;
  optimizer: number;
}

class Torch {
  private constructor(
    private readonly proc: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    readonly version: string,
  ) {}

  static async start(python: string): Promise<Torch> {
    const script = fileURLToPath(new URL("./train_torch.py", import.meta.url));
    const proc = spawn(python, [script, JSON.stringify(CFG)], { stdio: ["pipe", "pipe", "pipe"] });
    proc.stderr.on("data", (d: Buffer) => process.stderr.write(d));
    const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    const [word, version] = String(first.value ?? "").split(" ");
    if (word !== "ready" || !version) throw new DuetError(`train_torch.py did not start (said ${String(first.value)})`);
    return new Torch(proc, lines, version);
  }

  /** Run `steps` training steps of `kind` in PyTorch. */
  async time(kind: string, steps: number): Promise<TorchTiming> {
    this.proc.stdin.write(`${kind} ${steps}\n`);
    const r = await this.lines.next();
    if (r.done) throw new DuetError("train_torch.py exited early");
    return JSON.parse(String(r.value)) as TorchTiming;
  }

  stop(): void {
    this.proc.stdin.end();
  }
}

/** The Python that runs train_torch.py: `--python`, else $DUET_TORCH_PYTHON, else the first python3 with torch. */
function findPython(chosen: string | undefined): string | null {
  const candidates = chosen ? [chosen] : ["python3", "/usr/bin/python3"];
  for (const py of candidates) {
    const r = spawnSync(py, ["-c", "import torch"], { stdio: "ignore" });
    if (r.status === 0) return py;
  }
  if (chosen) throw new DuetError(`--python / DUET_TORCH_PYTHON: ${chosen} cannot import torch`);
  return null;
}

const ms = (x: number): number => +x.toFixed(2);

/** Time between the two sides, so that the worker threads of the one that ran stop spinning before the other runs. */
const SETTLE_MS = 200;

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const { values, positionals } = parseArgs({
    args,
    options: { rounds: { type: "string" }, python: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  const rounds = option("rounds", values.rounds ?? positionals[0], intArg(1), 5);
  const python = findPython(values.python ?? process.env.DUET_TORCH_PYTHON);
  const torch = python ? await Torch.start(python) : null;
  process.stderr.write(
    `train bench: ${rounds} rounds, PyTorch ${torch ? `${torch.version} via ${python}` : "not available"}\n`,
  );
  const profileDir = mkdtempSync(join(tmpdir(), "duet-train-bench-"));
  const result: Record<string, unknown> = { torch_version: torch?.version ?? null };
  try {
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
      const session = await Session.create(program.model.bytes, { profilePrefix: join(profileDir, kind) });
      const trainer = new TrainingGraph(program, session, { params });
      const ours: number[] = [];
      const walls: number[] = [];
      const theirs: TorchTiming[] = [];
      const oursInfer: number[] = [];
      for (let i = 0; i < 2; i++) await trainer.step(bench.feeds, 1e-4);
      await torch?.time(kind, 2);
      for (let r = 0; r < rounds; r++) {
        await sleep(SETTLE_MS);
        const round: number[] = [];
        for (let i = 0; i < steps; i++) {
          const t0 = performance.now();
          await trainer.step(bench.feeds, 1e-4);
          round.push(performance.now() - t0);
        }
        walls.push(...round);
        ours.push(median(round));
        await sleep(SETTLE_MS);
        if (torch) theirs.push(await torch.time(kind, steps));
        await sleep(SETTLE_MS);
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) await inf.run(inferFeeds);
        oursInfer.push((performance.now() - t0) / steps);
        const them = theirs[r];
        process.stderr.write(
          `  ${kind} round ${r + 1}: ours ${ms(ours[r] as number)} ms/step` +
            (them ? `, torch ${ms(them.step)} ms/step` : "") +
            `, inference ${ms(oursInfer[r] as number)} ms\n`,
        );
      }
      const step = median(ours);
      const torchMedian = (key: keyof TorchTiming): number => median(theirs.map((t) => t[key]));
      result[kind] = {
        params: program.layout.total,
        train_ms: ms(step),
        torch_train_ms: torch ? ms(torchMedian("step")) : null,
        vs_torch: torch ? +(torchMedian("step") / step).toFixed(3) : null,
        train_gflops: +((3 * fwd) / step / 1e6).toFixed(1),
        infer_gflops: +(fwd / median(oursInfer) / 1e6).toFixed(1),
        phases_ms: phaseSplit(session.endProfiling(), walls),
        torch_phases_ms: torch
          ? {
              forward: ms(torchMedian("forward")),
              backward: ms(torchMedian("backward")),
              optimizer: ms(torchMedian("optimizer")),
            }
          : null,
      };
      await inf.release();
      await session.release();
    }
  } finally {
    torch?.stop();
    rmSync(profileDir, { recursive: true, force: true });
  }
  return result;
}
