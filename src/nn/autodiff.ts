// Reverse-mode autodiff at the ONNX-operator level: one exhaustive gradient-rule table typed over the op union.
import { DuetError } from "../core/index.ts";
import type { GraphBuilder } from "./graph.ts";
import { numel, type Node, type OpType, type Tensor } from "./tensor.ts";

/** Given a node and the gradient of its output, the gradients of its inputs (null: not differentiable / int). */
export type GradRule = (g: GraphBuilder, node: Node, gy: Tensor) => readonly (Tensor | null)[];

/** Sum `grad` over the axes that broadcasting expanded, so it takes `shape`. */
export function sumTo(g: GraphBuilder, grad: Tensor, shape: readonly number[]): Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.shape.length - shape.length;
  const axes: number[] = [];
  grad.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  const summed = axes.length > 0 ? g.reduceSum(grad, axes, true) : grad;
  return g.reshape(summed, shape.length === 0 ? [] : shape);
}

function input(node: Node, i: number): Tensor {
  const t = node.inputs[i];
  if (!t) throw new DuetError(`autodiff: node '${node.name}' has no input ${i}`);
  return t;
}

function swapLast(g: GraphBuilder, t: Tensor): Tensor {
  const r = t.shape.length;
  const perm = t.shape.map((_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return g.transpose(t, perm);
}

/** Gradient of a MatMul operand B [K,N] when A is [..., M, K]: one 2-D product instead of a batched one. */
function matmulRhsGrad(g: GraphBuilder, a: Tensor, b: Tensor, gy: Tensor): Tensor {
  if (b.shape.length === 2 && a.shape.length > 2) {
    const k = a.shape[a.shape.length - 1] as number;
    const n = gy.shape[gy.shape.length - 1] as number;
    const a2 = g.reshape(a, [-1, k]);
    const gy2 = g.reshape(gy, [-1, n]);
    return g.matmul(g.transpose(a2, [1, 0]), gy2);
  }
  return sumTo(g, g.matmul(swapLast(g, a), gy), b.shape);
}

const noGrad: GradRule = (_g, node) => node.inputs.map(() => null);

/** The table: an op without an entry here does not compile. */
export const gradRules: { readonly [K in OpType]: GradRule } = {
  Add: (g, n, gy) => [sumTo(g, gy, input(n, 0).shape), sumTo(g, gy, input(n, 1).shape)],
  Sub: (g, n, gy) => [sumTo(g, gy, input(n, 0).shape), sumTo(g, g.neg(gy), input(n, 1).shape)],
  Mul: (g, n, gy) => [
    sumTo(g, g.mul(gy, input(n, 1)), input(n, 0).shape),
    sumTo(g, g.mul(gy, input(n, 0)), input(n, 1).shape),
  ],
  Div: (g, n, gy) => {
    const b = input(n, 1);
    const ga = g.div(gy, b);
    return [sumTo(g, ga, input(n, 0).shape), sumTo(g, g.neg(g.mul(ga, n.output)), b.shape)];
  },
  Min: (g, n, gy) => {
    const a = input(n, 0);
    const b = input(n, 1);
    const bWins = g.less(b, a);
    return [sumTo(g, g.where(bWins, 0, gy), a.shape), sumTo(g, g.where(bWins, gy, 0), b.shape)];
  },
  Neg: (g, _n, gy) => [g.neg(gy)],
  Exp: (g, n, gy) => [g.mul(gy, n.output)],
  Log: (g, n, gy) => [g.div(gy, input(n, 0))],
  Pow: (g, n, gy) => {
    const p = input(n, 1);
    if (p.kind !== "const" || !p.data) throw new DuetError(`autodiff: Pow node '${n.name}' needs a constant exponent`);
    const e = Number(p.data[0]);
    const x = input(n, 0);
    const dx = e === 2 ? g.mul(x, 2) : g.mul(g.pow(x, e - 1), e);
    return [sumTo(g, g.mul(gy, dx), x.shape), null];
  },
  Sqrt: (g, n, gy) => [g.div(g.mul(gy, 0.5), n.output)],
  Reciprocal: (g, n, gy) => [g.neg(g.mul(gy, g.mul(n.output, n.output)))],
  Tanh: (g, n, gy) => [g.mul(gy, g.sub(1, g.mul(n.output, n.output)))],
  Sigmoid: (g, n, gy) => [g.mul(gy, g.mul(n.output, g.sub(1, n.output)))],
  Relu: (g, n, gy) => [g.where(g.less(0, input(n, 0)), gy, 0)],
  Erf: (g, n, gy) => {
    const x = input(n, 0);
    return [g.mul(gy, g.mul(2 / Math.sqrt(Math.PI), g.exp(g.neg(g.mul(x, x)))))];
  },
  Sin: (g, n, gy) => [g.mul(gy, g.cos(input(n, 0)))],
  Cos: (g, n, gy) => [g.neg(g.mul(gy, g.sin(input(n, 0))))],
  Floor: noGrad,
  MatMul: (g, n, gy) => {
    const a = input(n, 0);
    const b = input(n, 1);
    return [sumTo(g, g.matmul(gy, swapLast(g, b)), a.shape), matmulRhsGrad(g, a, b, gy)];
  },
  Transpose: (g, n, gy) => {
    const perm = n.args.perm ?? [];
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [g.transpose(gy, inv)];
  },
  Reshape: (g, n, gy) => [g.reshape(gy, input(n, 0).shape)],
  Slice: (g, n, gy) => {
    const x = input(n, 0);
    const r = x.shape.length;
    const pads = new Array<number>(2 * r).fill(0);
    (n.args.axes ?? []).forEach((axis, i) => {
      pads[axis] = n.args.starts?.[i] ?? 0;
      pads[axis + r] = (x.shape[axis] as number) - (n.args.ends?.[i] ?? 0);
    });
    return [g.pad(gy, pads)];
  },
  Concat: (g, n, gy) => {
    const axis = n.args.axis ?? 0;
    let offset = 0;
    return n.inputs.map((x) => {
      const len = x.shape[axis] as number;
      const part = g.slice(gy, [axis], [offset], [offset + len]);
      offset += len;
      return part;
    });
  },
  Pad: (g, n, gy) => {
    const x = input(n, 0);
    const pads = n.args.pads ?? [];
    const axes = x.shape.map((_, i) => i);
    const starts = axes.map((i) => pads[i] as number);
    const ends = axes.map((i) => (pads[i] as number) + (x.shape[i] as number));
    return [g.slice(gy, axes, starts, ends)];
  },
  Expand: (g, n, gy) => [sumTo(g, gy, input(n, 0).shape)],
  ReduceSum: (g, n, gy) => [reduceGrad(g, n, gy, 1)],
  ReduceMean: (g, n, gy) => {
    const x = input(n, 0);
    const count = (n.args.axes ?? []).reduce((p, a) => p * (x.shape[a] as number), 1);
    return [reduceGrad(g, n, gy, 1 / count)];
  },
  Softmax: (g, n, gy) => {
    const y = n.output;
    const s = g.reduceSum(g.mul(gy, y), [n.args.axis ?? -1], true);
    return [g.mul(y, g.sub(gy, s))];
  },
  LogSoftmax: (g, n, gy) => {
    const s = g.reduceSum(gy, [n.args.axis ?? -1], true);
    return [g.sub(gy, g.mul(g.exp(n.output), s))];
  },
  Gather: (g, n, gy) => {
    const data = input(n, 0);
    const idx = input(n, 1);
    const v = data.shape[0] as number;
    const rows = numel(idx.shape);
    const range = g.constant(
      BigInt64Array.from({ length: v }, (_, i) => BigInt(i)),
      [1, v],
    );
    const oneHot = g.cast(g.equal(g.reshape(idx, [rows, 1]), range), "float32");
    const gy2 = g.reshape(gy, [rows, numel(data.shape.slice(1))]);
    return [g.reshape(g.matmul(g.transpose(oneHot, [1, 0]), gy2), data.shape), null];
  },
  Equal: noGrad,
  Less: noGrad,
  Cast: (g, n, gy) => [input(n, 0).dtype === "float32" && n.output.dtype === "float32" ? g.identity(gy) : null],
  Where: (g, n, gy) => {
    const c = input(n, 0);
    return [null, sumTo(g, g.where(c, gy, 0), input(n, 1).shape), sumTo(g, g.where(c, 0, gy), input(n, 2).shape)];
  },
  Identity: (_g, _n, gy) => [gy],
};

function reduceGrad(g: GraphBuilder, n: Node, gy: Tensor, scale: number): Tensor {
  const x = input(n, 0);
  const axes = n.args.axes ?? [];
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const gk = g.reshape(gy, kept);
  const scaled = scale === 1 ? gk : g.mul(gk, scale);
  return g.expand(scaled, x.shape);
}

/**
 * Append the backward pass of `loss` (any shape; its gradient seed is ones) to `g` and return d loss / d t for
 * each of `wrt` (null where `loss` does not depend on it). Traversal stops at `wrt` tensors.
 */
export function backward(g: GraphBuilder, loss: Tensor, wrt: readonly Tensor[]): (Tensor | null)[] {
  if (loss.dtype !== "float32") throw new DuetError(`backward: loss must be float32, got ${loss.dtype}`);
  const targets = new Set(wrt.map((t) => t.id));
  // Nodes whose output depends on a target.
  const depends = new Set<number>(targets);
  const nodes = g.nodes.slice(0, g.nodes.findIndex((n) => n.output === loss) + 1);
  for (const n of nodes) {
    if (targets.has(n.output.id)) continue;
    if (n.inputs.some((i) => depends.has(i.id))) depends.add(n.output.id);
  }
  const grads = new Map<number, Tensor>();
  grads.set(loss.id, loss.shape.length === 0 ? g.scalar(1) : g.expand(g.scalar(1), loss.shape));
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k] as Node;
    if (targets.has(n.output.id)) continue;
    const gy = grads.get(n.output.id);
    if (!gy || !depends.has(n.output.id)) continue;
    const gi = gradRules[n.op](g, n, gy);
    n.inputs.forEach((x, i) => {
      const gx = gi[i];
      if (!gx || !depends.has(x.id) || x.dtype !== "float32") return;
      const prev = grads.get(x.id);
      grads.set(x.id, prev ? g.add(prev, gx) : gx);
    });
  }
  return wrt.map((t) => grads.get(t.id) ?? null);
}
