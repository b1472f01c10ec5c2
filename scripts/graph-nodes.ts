// How many nodes an exported graph has, as written and as onnxruntime runs it (after its graph optimizer, level
// "all": constant folding, fusions): per op type, and per denoising step when --steps is given (a sampler graph).
//
//   node --import tsx scripts/graph-nodes.ts MODEL.onnx [MODEL.onnx ...] [--steps 10]
//
// Prints one JSON object per file, one per line.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { onnxOpCounts } from "../src/nn/index.ts";
import { Session } from "../src/runtime/index.ts";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { steps: { type: "string" } } });
if (positionals.length === 0) throw new Error("usage: scripts/graph-nodes.ts MODEL.onnx [MODEL.onnx ...] [--steps N]");
const steps = values.steps === undefined ? null : Number(values.steps);
const dir = mkdtempSync(join(tmpdir(), "duet-graph-nodes-"));

/** Op counts, most frequent first, with their total (and per step). */
function summary(counts: Map<string, number>): Record<string, unknown> {
  const total = [...counts.values()].reduce((p, q) => p + q, 0);
  return {
    nodes: total,
    ...(steps ? { nodes_per_step: Number((total / steps).toFixed(1)) } : {}),
    ops: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])),
  };
}

for (const [i, file] of positionals.entries()) {
  const optimized = join(dir, `${i}.onnx`);
  const session = await Session.create(file, { intraOpThreads: 1, optimizedModelPath: optimized });
  await session.release();
  const row = {
    file,
    written: summary(onnxOpCounts(readFileSync(file), file)),
    optimized: summary(onnxOpCounts(readFileSync(optimized), optimized)),
  };
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
