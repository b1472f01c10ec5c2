// Export to the diffusion_policy replay-buffer layout (zarr v2 directory store):
//   OUT.zarr/.zgroup
//   OUT.zarr/data/<key>/.zarray, .zattrs, chunks "i.0.0…"   arrays concatenated along time (axis 0)
//   OUT.zarr/meta/episode_ends/.zarray, chunk "0"           int64, cumulative episode ends
// Keys: data/state (N,Ds) float32, data/action (N,Da) float32, data/timestamp (N,) float32,
// data/environment_state (N,De) float32 when recorded, data/audio (N,S) float32 when recorded (each frame's mono
// sound; its .zattrs holds sample_rate), data/<camera> (N,H,W,3) uint8. Chunks are stored uncompressed
// (compressor: null), which every zarr reader accepts; recompress with zarr itself if size matters.
import { dirname, join } from "node:path";
import { AUDIO_KEY, AUDIO_SAMPLE_RATE, DuetError } from "../core/index.ts";
import type { Dataset } from "./dataset.ts";
import { nodeFs, type DatasetFs } from "./fs.ts";

type ZarrDtype = "<f4" | "<i8" | "|u1";
const BYTES: Record<ZarrDtype, number> = { "<f4": 4, "<i8": 8, "|u1": 1 };

/** Target bytes per chunk of an exported array. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** Streams rows of one array into fixed-size chunk files along axis 0. */
class ZarrArrayWriter {
  private readonly rowBytes: number;
  private readonly chunkRows: number;
  private readonly buffer: Uint8Array;
  private filled = 0;
  private chunk = 0;
  private rows = 0;

  constructor(
    private readonly fs: DatasetFs,
    private readonly dir: string,
    private readonly dtype: ZarrDtype,
    private readonly rowShape: readonly number[],
  ) {
    this.rowBytes = rowShape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    this.chunkRows = Math.max(1, Math.min(Math.floor(CHUNK_BYTES / this.rowBytes), 100_000));
    this.buffer = new Uint8Array(this.chunkRows * this.rowBytes);
    fs.mkdirp(dir);
  }

  /** Append rows given as raw little-endian bytes (a whole number of rows). */
  append(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(bytes.length - off, this.buffer.length - this.filled);
      this.buffer.set(bytes.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === this.buffer.length) this.flush();
    }
    this.rows += bytes.length / this.rowBytes;
  }

  private flush(): void {
    // Edge chunks are written full size (zarr v2), the tail filled with zeros.
    this.buffer.fill(0, this.filled);
    const key = [String(this.chunk), ...this.rowShape.map(() => "0")].join(".");
    this.fs.writeFile(join(this.dir, key), this.buffer);
    this.chunk++;
    this.filled = 0;
  }

  finish(attrs: Record<string, unknown> = {}): void {
    if (this.filled > 0) this.flush();
    const zarray = {
      zarr_format: 2,
      shape: [this.rows, ...this.rowShape],
      chunks: [this.chunkRows, ...this.rowShape],
      dtype: this.dtype,
      compressor: null,
      fill_value: 0,
      order: "C",
      filters: null,
      dimension_separator: ".",
    };
    this.fs.writeFile(join(this.dir, ".zarray"), JSON.stringify(zarray, null, 2));
    this.fs.writeFile(join(this.dir, ".zattrs"), JSON.stringify(attrs, null, 2));
  }
}

function bytesOf(a: Float32Array | BigInt64Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export interface ExportResult {
  out: string;
  episodes: number;
  frames: number;
  /** Array path (e.g. "data/action") → shape. */
  arrays: Record<string, number[]>;
}

/**
 * Write `dataset` to `out` (must not exist) as a diffusion_policy replay buffer. Written under a temp name and renamed
 * at the end, so a partial export never looks complete.
 */
export async function exportZarr(
  dataset: Dataset,
  out: string,
  options: { fs?: DatasetFs; onEpisode?: (done: number, total: number) => void } = {},
): Promise<ExportResult> {
  const fs = options.fs ?? nodeFs();
  if (fs.exists(out)) throw new DuetError(`${out}: already exists; choose a new path or delete it`);
  const tmp = `${out}.duet-tmp`;
  if (fs.exists(tmp)) throw new DuetError(`${tmp}: left over from an interrupted export; delete it first`);
  fs.mkdirp(dirname(out));
  const group = (dir: string) => {
    fs.mkdirp(dir);
    fs.writeFile(join(dir, ".zgroup"), JSON.stringify({ zarr_format: 2 }));
    fs.writeFile(join(dir, ".zattrs"), "{}");
  };
  group(tmp);
  group(join(tmp, "data"));
  group(join(tmp, "meta"));
  const { spec } = dataset;
  const state = new ZarrArrayWriter(fs, join(tmp, "data/state"), "<f4", [spec.stateNames.length]);
  const action = new ZarrArrayWriter(fs, join(tmp, "data/action"), "<f4", [spec.actionNames.length]);
  const timestamp = new ZarrArrayWriter(fs, join(tmp, "data/timestamp"), "<f4", []);
  const envNames = spec.environmentNames;
  const environment =
    envNames && new ZarrArrayWriter(fs, join(tmp, "data/environment_state"), "<f4", [envNames.length]);
  const ns = spec.audioSamples;
  const audio = ns !== undefined ? new ZarrArrayWriter(fs, join(tmp, "data/audio"), "<f4", [ns]) : undefined;
  const cams = spec.cameras.map((c) => ({
    cam: c,
    w: new ZarrArrayWriter(fs, join(tmp, "data", c.name), "|u1", [c.height, c.width, 3]),
  }));
  const ends = new BigInt64Array(dataset.episodes.length);
  let frames = 0;
  for (const meta of dataset.episodes) {
    const ep = await dataset.episode(meta.episodeIndex);
    state.append(bytesOf(ep.state));
    action.append(bytesOf(ep.action));
    timestamp.append(bytesOf(ep.timestamp));
    if (environment) environment.append(bytesOf(ep.environment as Float32Array));
    if (audio) audio.append(bytesOf(ep.audio as Float32Array));
    for (const { cam, w } of cams) for (const f of ep.images[cam.name] ?? []) w.append(f.data);
    frames += meta.length;
    ends[meta.episodeIndex] = BigInt(frames);
    options.onEpisode?.(meta.episodeIndex + 1, dataset.episodes.length);
  }
  state.finish({ names: spec.stateNames, source: "observation.state" });
  action.finish({ names: spec.actionNames, source: "action" });
  timestamp.finish({ source: "timestamp" });
  environment?.finish({ names: envNames, source: "observation.environment_state" });
  audio?.finish({ source: AUDIO_KEY, sample_rate: AUDIO_SAMPLE_RATE, channels: 1 });
  for (const { cam, w } of cams) w.finish({ source: `observation.images.${cam.name}` });
  const endsWriter = new ZarrArrayWriter(fs, join(tmp, "meta/episode_ends"), "<i8", []);
  endsWriter.append(bytesOf(ends));
  endsWriter.finish();
  fs.writeFile(
    join(tmp, ".zattrs"),
    JSON.stringify({ fps: dataset.info.fps, robot_type: dataset.info.robot_type, source: "duet LeRobot v3.0 dataset" }),
  );
  fs.rename(tmp, out);
  const arrays: Record<string, number[]> = {
    "data/state": [frames, spec.stateNames.length],
    "data/action": [frames, spec.actionNames.length],
    "data/timestamp": [frames],
    ...(envNames && { "data/environment_state": [frames, envNames.length] }),
    ...(ns !== undefined && { "data/audio": [frames, ns] }),
    "meta/episode_ends": [dataset.episodes.length],
  };
  for (const c of spec.cameras) arrays[`data/${c.name}`] = [frames, c.height, c.width, 3];
  return { out, episodes: dataset.episodes.length, frames, arrays };
}

/** A zarr v2 array read whole (uncompressed chunks, C order, '.' separator). */
export interface ZarrArray {
  shape: number[];
  dtype: string;
  data: Float32Array | BigInt64Array | Uint8Array;
}

/** Read an uncompressed zarr v2 array written by `exportZarr` (or any zarr with compressor null, C order). */
export function readZarrArray(path: string, fs: DatasetFs = nodeFs()): ZarrArray {
  const meta = JSON.parse(Buffer.from(fs.readFile(join(path, ".zarray"))).toString("utf8")) as {
    shape: number[];
    chunks: number[];
    dtype: string;
    compressor: unknown;
    order: string;
  };
  if (meta.compressor !== null || meta.order !== "C") {
    throw new DuetError(
      `${path}/.zarray: only uncompressed C-order arrays are supported (compressor ${JSON.stringify(meta.compressor)}, order ${meta.order})`,
    );
  }
  const size = BYTES[meta.dtype as ZarrDtype];
  if (size === undefined) throw new DuetError(`${path}/.zarray: dtype ${meta.dtype} not supported`);
  const n = meta.shape[0] ?? 0;
  const rowBytes = meta.shape.slice(1).reduce((a, b) => a * b, 1) * size;
  const chunkRows = meta.chunks[0] ?? 1;
  const bytes = new Uint8Array(n * rowBytes);
  for (let c = 0; c * chunkRows < n; c++) {
    const key = [String(c), ...meta.shape.slice(1).map(() => "0")].join(".");
    const chunk = fs.readFile(join(path, key));
    const rows = Math.min(chunkRows, n - c * chunkRows);
    bytes.set(chunk.subarray(0, rows * rowBytes), c * chunkRows * rowBytes);
  }
  const data =
    meta.dtype === "<f4"
      ? new Float32Array(bytes.buffer)
      : meta.dtype === "<i8"
        ? new BigInt64Array(bytes.buffer)
        : bytes;
  return { shape: meta.shape, dtype: meta.dtype, data };
}
