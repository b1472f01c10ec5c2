// Training windows as Diffusion Policy samples them, and the train/validation split by episode.
//
// Timeline of one window anchored at frame t (To = 2, Tp = 10):
//   obs:     o[t-1] o[t]
//   actions:        a[t] a[t+1] … a[t+9]
// Steps before the episode start repeat its first frame, steps past its end repeat its last frame; the pad masks
// mark them (1 = padded), so a loss can ignore them.
import { Rng } from "../core/index.ts";
import type { Dataset } from "./dataset.ts";
import type { DatasetSpec } from "./info.ts";

type CameraSpec = DatasetSpec["cameras"][number];

export interface WindowOptions {
  /** To: observation steps, ending at the anchor frame. Default 2. */
  obsSteps?: number;
  /** Tp: action steps, starting at the anchor frame. Default 10. */
  actionSteps?: number;
  /** Most action steps a window may have past its episode's end. Default Tp − 1 (every frame is an anchor). */
  maxActionPad?: number;
  /** Episodes to sample from. Default: all. */
  episodes?: readonly number[];
  /** Cameras whose frames a window carries. Default: all. A state-only policy passes [] and decodes no image. */
  cameras?: readonly string[];
  /** Also carry the environment state of the observation steps (datasets recorded in simulation). Default false. */
  environment?: boolean;
}

/** Buffers one window is written into (reused across calls). */
export interface WindowBuffers {
  /** `state: To,Ds`. */
  state: Float32Array;
  /** `environment: To,De` with `WindowOptions.environment`, else empty. */
  environment: Float32Array;
  /** Camera name → `To,H,W,3` uint8. */
  images: Record<string, Uint8Array>;
  /** `action: Tp,Da`. */
  action: Float32Array;
  /** `statePad: To`, 1 where the observation step lies before the episode start. Applies to images too. */
  statePad: Uint8Array;
  /** `actionPad: Tp`, 1 where the action step lies past the episode end. */
  actionPad: Uint8Array;
  /** Episode and anchor frame of the last window written. */
  episode: number;
  frame: number;
}

/**
 * Random access to every training window of some episodes. Create with `WindowSampler.create` (loads their data
 * files); `fill` is then synchronous and allocates nothing except when a camera frame is decoded (cache miss).
 */
export class WindowSampler {
  /** Anchors as (episode, frame) pairs. */
  private readonly anchors: Int32Array;
  readonly obsSteps: number;
  readonly actionSteps: number;
  /** The cameras windows carry. */
  readonly cameras: readonly CameraSpec[];
  /** Whether windows carry the environment state. */
  readonly environment: boolean;

  private constructor(
    readonly dataset: Dataset,
    episodes: readonly number[],
    opts: Required<Omit<WindowOptions, "episodes">>,
  ) {
    this.obsSteps = opts.obsSteps;
    this.actionSteps = opts.actionSteps;
    this.environment = opts.environment;
    const byName = new Map(dataset.spec.cameras.map((c) => [c.name, c]));
    this.cameras = opts.cameras.map((n) => {
      const c = byName.get(n);
      if (!c)
        throw new RangeError(
          `camera ${JSON.stringify(n)} is not one of the dataset's (${[...byName.keys()].join(", ")})`,
        );
      return c;
    });
    const cut = Math.max(0, opts.actionSteps - 1 - opts.maxActionPad);
    const pairs: number[] = [];
    for (const e of episodes) {
      const L = (dataset.episodes[e] as { length: number }).length;
      for (let t = 0; t < L - cut; t++) pairs.push(e, t);
    }
    this.anchors = Int32Array.from(pairs);
  }

  static async create(dataset: Dataset, options: WindowOptions = {}): Promise<WindowSampler> {
    const obsSteps = options.obsSteps ?? 2;
    const actionSteps = options.actionSteps ?? 10;
    const maxActionPad = options.maxActionPad ?? actionSteps - 1;
    if (!Number.isInteger(obsSteps) || obsSteps < 1)
      throw new RangeError(`obsSteps must be an integer ≥ 1, received ${obsSteps}`);
    if (!Number.isInteger(actionSteps) || actionSteps < 1)
      throw new RangeError(`actionSteps must be an integer ≥ 1, received ${actionSteps}`);
    if (!Number.isInteger(maxActionPad) || maxActionPad < 0)
      throw new RangeError(`maxActionPad must be an integer ≥ 0, received ${maxActionPad}`);
    const episodes = options.episodes ?? dataset.episodes.map((e) => e.episodeIndex);
    const cameras = options.cameras ?? dataset.spec.cameras.map((c) => c.name);
    const environment = options.environment ?? false;
    await dataset.load(episodes);
    return new WindowSampler(dataset, episodes, { obsSteps, actionSteps, maxActionPad, cameras, environment });
  }

  /** Number of windows. */
  get length(): number {
    return this.anchors.length / 2;
  }

  /** Buffers sized for this sampler's windows. */
  createBuffers(): WindowBuffers {
    const { spec } = this.dataset;
    const To = this.obsSteps;
    return {
      state: new Float32Array(To * spec.stateNames.length),
      environment: new Float32Array(this.environment ? To * (spec.environmentNames?.length ?? 0) : 0),
      images: Object.fromEntries(this.cameras.map((c) => [c.name, new Uint8Array(To * c.height * c.width * 3)])),
      action: new Float32Array(this.actionSteps * spec.actionNames.length),
      statePad: new Uint8Array(To),
      actionPad: new Uint8Array(this.actionSteps),
      episode: -1,
      frame: -1,
    };
  }

  /** Write window `i` (0 ≤ i < length) into `out` and return it. */
  fill(i: number, out: WindowBuffers): WindowBuffers {
    if (!Number.isInteger(i) || i < 0 || i >= this.length)
      throw new RangeError(`window ${i} out of range [0, ${this.length})`);
    const ds = this.dataset;
    const e = this.anchors[2 * i] as number;
    const t = this.anchors[2 * i + 1] as number;
    const L = (ds.episodes[e] as { length: number }).length;
    const Ds = ds.spec.stateNames.length;
    const Da = ds.spec.actionNames.length;
    const De = ds.spec.environmentNames?.length ?? 0;
    const To = this.obsSteps;
    for (let k = 0; k < To; k++) {
      const s = t - (To - 1) + k;
      const src = s < 0 ? 0 : s;
      out.statePad[k] = s < 0 ? 1 : 0;
      ds.readState(e, src, out.state, k * Ds);
      if (this.environment) ds.readEnvironment(e, src, out.environment, k * De);
      for (const cam of this.cameras) {
        const size = cam.height * cam.width * 3;
        (out.images[cam.name] as Uint8Array).set(ds.frame(cam.name, e, src), k * size);
      }
    }
    for (let k = 0; k < this.actionSteps; k++) {
      const s = t + k;
      out.actionPad[k] = s >= L ? 1 : 0;
      ds.readAction(e, s >= L ? L - 1 : s, out.action, k * Da);
    }
    out.episode = e;
    out.frame = t;
    return out;
  }
}

/** Split episode indices into train and validation sets, by a seeded shuffle. At least one episode stays in train. */
export function splitEpisodes(
  episodes: readonly number[] | number,
  options: { valFraction: number; seed: number },
): { train: number[]; val: number[] } {
  const list = typeof episodes === "number" ? Array.from({ length: episodes }, (_, i) => i) : [...episodes];
  const { valFraction, seed } = options;
  if (!(valFraction >= 0 && valFraction < 1))
    throw new RangeError(`valFraction must be in [0, 1), received ${valFraction}`);
  const rng = new Rng(seed);
  for (let i = list.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [list[i], list[j]] = [list[j] as number, list[i] as number];
  }
  const nVal = Math.min(Math.round(list.length * valFraction), Math.max(list.length - 1, 0));
  const byIndex = (a: number, b: number) => a - b;
  return { train: list.slice(nVal).sort(byIndex), val: list.slice(0, nVal).sort(byIndex) };
}
