// Training a denoiser on a frozen observer: the camera encoders come from an earlier run (its EMA weights, what it
// exported) and stay fixed, so every frame's features are computed once and a training step costs what a state-only
// step costs. The earlier run trains the observer (with the scene loss and image shifts); this one trains the
// denoiser for longer than joint training could afford (docs/experiments). The features are kept in the run's
// `train/` folder (row-file.ts), so a resumed or re-exported run reads them back instead of computing them again.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DuetError, ValidationError, type Issue } from "../core/index.ts";
import type { Dataset } from "../data/index.ts";
import {
  ParamLayout,
  checkpointLayout,
  float16Bits,
  float16Value,
  loadCheckpoint,
  readOnnxParams,
  type WeightPrecision,
} from "../nn/index.ts";
import {
  MODEL_FILE,
  PolicyNetwork,
  featureInput,
  imageInput,
  readPolicyModel,
  type CameraShape,
} from "../policy/index.ts";
import { Session } from "../runtime/index.ts";
import { shiftImage } from "../encoders/index.ts";
import { RowFile } from "./row-file.ts";

/** The camera encoders of an earlier run: their parameters (`obs.<camera>.…`) as their own layout, and values. */
export interface FrozenObserver {
  /** The run directory they came from. */
  from: string;
  /** Optimizer steps that run had taken, and its training wall time (s). */
  steps: number;
  wall_s: number;
  layout: ParamLayout;
  params: Float32Array;
}

/** The camera-encoder parameters of `network`, every camera's, as one layout. */
function observerLayout(network: PolicyNetwork): ParamLayout {
  return new ParamLayout(
    network.shape.cameras.flatMap((c) => ParamLayout.of(network.cameraFeatureGraph(c, 1)).entries),
  );
}

/** Where frozen encoder weights come from: their encoder config, parameters by name, and the run's steps and time. */
interface ObserverSource {
  encoder: unknown;
  param: (name: string) => { shape: readonly number[]; values: Float32Array } | undefined;
  steps: number;
  wall_s: number;
}

/** A training run's checkpoint at `path`: its EMA weights, as its export has them. */
function checkpointSource(path: string): ObserverSource {
  const layout = checkpointLayout(path);
  const ck = loadCheckpoint(path, layout);
  const ema = ck.ema;
  if (!ema) throw new DuetError(`${path}: has no EMA weights to take the observer from`);
  let encoder: unknown;
  try {
    encoder = (JSON.parse(ck.extra.config ?? "null") as { policy?: { encoder?: unknown } } | null)?.policy?.encoder;
  } catch {
    encoder = undefined;
  }
  const entries = new Map(layout.entries.map((e) => [e.name, e]));
  return {
    encoder,
    param: (name) => {
      const e = entries.get(name);
      return e && { shape: e.shape, values: layout.view(ema, e.name) };
    },
    steps: ck.step,
    wall_s: Math.round(Number(ck.extra.wall_s ?? 0)),
  };
}

/** An exported model directory (model.json + its encoder graph): what a shipped model offers without its checkpoint. */
function modelSource(dir: string): ObserverSource {
  const model = readPolicyModel(dir);
  const file = join(dir, model.files.encoder);
  if (!existsSync(file))
    throw new DuetError(`--observer-from ${dir}: ${file} is missing (listed in ${MODEL_FILE}); re-export the model`);
  const params = readOnnxParams(readFileSync(file), file);
  type Trained = { steps?: unknown; wall_s?: unknown };
  const prov = model.provenance as Trained & { observer_from?: Trained };
  // a model that itself trained on a frozen observer: its encoder's training is that observer's, not its own run's
  const encoderRun = prov.observer_from ?? prov;
  return {
    encoder: model.config.encoder,
    param: (name) => params.get(name),
    steps: Number(encoderRun.steps ?? 0),
    wall_s: Math.round(Number(encoderRun.wall_s ?? 0)),
  };
}

/**
 * The camera encoders of `from` for `network`: a training run's EMA weights (its checkpoint at `path`) or, where
 * there is no checkpoint (the models in git ship without one), an exported model's encoder graph. Refused, naming
 * what differs, unless the source had the same encoder config and a parameter of the same shape for each camera's
 * encoder. `source` names the config in errors.
 */
export function loadFrozenObserver(from: string, path: string, network: PolicyNetwork, source: string): FrozenObserver {
  const p = network.config;
  if (!p.encoder || network.shape.cameras.length === 0)
    throw new DuetError(`--observer-from ${from}: ${source} has no cameras, so there is no observer to freeze`);
  // a goal picture goes through the camera encoder being trained; a goal embedding has no parameters and fits
  if (p.goal && p.goal.embedding === undefined)
    throw new DuetError(`--observer-from ${from}: ${source} reads a goal picture; a frozen observer does not take one`);
  let src: ObserverSource;
  if (existsSync(path)) src = checkpointSource(path);
  else if (existsSync(join(from, MODEL_FILE))) src = modelSource(from);
  else
    throw new DuetError(
      `--observer-from ${from}: neither ${path} (a training run) nor ${join(from, MODEL_FILE)} (an exported model) is there`,
    );
  const issues: Issue[] = [];
  if (JSON.stringify(src.encoder) !== JSON.stringify(p.encoder))
    issues.push({ path: "policy.encoder", expected: JSON.stringify(p.encoder), received: JSON.stringify(src.encoder) });
  const layout = observerLayout(network);
  for (const e of layout.entries) {
    const s = src.param(e.name);
    if (!s || s.shape.join(",") !== e.shape.join(","))
      issues.push({
        path: e.name,
        expected: `[${e.shape.join(",")}]`,
        received: s ? `[${s.shape.join(",")}]` : "nothing (that run has no such camera encoder)",
      });
  }
  if (issues.length > 0)
    throw new ValidationError(`--observer-from ${from}: its observer is not the one ${source} asks for`, issues);
  const params = new Float32Array(layout.total);
  for (const e of layout.entries) params.set((src.param(e.name) as { values: Float32Array }).values, e.offset);
  return { from, steps: src.steps, wall_s: src.wall_s, layout, params };
}

/** The full policy's weights: the frozen observer's and the trained ones (`layout`, `params`), side by side. */
export function withObserver(
  observer: FrozenObserver,
  layout: ParamLayout,
  params: Float32Array,
): { layout: ParamLayout; params: Float32Array } {
  const all = new Float32Array(observer.layout.total + layout.total);
  all.set(observer.params);
  all.set(params, observer.layout.total);
  return { layout: new ParamLayout([...observer.layout.entries, ...layout.entries]), params: all };
}

/** Frames per encoder run while caching. */
const CACHE_BATCH = 64;
/** Encoder runs between two writes to disk. */
const BLOCK_BATCHES = 4;

/** The features' files in the run's `train/` folder (`features.f32`, `features.json`; row-file.ts). */
export const FEATURES_FILE = "features";

/** What a frozen observer's features are computed from: features on disk are used only when all of it is the same. */
export interface FeaturesIdentity {
  /** The observer's run or model directory (`--observer-from`, or a distillation's teacher), resolved. */
  observer: string;
  /** SHA-256 of its camera encoders' parameters as the features use them: names, shapes, values at `precision`. */
  parameters: string;
  precision: WeightPrecision;
  encoder: unknown;
  cameras: readonly CameraShape[];
  /** The dataset root, resolved. */
  dataset: string;
  episodes: readonly number[];
  /** SHA-256 of these episodes' metadata (length, seed, per-episode statistics …): re-recorded ones differ. */
  episodeMeta: string;
}

/**
 * Every frame's features for each camera (`frames × F`, episodes one after another), computed once per run and kept
 * in its `train/` folder, so a resumed or re-exported run reads them back:
 *
 *   OUT/train/features.f32    cameras × frames × F float32 (camera after camera)
 *   OUT/train/features.json   what they were computed from (FeaturesIdentity), and how many rows are done
 */
export class FeatureCache {
  private constructor(
    /** F: features per camera and frame. */
    readonly dim: number,
    /** Episode index → its first row. */
    private readonly firstRow: ReadonlyMap<number, number>,
    private readonly rows: Readonly<Record<string, Float32Array>>,
  ) {}

  /**
   * The frozen encoders' features (their weights stored at `precision`, as the exported encoder will have them) of
   * every frame of `episodes`: read back from `dir` (the run's `train/` folder) where they are there, continued where
   * an interrupted run left them, computed otherwise, CACHE_BATCH frames an encoder run, camera after camera.
   * `onProgress(done, total, readBack)` in camera frames: once when some were read back, then after each batch.
   */
  static async load(options: {
    dir: string;
    dataset: Dataset;
    episodes: readonly number[];
    network: PolicyNetwork;
    observer: FrozenObserver;
    precision: WeightPrecision;
    threads: number;
    /** Continuing a run from its checkpoint (it trained on the features in `dir`): another observer's or dataset's
     * features there are refused, not replaced. */
    resume: boolean;
    onProgress?: (done: number, total: number, readBack: number) => void;
  }): Promise<FeatureCache> {
    const { dataset, episodes, network, observer } = options;
    const dim = network.observer.encoder?.featureDim ?? 0;
    const firstRow = new Map<number, number>();
    const frames: [number, number][] = [];
    for (const e of episodes) {
      firstRow.set(e, frames.length);
      const len = (dataset.episodes[e] as { length: number }).length;
      for (let t = 0; t < len; t++) frames.push([e, t]);
    }
    const cameras = network.shape.cameras;
    const total = frames.length * cameras.length;
    const identity: FeaturesIdentity = {
      observer: resolve(observer.from),
      parameters: parametersHash(observer, options.precision),
      precision: options.precision,
      encoder: network.config.encoder,
      cameras: cameras.map(({ name, height, width }) => ({ name, height, width })),
      dataset: resolve(dataset.root),
      episodes,
      episodeMeta: sha256(JSON.stringify(episodes.map((e) => dataset.episodes[e]))),
    };
    const file = RowFile.open({
      path: join(options.dir, FEATURES_FILE),
      identity,
      rows: total,
      rowSize: dim,
      // Features of another identity. A new run's features are its own: a new run meets features in its --out
      // when it starts from the run there (--init-from the same folder), which it replaces, or where a run stopped
      // while computing them, before it trained; so they are computed afresh (a run continued with --resume before
      // its first checkpoint too). A run resumed from its checkpoint has trained on them: another observer (say, its
      // run trained further since) would pair the exported encoder with a denoiser trained on other features, and
      // another dataset changes the split, so that resume is refused, and the message says how to accept the change.
      // Only the precision may change on it (--weights, to re-export a finished run), as it could before features
      // were kept: they are computed as the exported encoder will have them.
      otherIdentity: (differs, metaFile, was) =>
        !options.resume || onlyPrecision(was, differs, observer)
          ? "replace"
          : new DuetError(
              `${metaFile}: the observer features this run trained on were computed from other inputs: ` +
                `${differs.map((k) => `${k} (${brief(was, k)} there, ${brief(identity, k)} now)`).join(", ")}; ` +
                `resume with the observer and dataset they came from, or delete ${FEATURES_FILE}.f32 and ` +
                `${FEATURES_FILE}.json beside it to continue on features computed afresh`,
            ),
    });
    const readBack = file.done;
    if (readBack > 0) options.onProgress?.(readBack, total, readBack);
    if (file.done < total) await dataset.load(episodes);
    const rows: Record<string, Float32Array> = {};
    for (const [c, cam] of cameras.entries()) {
      const first = c * frames.length;
      const end = first + frames.length;
      rows[cam.name] = file.data.subarray(first * dim, end * dim);
      if (end <= file.done) continue;
      const model = PolicyNetwork.compile(
        network.cameraFeatureGraph(cam, CACHE_BATCH),
        observer.layout,
        observer.params,
        options.precision,
      );
      const session = await Session.create(model.bytes, {
        intraOpThreads: options.threads,
        label: `${cam.name} encoder`,
      });
      const hw3 = cam.height * cam.width * 3;
      const images = new Float32Array(CACHE_BATCH * hw3);
      let batches = 0;
      // batches start at multiples of CACHE_BATCH within each camera, so a continued run's are those of one that
      // was not interrupted (and writes are at batch ends)
      for (let start = 0; start < frames.length; start += CACHE_BATCH) {
        const n = Math.min(CACHE_BATCH, frames.length - start);
        if (first + start + n <= file.done) continue;
        for (let i = 0; i < n; i++) {
          const [e, t] = frames[start + i] as [number, number];
          shiftImage(dataset.frame(cam.name, e, t), 0, images, i * hw3, cam.height, cam.width, 0, 0);
        }
        const result = await session.run({
          [imageInput(cam.name)]: { data: images, dims: [CACHE_BATCH, cam.height, cam.width, 3] },
        });
        const f = result[featureInput(cam.name)]?.data as Float32Array;
        file.data.set(f.subarray(0, n * dim), (first + start) * dim);
        const done = first + start + n;
        if (++batches % BLOCK_BATCHES === 0 || done === end) file.commit(done);
        options.onProgress?.(done, total, readBack);
      }
      await session.release();
    }
    return new FeatureCache(dim, firstRow, rows);
  }

  /** Copy camera `camera`'s features of frame `t` of episode `episode` into `dst` at `offset`. */
  read(camera: CameraShape, episode: number, t: number, dst: Float32Array, offset: number): void {
    const row = this.firstRow.get(episode);
    const data = this.rows[camera.name];
    if (row === undefined || !data) throw new RangeError(`no cached features for ${camera.name} episode ${episode}`);
    dst.set(data.subarray((row + t) * this.dim, (row + t + 1) * this.dim), offset);
  }
}

/** SHA-256 of the observer's camera-encoder parameters as they are used at `precision`: names, shapes and values. */
function parametersHash(observer: FrozenObserver, precision: WeightPrecision): string {
  const { layout, params } = observer;
  const used = precision === "float16" ? params.map((v) => float16Value(float16Bits(v))) : params;
  return createHash("sha256")
    .update(JSON.stringify(layout.entries.map((e) => [e.name, e.shape])))
    .update(new Uint8Array(used.buffer, used.byteOffset, used.byteLength))
    .digest("hex");
}

/**
 * Whether features of identity `was`, which differs in `differs`, are of the same observer at another precision: the
 * parameters as used differ then too, but rounded at `was`'s precision they are what `was` says.
 */
function onlyPrecision(was: unknown, differs: readonly string[], observer: FrozenObserver): boolean {
  const old = was as Partial<FeaturesIdentity>;
  return (
    differs.every((k) => k === "precision" || k === "parameters") &&
    (old.precision === "float32" || old.precision === "float16") &&
    parametersHash(observer, old.precision) === old.parameters
  );
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Field `key` of an identity, in an error: its JSON cut short, a long list as its ends and length. */
function brief(of: unknown, key: string): string {
  const value = (of as Record<string, unknown> | null)?.[key];
  const json = JSON.stringify(value) ?? "nothing";
  if (Array.isArray(value) && json.length > 40)
    return `[${JSON.stringify(value[0])},…,${JSON.stringify(value.at(-1))}] (${value.length})`;
  return json.length > 40 ? `${json.slice(0, 40)}…` : json;
}
