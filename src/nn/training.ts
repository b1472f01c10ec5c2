// The training graph: forward + backward + gradient-norm clipping + AdamW, fused into one ONNX model, and its runner.
import { DuetError, type Executor, type TensorData } from "../core/index.ts";
import { backward } from "./autodiff.ts";
import type { GraphBuilder } from "./graph.ts";
import { toOnnx, type OnnxModel } from "./onnx.ts";
import { ParamLayout } from "./params.ts";
import type { Tensor } from "./tensor.ts";
export interface AdamWOptions {
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay, applied to parameters marked `decay` (default 1e-2, PyTorch's). */
  weightDecay?: number;
  /** Clip the global gradient L2 norm to this value (default: no clipping). */
  clipNorm?: number;
}

/** Names of the fused training graph's state inputs and outputs. */
export const TRAIN_IO = {
  params: "params",
  m: "adam_m",
  v: "adam_v",
  lr: "lr",
  bc1: "bias_correction1",
  bc2: "bias_correction2",
  noiseSeed: "noise_seed",
  loss: "loss",
  gradNorm: "grad_norm",
  newParams: "new_params",
  newM: "new_m",
  newV: "new_v",
} as const;

export interface TrainingProgram {
  model: OnnxModel;
  layout: ParamLayout;
  adamw: Required<Omit<AdamWOptions, "clipNorm">> & { clipNorm: number | null };
  /** Inputs the caller feeds each step (everything except parameters, optimizer state and hyper-parameters). */
  dataInputs: string[];
  usesNoise: boolean;
}

/**
 * Differentiate scalar `loss` w.r.t. every parameter on `g`, then append clipping and AdamW over the flat vectors.
 * Inputs: params, adam_m, adam_v [P], lr, bias_correction1 (1−β1^t), bias_correction2 (1−β2^t) scalars, noise_seed
 * (if dropout is used), and the data inputs. Outputs: the outputs already on `g` (e.g. predictions), then loss,
 * grad_norm (before clipping), new_params, new_m, new_v.
 */
export function buildTrainingGraph(g: GraphBuilder, loss: Tensor, options: AdamWOptions = {}): TrainingProgram {
  if (loss.shape.length !== 0) throw new DuetError(`buildTrainingGraph: loss must be a scalar, got [${loss.shape}]`);
  const o = {
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    eps: options.eps ?? 1e-8,
    weightDecay: options.weightDecay ?? 1e-2,
    clipNorm: options.clipNorm ?? null,
  };
  const userOutputs = [...g.outputs.keys()];
  const dataInputs = g.inputs.map((t) => t.name).filter((n) => n !== TRAIN_IO.noiseSeed);
  const usesNoise = g.inputs.some((t) => t.name === TRAIN_IO.noiseSeed);
  const layout = ParamLayout.of(g);
  const p = layout.total;
  // Scopes name the phases in node names (`grad.`, `flat.`, `adamw.`): onnxruntime's per-node profile splits by them.
  const grads = g.scope("grad", () => backward(g, loss, g.params));
  const flatGrad = g.scope("flat", () =>
    g.concat(
      g.params.map((t, i) => {
        const gr = grads[i];
        return gr
          ? g.reshape(gr, [-1])
          : g.constant(new Float32Array(layout.entry(t.name).size), [layout.entry(t.name).size]);
      }),
      0,
    ),
  );
  const params = g.input(TRAIN_IO.params, [p], { batchAxis: null });
  const m = g.input(TRAIN_IO.m, [p], { batchAxis: null });
  const v = g.input(TRAIN_IO.v, [p], { batchAxis: null });
  const lr = g.input(TRAIN_IO.lr, [], { batchAxis: null });
  const bc1 = g.input(TRAIN_IO.bc1, [], { batchAxis: null });
  const bc2 = g.input(TRAIN_IO.bc2, [], { batchAxis: null });
  const { norm, newParams, newM, newV } = g.scope("adamw", () => {
    // AdamW over the flat vectors in few passes over P (each costs about as much as onnxruntime's kernel launch and
    // the arithmetic together): the clip factor is folded into the moments' scalar coefficients, bias corrections
    // and the learning rate into one scalar: 16 passes over P where the textbook order took 19 (and 2 output copies).
    const grad2 = g.mul(flatGrad, flatGrad);
    const norm = g.sqrt(g.reduceSum(grad2, [0]));
    const clip = o.clipNorm === null ? null : g.min(1, g.div(o.clipNorm, g.add(norm, 1e-6)));
    const newM = g.add(g.mul(m, o.beta1), g.mul(flatGrad, clip ? g.mul(clip, 1 - o.beta1) : 1 - o.beta1));
    const newV = g.add(g.mul(v, o.beta2), g.mul(grad2, clip ? g.mul(g.mul(clip, clip), 1 - o.beta2) : 1 - o.beta2));
    // lr·m̂/(√v̂ + ε) = m/(√v + ε·√bc2) · lr·√bc2/bc1
    const sqrtBc2 = g.sqrt(bc2);
    const ratio = g.div(newM, g.add(g.sqrt(newV), g.mul(sqrtBc2, o.eps)));
    const update = g.mul(ratio, g.div(g.mul(lr, sqrtBc2), bc1));
    // Decoupled decay first, as PyTorch does: p·(1 − lr·wd) where the parameter decays.
    let decayed = params;
    const mask = layout.decayMask();
    if (o.weightDecay > 0 && mask.some((x) => x === 1)) {
      const rate = g.mul(lr, o.weightDecay);
      const keep = mask.every((x) => x === 1) ? g.sub(1, rate) : g.sub(1, g.mul(g.constant(mask, [p]), rate));
      decayed = g.mul(params, keep);
    }
    return { norm, newParams: g.sub(decayed, update), newM, newV };
  });
  g.output(TRAIN_IO.loss, loss);
  g.output(TRAIN_IO.gradNorm, norm);
  g.output(TRAIN_IO.newParams, newParams);
  g.output(TRAIN_IO.newM, newM);
  g.output(TRAIN_IO.newV, newV);
  const model = toOnnx(g, {
    name: "train",
    outputs: [...userOutputs, TRAIN_IO.loss, TRAIN_IO.gradNorm, TRAIN_IO.newParams, TRAIN_IO.newM, TRAIN_IO.newV],
    params: { mode: "flat", layout, input: params },
  });
  return { model, layout, adamw: o, dataInputs, usesNoise };
}

/** A training step produced a NaN or infinite loss; parameters and optimizer state were left at the last good step. */
export class NonFiniteLossError extends DuetError {
  override name = "NonFiniteLossError";
  constructor(
    readonly step: number,
    readonly loss: number,
  ) {
    super(`training step ${step}: loss is ${loss}; stopped, parameters kept from step ${step - 1}`);
  }
}

export interface StepResult {
  loss: number;
  gradNorm: number;
}

/**
 * Parameters, AdamW moments and the step count: everything a checkpoint needs to resume exactly. The arrays belong to
 * the TrainingGraph: a step writes the next state into a second set of arrays and swaps the two, so an array read
 * from the state is overwritten by the step after next. Read them from the state after each step (or copy them).
 */
export interface TrainState {
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** Completed optimizer steps. */
  step: number;
}

function scalarOut(out: Record<string, TensorData>, name: string): number {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array)) throw new DuetError(`training graph: missing output '${name}'`);
  return t.data[0] as number;
}

/** A flat [P] float32 tensor: the array a state feed or a preallocated state output points at. */
interface FlatTensor {
  data: Float32Array;
  dims: readonly number[];
}

/** `into`'s array, after checking that the executor returned it as output `name`, written in place. */
function written(out: Record<string, TensorData>, name: string, into: FlatTensor): Float32Array {
  if (out[name]?.data !== into.data) {
    throw new DuetError(`training graph: the executor did not write output '${name}' into the array it was given`);
  }
  return into.data;
}

/**
 * Runs a TrainingProgram on an executor. Holds the flat parameter and moment arrays in `state` and a spare set of the
 * same size: each step feeds the state, has the executor write new_params/new_m/new_v into the spare arrays in place,
 * then swaps the two sets (a NaN loss leaves the state as it was). It fetches only the loss, the gradient norm and the
 * state, not the graph's other outputs. onnxruntime-node 1.30 and 1.31.1 still copy every fetched output into a new
 * array of their own (dropped here), so this saves onnxruntime's own output buffers, not that copy.
 * `step()` is the hot path (reuses its feed and fetch objects and scalar buffers; not reentrant — await each step
 * before the next).
 */
export class TrainingGraph {
  readonly state: TrainState;
  private readonly feeds: Record<string, TensorData> = {};
  private readonly fetches: Record<string, TensorData | null> = {};
  private readonly lrBuf = new Float32Array(1);
  private readonly bc1Buf = new Float32Array(1);
  private readonly bc2Buf = new Float32Array(1);
  private readonly seedBuf = new Float32Array(1);
  private readonly paramsFeed: FlatTensor;
  private readonly mFeed: FlatTensor;
  private readonly vFeed: FlatTensor;
  private readonly paramsOut: FlatTensor;
  private readonly mOut: FlatTensor;
  private readonly vOut: FlatTensor;

  /** `initial`'s arrays are copied: the trainer's state arrays are its own. */
  constructor(
    readonly program: TrainingProgram,
    private readonly executor: Executor,
    initial: { params: Float32Array; m?: Float32Array; v?: Float32Array; step?: number },
  ) {
    const p = program.layout.total;
    const given = { params: initial.params, m: initial.m, v: initial.v };
    for (const [name, a] of Object.entries(given)) {
      if (a !== undefined && a.length !== p) {
        throw new DuetError(`TrainingGraph: initial ${name} has ${a.length} values, the model has ${p} parameters`);
      }
    }
    const own = (a: Float32Array | undefined): Float32Array => (a ? Float32Array.from(a) : new Float32Array(p));
    this.state = { params: own(initial.params), m: own(initial.m), v: own(initial.v), step: initial.step ?? 0 };
    this.feeds[TRAIN_IO.params] = this.paramsFeed = { data: this.state.params, dims: [p] };
    this.feeds[TRAIN_IO.m] = this.mFeed = { data: this.state.m, dims: [p] };
    this.feeds[TRAIN_IO.v] = this.vFeed = { data: this.state.v, dims: [p] };
    this.feeds[TRAIN_IO.lr] = { data: this.lrBuf, dims: [] };
    this.feeds[TRAIN_IO.bc1] = { data: this.bc1Buf, dims: [] };
    this.feeds[TRAIN_IO.bc2] = { data: this.bc2Buf, dims: [] };
    if (program.usesNoise) this.feeds[TRAIN_IO.noiseSeed] = { data: this.seedBuf, dims: [] };
    this.fetches[TRAIN_IO.loss] = null;
    this.fetches[TRAIN_IO.gradNorm] = null;
    this.fetches[TRAIN_IO.newParams] = this.paramsOut = { data: new Float32Array(p), dims: [p] };
    this.fetches[TRAIN_IO.newM] = this.mOut = { data: new Float32Array(p), dims: [p] };
    this.fetches[TRAIN_IO.newV] = this.vOut = { data: new Float32Array(p), dims: [p] };
  }

  /**
   * One optimizer step on `batch` (the data inputs) at learning rate `lr`. Throws NonFiniteLossError (naming the
   * step) and leaves the state untouched when the loss is NaN or infinite.
   */
  async step(batch: Readonly<Record<string, TensorData>>, lr: number): Promise<StepResult> {
    const t = this.state.step + 1;
    const { beta1, beta2 } = this.program.adamw;
    this.lrBuf[0] = lr;
    this.bc1Buf[0] = 1 - Math.pow(beta1, t);
    this.bc2Buf[0] = 1 - Math.pow(beta2, t);
    this.seedBuf[0] = (t * 78.233) % (2 * Math.PI);
    const s = this.state;
    this.paramsFeed.data = s.params;
    this.mFeed.data = s.m;
    this.vFeed.data = s.v;
    for (const name of this.program.dataInputs) {
      const d = batch[name];
      if (d) this.feeds[name] = d;
      else delete this.feeds[name];
    }
    const out = await this.executor.run(this.feeds, this.fetches);
    const loss = scalarOut(out, TRAIN_IO.loss);
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(t, loss);
    // The executor wrote the new state into the spare arrays: they become the state, the old state the spare.
    const { params, m, v } = s;
    s.params = written(out, TRAIN_IO.newParams, this.paramsOut);
    s.m = written(out, TRAIN_IO.newM, this.mOut);
    s.v = written(out, TRAIN_IO.newV, this.vOut);
    s.step = t;
    this.paramsOut.data = params;
    this.mOut.data = m;
    this.vOut.data = v;
    return { loss, gradNorm: scalarOut(out, TRAIN_IO.gradNorm) };
  }
}
