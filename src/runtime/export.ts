// Export an inference graph: `<path>.onnx` plus `<path>.json` metadata, written atomically (temp file, then rename).
import { renameSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { loadJsonFile } from "../core/index.ts";
import type { DeclaredValue } from "./session.ts";

const valueSchema = z.object({
  name: z.string(),
  dtype: z.enum(["float32", "int64", "bool"]),
  shape: z.array(z.union([z.number().int().positive(), z.string()])),
});

/** What sits next to an exported `.onnx`: declared inputs/outputs and free-form model information. */
export const modelMetadataSchema = z.object({
  format: z.literal("duet-onnx-v1"),
  opset: z.number().int(),
  inputs: z.array(valueSchema),
  outputs: z.array(valueSchema),
  info: z.record(z.string(), z.unknown()),
});
export type ModelMetadata = z.infer<typeof modelMetadataSchema>;

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Write `base.onnx` and `base.json`; returns both paths. */
export function exportModel(
  base: string,
  bytes: Uint8Array,
  spec: { opset: number; inputs: readonly DeclaredValue[]; outputs: readonly DeclaredValue[] },
  info: Record<string, unknown> = {},
): { onnx: string; json: string } {
  const onnx = `${base}.onnx`;
  const json = `${base}.json`;
  const meta: ModelMetadata = {
    format: "duet-onnx-v1",
    opset: spec.opset,
    inputs: spec.inputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] })),
    outputs: spec.outputs.map((v) => ({ name: v.name, dtype: v.dtype, shape: [...v.shape] })),
    info,
  };
  writeAtomic(onnx, bytes);
  writeAtomic(json, `${JSON.stringify(meta, null, 2)}\n`);
  return { onnx, json };
}

/** Read and validate `base.json`. */
export function loadModelMetadata(base: string): ModelMetadata {
  return loadJsonFile(`${base}.json`, modelMetadataSchema);
}
