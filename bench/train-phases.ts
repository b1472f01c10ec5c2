// The phases of a training step, read from onnxruntime's per-node profile. buildTrainingGraph names its nodes by
// scope — `grad.` the backward pass, `flat.` the gradients gathered into one vector, `adamw.` clipping and AdamW —
// and toOnnx unpacks each parameter from the flat input with `<param>/Slice` + `/Reshape` (onnxruntime fuses them
// into one Split); every other node is the forward pass and the loss.
import type { ProfileEvent } from "../src/runtime/index.ts";
import { median } from "./median.ts";

/**
 * forward, backward, flatten (gradients into one vector), optimizer (norm, clip, AdamW), unpack (parameters out of
 * the flat input), executor (onnxruntime's run minus its kernels), io (the step's wall time minus onnxruntime's run:
 * feeds and outputs crossing between JS and onnxruntime, the trainer's own work).
 */
export const PHASES = ["forward", "backward", "flatten", "optimizer", "unpack", "executor", "io"] as const;
export type Phase = (typeof PHASES)[number];

function phaseOf(node: string): Phase {
  if (node.startsWith("grad.")) return "backward";
  if (node.startsWith("flat.")) return "flatten";
  if (node.startsWith("adamw.")) return "optimizer";
  if (/\/(Slice|Reshape)(\/|$)/.test(node)) return "unpack";
  return "forward";
}

const KERNEL = "_kernel_time";

/**
 * Median ms of each phase over the last `walls.length` runs in `events`, whose wall times (ms, in order, measured
 * around each training step) are `walls`.
 */
export function phaseSplit(events: readonly ProfileEvent[], walls: readonly number[]): Record<Phase, number> {
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run").slice(-walls.length);
  const kernels = events.filter((e) => e.cat === "Node" && e.name.endsWith(KERNEL)).sort((a, b) => a.ts - b.ts);
  const per = Object.fromEntries(PHASES.map((p) => [p, [] as number[]])) as Record<Phase, number[]>;
  let k = 0;
  runs.forEach((run, i) => {
    const sums = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
    while (k < kernels.length && (kernels[k] as ProfileEvent).ts < run.ts) k++;
    let inKernels = 0;
    for (; k < kernels.length && (kernels[k] as ProfileEvent).ts <= run.ts + run.dur; k++) {
      const e = kernels[k] as ProfileEvent;
      sums[phaseOf(e.name.slice(0, -KERNEL.length))] += e.dur / 1000;
      inKernels += e.dur / 1000;
    }
    sums.executor = run.dur / 1000 - inKernels;
    sums.io = (walls[i] as number) - run.dur / 1000;
    for (const p of PHASES) per[p].push(sums[p]);
  });
  return Object.fromEntries(PHASES.map((p) => [p, +median(per[p]).toFixed(2)])) as Record<Phase, number>;
}
