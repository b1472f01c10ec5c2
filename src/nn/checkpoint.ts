// Checkpoints in the safetensors format: every parameter by name, AdamW moments, EMA, and a JSON metadata header
// (step, RNG state, architecture signature). Written to a temp file then renamed; loading refuses bad files.
import { readFileSync } from "node:fs";
import { DuetError, ValidationError, writeAtomic, type Issue } from "../core/index.ts";
import { ParamLayout } from "./params.ts";

export const CHECKPOINT_FORMAT = "duet-checkpoint-v1";

export interface Checkpoint {
  params: Float32Array;
  m: Float32Array | null;
  v: Float32Array | null;
  ema: Float32Array | null;
  /** Completed optimizer steps. */
  step: number;
  /** `Rng.getState()` of the data pipeline, for exact resume. */
  rng: number[] | null;
  /** Free-form string metadata (model config, dataset, …). */
  extra: Record<string, string>;
}

const OPTIM = { m: "optimizer.adam_m", v: "optimizer.adam_v", ema: "ema" } as const;

/** Write `ckpt` to `path` atomically (the previous file stays intact until the rename). */
export function saveCheckpoint(path: string, layout: ParamLayout, ckpt: Checkpoint): void {
  const bad = [...findNonFinite(layout, ckpt)];
  if (bad.length > 0) throw new DuetError(`${path}: refusing to save non-finite values in ${bad.join(", ")}`);
  const parts: { name: string; shape: readonly number[]; data: Float32Array }[] = layout.entries.map((e) => ({
    name: e.name,
    shape: e.shape,
    data: ckpt.params.subarray(e.offset, e.offset + e.size),
  }));
  for (const key of ["m", "v", "ema"] as const) {
    const data = ckpt[key];
    if (data) parts.push({ name: OPTIM[key], shape: [layout.total], data });
  }
  const header: Record<string, unknown> = {
    __metadata__: {
      ...ckpt.extra,
      format: CHECKPOINT_FORMAT,
      step: String(ckpt.step),
      rng: JSON.stringify(ckpt.rng),
      architecture: layout.signature(),
    },
  };
  let offset = 0;
  for (const p of parts) {
    header[p.name] = { dtype: "F32", shape: p.shape, data_offsets: [offset, offset + p.data.byteLength] };
    offset += p.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeAtomic(path, [
    head,
    Buffer.from(json),
    ...parts.map((p) => new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength)),
  ]);
}

function* findNonFinite(layout: ParamLayout, c: Pick<Checkpoint, "params" | "m" | "v" | "ema">): Generator<string> {
  for (const e of layout.entries) {
    const v = c.params.subarray(e.offset, e.offset + e.size);
    if (!v.every(Number.isFinite)) yield e.name;
  }
  for (const key of ["m", "v", "ema"] as const) {
    const data = c[key];
    if (data && !data.every(Number.isFinite)) yield OPTIM[key];
  }
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The safetensors header of a checkpoint file and the bytes after it; refuses files that are not checkpoints. */
function readHeader(path: string): {
  buf: Buffer;
  n: number;
  header: Record<string, unknown>;
  meta: Record<string, string>;
} {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new DuetError(`${path}: cannot read checkpoint (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (buf.length < 8) throw new DuetError(`${path}: truncated checkpoint (${buf.length} bytes, no safetensors header)`);
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) {
    throw new DuetError(`${path}: truncated checkpoint (header declares ${n} bytes, file has ${buf.length - 8})`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString("utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new DuetError(`${path}: not a safetensors checkpoint (bad header JSON: ${(e as Error).message})`);
  }
  const meta = (header.__metadata__ ?? {}) as Record<string, string>;
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new DuetError(`${path}: metadata.format is ${JSON.stringify(meta.format)}, expected "${CHECKPOINT_FORMAT}"`);
  }
  return { buf, n, header, meta };
}

/** A checkpoint's free-form metadata (`Checkpoint.extra`), read without knowing its network. */
export function checkpointMetadata(path: string): Record<string, string> {
  return readHeader(path).meta;
}

/** The parameters a checkpoint holds, as the layout it was saved with (to read a checkpoint of another network). */
export function checkpointLayout(path: string): ParamLayout {
  const { header } = readHeader(path);
  const optim = new Set<string>(Object.values(OPTIM));
  const entries = Object.entries(header)
    .filter(([k]) => k !== "__metadata__" && !optim.has(k))
    .map(([name, h]) => ({ name, h: h as HeaderEntry }))
    .sort((a, b) => a.h.data_offsets[0] - b.h.data_offsets[0]);
  return new ParamLayout(
    entries.map(({ name, h }) => ({ name, shape: h.shape, init: { kind: "const", value: 0 }, decay: false })),
  );
}

/** Read a checkpoint for `layout`; throws (naming the file) when it is truncated, of another architecture, or has NaNs. */
export function loadCheckpoint(path: string, layout: ParamLayout): Checkpoint {
  const { buf, n, header, meta } = readHeader(path);
  const data = buf.subarray(8 + n);
  const entries = Object.entries(header).filter(([k]) => k !== "__metadata__") as [string, HeaderEntry][];
  const end = Math.max(0, ...entries.map(([, e]) => e.data_offsets[1]));
  if (end > data.length) {
    throw new DuetError(`${path}: truncated checkpoint (tensors need ${end} data bytes, file has ${data.length})`);
  }
  const issues: Issue[] = [];
  const byName = new Map(entries);
  for (const e of layout.entries) {
    const h = byName.get(e.name);
    if (!h) issues.push({ path: e.name, expected: `F32 [${e.shape.join(",")}]`, received: "nothing (missing)" });
    else if (h.dtype !== "F32" || h.shape.join(",") !== e.shape.join(",")) {
      issues.push({
        path: e.name,
        expected: `F32 [${e.shape.join(",")}]`,
        received: `${h.dtype} [${h.shape.join(",")}]`,
      });
    }
  }
  const known = new Set([...layout.entries.map((e) => e.name), ...Object.values(OPTIM)]);
  for (const [name] of entries) {
    if (!known.has(name)) issues.push({ path: name, expected: "no such parameter", received: "an extra tensor" });
  }
  for (const [key, name] of Object.entries(OPTIM)) {
    const h = byName.get(name);
    if (h && h.shape.join(",") !== String(layout.total)) {
      issues.push({ path: name, expected: `[${layout.total}] (${key})`, received: `[${h.shape.join(",")}]` });
    }
  }
  if (issues.length > 0) throw new ValidationError(`${path}: checkpoint of another architecture`, issues);

  const read = (h: HeaderEntry): Float32Array => {
    const bytes = data.subarray(h.data_offsets[0], h.data_offsets[1]);
    const out = new Float32Array(bytes.length / 4);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  };
  const params = new Float32Array(layout.total);
  for (const e of layout.entries) params.set(read(byName.get(e.name) as HeaderEntry), e.offset);
  const opt = (name: string): Float32Array | null => {
    const h = byName.get(name);
    return h ? read(h) : null;
  };
  const ckpt: Checkpoint = {
    params,
    m: opt(OPTIM.m),
    v: opt(OPTIM.v),
    ema: opt(OPTIM.ema),
    step: Number(meta.step ?? 0),
    rng: meta.rng ? (JSON.parse(meta.rng) as number[] | null) : null,
    extra: Object.fromEntries(
      Object.entries(meta).filter(([k]) => !["format", "step", "rng", "architecture"].includes(k)),
    ),
  };
  const bad = [...findNonFinite(layout, ckpt)];
  if (bad.length > 0) throw new DuetError(`${path}: checkpoint has NaN or infinite values in ${bad.join(", ")}`);
  return ckpt;
}
