// meta/info.json of a LeRobot v3.0 dataset: schema (zod), defaults, path templates and the features it declares.
import { z } from "zod";
import {
  ACTION_KEY,
  AUDIO_KEY,
  AUDIO_SAMPLE_RATE,
  ENVIRONMENT_KEY,
  IMAGE_KEY_PREFIX,
  STATE_KEY,
  imageKey,
  type Issue,
} from "../core/index.ts";

/** The LeRobot dataset format version this module reads and writes. */
export const CODEBASE_VERSION = "v3.0";
/** LeRobot's defaults: files per chunk folder, and the sizes at which a data/video file is closed and a new one begun. */
export const DEFAULT_CHUNKS_SIZE = 1000;
export const DEFAULT_DATA_FILE_SIZE_MB = 100;
export const DEFAULT_VIDEO_FILE_SIZE_MB = 500;
export const INFO_PATH = "meta/info.json";
export const STATS_PATH = "meta/stats.json";
export const TASKS_PATH = "meta/tasks.parquet";
export const DEFAULT_DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet";
export const DEFAULT_VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4";
export const DEFAULT_EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet";

/** Frame bookkeeping columns every LeRobot dataset has (after the robot's own features). */
export const TIMESTAMP_KEY = "timestamp";
export const FRAME_INDEX_KEY = "frame_index";
export const EPISODE_INDEX_KEY = "episode_index";
export const INDEX_KEY = "index";
export const TASK_INDEX_KEY = "task_index";
export const DEFAULT_FEATURES = {
  [TIMESTAMP_KEY]: { dtype: "float32", shape: [1], names: null },
  [FRAME_INDEX_KEY]: { dtype: "int64", shape: [1], names: null },
  [EPISODE_INDEX_KEY]: { dtype: "int64", shape: [1], names: null },
  [INDEX_KEY]: { dtype: "int64", shape: [1], names: null },
  [TASK_INDEX_KEY]: { dtype: "int64", shape: [1], names: null },
} as const satisfies Record<string, Feature>;

const featureSchema = z.object({
  /** numpy dtype name ("float32", "int64", …) or "image" / "video" / "string". */
  dtype: z.string().min(1),
  /** Shape of one frame's value: [D] for vectors, [H, W, C] for images, [1] for scalars. */
  shape: z.array(z.int().positive()).min(1),
  /** Names of the vector's entries, of an image's axes, or null. */
  names: z.union([z.array(z.string()), z.null(), z.record(z.string(), z.array(z.string()))]),
  /** Free-form details (video codec …). */
  info: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type Feature = z.output<typeof featureSchema>;
export type Features = Record<string, Feature>;

const template = (...vars: string[]) =>
  z
    .string()
    .refine((s) => vars.every((v) => s.includes(`{${v}`)), { message: `a template containing {${vars.join("}, {")}}` });

/**
 * The scenario a simulated dataset was recorded in: its name, and the SHA-256 of its resolved content (the scenario as
 * loaded, defaults filled in), so a copy under another file name is the same scenario and an edited one is not.
 */
export const datasetScenarioSchema = z.object({ name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type DatasetScenario = z.output<typeof datasetScenarioSchema>;

export const infoSchema = z
  .looseObject({
    codebase_version: z.literal(CODEBASE_VERSION),
    robot_type: z.string().nullable(),
    total_episodes: z.int().nonnegative(),
    total_frames: z.int().nonnegative(),
    total_tasks: z.int().nonnegative(),
    chunks_size: z.int().positive(),
    data_files_size_in_mb: z.number().positive(),
    video_files_size_in_mb: z.number().positive(),
    fps: z.int().positive(),
    /** Split name → "from:to" episode range. */
    splits: z.record(z.string(), z.string().regex(/^\d+:\d+$/, "a range 'from:to'")),
    data_path: template("chunk_index", "file_index"),
    video_path: template("video_key", "chunk_index", "file_index").nullable(),
    features: z.record(z.string(), featureSchema),
    /** duet: the simulated scenario the episodes were recorded in (absent: a robot, or an older dataset). */
    scenario: datasetScenarioSchema.optional(),
  })
  .superRefine((info, ctx) => {
    for (const [key, want] of Object.entries(DEFAULT_FEATURES)) {
      const have = info.features[key];
      if (have === undefined) {
        ctx.addIssue({ code: "custom", path: ["features", key], message: `feature ${key} (${want.dtype}, [1])` });
      } else if (have.dtype !== want.dtype) {
        ctx.addIssue({ code: "custom", path: ["features", key, "dtype"], message: JSON.stringify(want.dtype) });
      }
    }
  });
export type DatasetInfo = z.output<typeof infoSchema>;

/** What a dataset records, from which the info.json features follow. */
export const datasetSpecSchema = z.object({
  /** Control rate (Hz) = frames per second. */
  fps: z.int().positive(),
  /** Robot name stored as `robot_type`. */
  robotType: z.string().min(1),
  /** Names of the Ds entries of `observation.state`. */
  stateNames: z.array(z.string()).min(1),
  /** Names of the Da entries of `action`. */
  actionNames: z.array(z.string()).min(1),
  /**
   * Names of the De entries of `observation.environment_state` (privileged simulator scene state, a training target
   * only). Undefined (the default): the dataset has no such feature.
   */
  environmentNames: z.array(z.string()).min(1).optional(),
  /**
   * S: mono sound samples per frame in `observation.audio` (AUDIO_SAMPLE_RATE / fps: the control period that ended at
   * the frame's observation). Undefined (the default): the dataset has no such feature.
   */
  audioSamples: z.int().positive().optional(),
  /** Cameras in dataset order with their frame size. Empty: no images. */
  cameras: z.array(z.object({ name: z.string().min(1), height: z.int().positive(), width: z.int().positive() })),
});
export type DatasetSpec = z.output<typeof datasetSpecSchema>;

/** The info.json features of a dataset recorded to `spec`, in LeRobot's column order. */
export function featuresFromSpec(spec: DatasetSpec): Features {
  const features: Features = {
    [STATE_KEY]: { dtype: "float32", shape: [spec.stateNames.length], names: [...spec.stateNames] },
    [ACTION_KEY]: { dtype: "float32", shape: [spec.actionNames.length], names: [...spec.actionNames] },
  };
  if (spec.environmentNames !== undefined) {
    const names = spec.environmentNames;
    features[ENVIRONMENT_KEY] = { dtype: "float32", shape: [names.length], names: [...names] };
  }
  if (spec.audioSamples !== undefined) features[AUDIO_KEY] = audioFeature(spec.audioSamples);
  for (const cam of spec.cameras) {
    features[imageKey(cam.name)] = {
      dtype: "image",
      shape: [cam.height, cam.width, 3],
      names: ["height", "width", "channels"],
    };
  }
  for (const [key, f] of Object.entries(DEFAULT_FEATURES)) features[key] = { ...f, shape: [...f.shape] };
  return features;
}

/** Keys of the audio feature's `info`, named as LeRobot names a video feature's (`video.fps`, `video.codec`, …). */
export const AUDIO_RATE_INFO = "audio.sample_rate";
export const AUDIO_CHANNELS_INFO = "audio.channels";

/**
 * The `observation.audio` feature: S float32 samples per frame, stored inline as a fixed-size list like any vector.
 * The samples are not named (`names: null`: they are instants, not entries), and the sample rate and channel count go
 * in the feature's `info` object, which LeRobot's feature schema carries (its video features keep `video.fps` there) and
 * its readers pass through untouched.
 */
function audioFeature(samples: number): Feature {
  return {
    dtype: "float32",
    shape: [samples],
    names: null,
    info: { [AUDIO_RATE_INFO]: AUDIO_SAMPLE_RATE, [AUDIO_CHANNELS_INFO]: 1 },
  };
}

/**
 * The spec a dataset's features describe; issues list what does not fit duet's layout. `environmentNames` is set only
 * when the dataset has an `observation.environment_state` feature, `audioSamples` only when it has `observation.audio`.
 */
export function specFromInfo(info: DatasetInfo): { spec: DatasetSpec; issues: Issue[] } {
  const issues: Issue[] = [];
  const vector = (key: string): string[] => {
    const f = info.features[key];
    if (f === undefined) {
      issues.push({ path: `features.${key}`, expected: "a float32 vector feature", received: "nothing (missing)" });
      return [];
    }
    if (f.dtype !== "float32") {
      issues.push({ path: `features.${key}.dtype`, expected: '"float32"', received: JSON.stringify(f.dtype) });
    }
    if (f.shape.length !== 1) {
      issues.push({ path: `features.${key}.shape`, expected: "[D]", received: JSON.stringify(f.shape) });
    }
    const n = f.shape[0] ?? 0;
    return Array.isArray(f.names) && f.names.length === n
      ? f.names
      : Array.from({ length: n }, (_, i) => `${key}_${i}`);
  };
  const stateNames = vector(STATE_KEY);
  const actionNames = vector(ACTION_KEY);
  const cameras: DatasetSpec["cameras"] = [];
  for (const [key, f] of Object.entries(info.features)) {
    if (!key.startsWith(IMAGE_KEY_PREFIX)) continue;
    if (f.dtype !== "image") {
      const what = f.dtype === "video" ? " (video features are not supported; record with images)" : "";
      issues.push({ path: `features.${key}.dtype`, expected: `"image"${what}`, received: JSON.stringify(f.dtype) });
      continue;
    }
    const [height, width, channels] = f.shape;
    if (f.shape.length !== 3 || channels !== 3 || height === undefined || width === undefined) {
      issues.push({ path: `features.${key}.shape`, expected: "[height, width, 3]", received: JSON.stringify(f.shape) });
      continue;
    }
    cameras.push({ name: key.slice(IMAGE_KEY_PREFIX.length), height, width });
  }
  const spec: DatasetSpec = {
    fps: info.fps,
    robotType: info.robot_type ?? "unknown",
    stateNames,
    actionNames,
    cameras,
  };
  if (info.features[ENVIRONMENT_KEY] !== undefined) spec.environmentNames = vector(ENVIRONMENT_KEY);
  const audio = info.features[AUDIO_KEY];
  if (audio !== undefined) {
    spec.audioSamples = vector(AUDIO_KEY).length;
    for (const [field, want] of [
      [AUDIO_RATE_INFO, AUDIO_SAMPLE_RATE],
      [AUDIO_CHANNELS_INFO, 1],
    ] as const) {
      const have = audio.info?.[field];
      if (have !== want) {
        issues.push({
          path: `features.${AUDIO_KEY}.info.${field}`,
          expected: `${want} (duet records mono sound at ${AUDIO_SAMPLE_RATE} Hz)`,
          received: have === undefined ? "nothing (missing)" : JSON.stringify(have),
        });
      }
    }
  }
  return { spec, issues };
}

/**
 * Every difference between the features a caller expects (e.g. from its robot and cameras) and a dataset's features:
 * missing or extra keys, other dtypes, shapes or entry names. Paths are `features.<key>.<field>`.
 */
export function compareFeatures(expected: Features, actual: Features): Issue[] {
  const issues: Issue[] = [];
  for (const [key, want] of Object.entries(expected)) {
    const have = actual[key];
    if (have === undefined) {
      issues.push({
        path: `features.${key}`,
        expected: `${want.dtype} ${JSON.stringify(want.shape)}`,
        received: "nothing (missing)",
      });
      continue;
    }
    if (have.dtype !== want.dtype) {
      issues.push({
        path: `features.${key}.dtype`,
        expected: JSON.stringify(want.dtype),
        received: JSON.stringify(have.dtype),
      });
    }
    if (JSON.stringify(have.shape) !== JSON.stringify(want.shape)) {
      issues.push({
        path: `features.${key}.shape`,
        expected: JSON.stringify(want.shape),
        received: JSON.stringify(have.shape),
      });
    }
    if (Array.isArray(want.names) && JSON.stringify(have.names) !== JSON.stringify(want.names)) {
      issues.push({
        path: `features.${key}.names`,
        expected: abbreviate(JSON.stringify(want.names)),
        received: abbreviate(JSON.stringify(have.names)),
      });
    }
  }
  for (const key of Object.keys(actual)) {
    if (!(key in expected)) {
      issues.push({
        path: `features.${key}`,
        expected: "no such feature",
        received: JSON.stringify(actual[key]?.dtype),
      });
    }
  }
  return issues;
}

function abbreviate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The info.json of a new, empty dataset. */
export function emptyInfo(spec: DatasetSpec, dataFileSizeMb: number = DEFAULT_DATA_FILE_SIZE_MB): DatasetInfo {
  return {
    codebase_version: CODEBASE_VERSION,
    robot_type: spec.robotType,
    total_episodes: 0,
    total_frames: 0,
    total_tasks: 0,
    chunks_size: DEFAULT_CHUNKS_SIZE,
    data_files_size_in_mb: dataFileSizeMb,
    video_files_size_in_mb: DEFAULT_VIDEO_FILE_SIZE_MB,
    fps: spec.fps,
    splits: {},
    data_path: DEFAULT_DATA_PATH,
    video_path: DEFAULT_VIDEO_PATH,
    features: featuresFromSpec(spec),
  };
}

/** Expand a Python-style template such as `data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet`. */
export function formatPath(templ: string, vars: Record<string, number | string>): string {
  return templ.replace(/\{(\w+)(?::0?(\d+)d)?\}/g, (_whole, name: string, width: string | undefined) => {
    const value = vars[name];
    if (value === undefined) throw new RangeError(`formatPath: no value for {${name}} in ${templ}`);
    return width === undefined ? String(value) : String(value).padStart(Number(width), "0");
  });
}

/** The (chunk, file) after `(chunk, file)`: files fill a chunk folder up to `chunksSize`, then a new chunk begins. */
export function nextChunkFile(chunk: number, file: number, chunksSize: number): [number, number] {
  return file === chunksSize - 1 ? [chunk + 1, 0] : [chunk, file + 1];
}
