// What `duet view PATH` shows: a replay file, a folder of replays (`duet sim --replay DIR`), or a LeRobot dataset.
// Datasets carry joints, actions and camera images but no body poses: the 3D view re-simulates the recorded actions
// from the episode's seed in the scenario (deterministic physics), so the scenario must be the one recorded.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { DuetError, encodePng, type RobotDescription } from "../core/index.ts";
import { Dataset, INFO_PATH } from "../data/index.ts";
import { SimEnv, loadScenario, type Scenario } from "../sim/index.ts";
import { loadReplayWithChunks } from "../runner/replay/index.ts";
import { alignJoints, episodeFromReplay, type ViewerEpisode } from "./episode.ts";

/** An episode in the source's list. */
export interface EpisodeEntry {
  id: string;
  label: string;
}

export type SourceKind = "replay-file" | "replay-folder" | "dataset";

/** Options for `ViewerSource.open`. */
export interface SourceOptions {
  /**
   * Scenario file: re-simulates dataset episodes and gives the robot for chunk paths. Default: for a replay,
   * scenarios/<its scenario name>.json when that exists; for a dataset, scenarios/bottle-cap.json.
   */
  scenario?: string;
}

const REPLAY_FILE = /^episode_(-?\d+)\.json$/;
const DEFAULT_SCENARIO = "scenarios/bottle-cap.json";

/** An opened run or dataset. Episodes are loaded (and re-simulated) on first request and kept. */
export class ViewerSource {
  private readonly loaded = new Map<string, Promise<ViewerEpisode>>();
  private scenarioCache: Scenario | null = null;

  private constructor(
    readonly path: string,
    readonly kind: SourceKind,
    readonly entries: EpisodeEntry[],
    private readonly files: Map<string, string>,
    private readonly dataset: Dataset | null,
    private readonly options: SourceOptions,
  ) {}

  /** Open `path`; a missing or unrecognisable path, a corrupt replay file or dataset metadata throws a DuetError. */
  static async open(path: string, options: SourceOptions = {}): Promise<ViewerSource> {
    if (!existsSync(path)) {
      throw new DuetError(
        `${path}: no such file or folder; expected a replay file (episode_<seed>.json), a folder of them ` +
          `(duet sim --replay DIR) or a dataset folder (with ${INFO_PATH})`,
      );
    }
    if (statSync(path).isFile()) {
      loadReplayWithChunks(path); // a corrupt file is reported now, with every bad field
      const id = basename(path).replace(/\.json$/, "");
      return new ViewerSource(
        path,
        "replay-file",
        [{ id, label: basename(path) }],
        new Map([[id, path]]),
        null,
        options,
      );
    }
    if (existsSync(join(path, INFO_PATH))) {
      const dataset = await Dataset.open(path);
      const entries = dataset.episodes.map((e) => ({
        id: String(e.episodeIndex),
        label: `episode ${e.episodeIndex} (seed ${e.seed}, ${e.length} frames, ${e.success ? "success" : "failure"}${e.mode ? `, ${e.mode}` : ""})`,
      }));
      return new ViewerSource(path, "dataset", entries, new Map(), dataset, options);
    }
    const names = readdirSync(path)
      .filter((n) => REPLAY_FILE.test(n))
      .sort((a, b) => Number(REPLAY_FILE.exec(a)![1]) - Number(REPLAY_FILE.exec(b)![1]));
    if (names.length === 0) {
      throw new DuetError(
        `${path}: neither a run folder (no episode_<seed>.json replays) nor a dataset (no ${INFO_PATH}); ` +
          `record replays with \`duet sim --replay ${path}\``,
      );
    }
    const files = new Map(names.map((n) => [n.replace(/\.json$/, ""), join(path, n)]));
    const entries = names.map((n) => ({ id: n.replace(/\.json$/, ""), label: n }));
    return new ViewerSource(path, "replay-folder", entries, files, null, options);
  }

  /** The episode with `id`; a corrupt file or unreadable data throws (and is retried on the next request). */
  episode(id: string): Promise<ViewerEpisode> {
    let p = this.loaded.get(id);
    if (p === undefined) {
      p = this.load(id);
      p.catch(() => this.loaded.delete(id));
      this.loaded.set(id, p);
    }
    return p;
  }

  /** PNG of camera `camera` at step t of a dataset episode. */
  async framePng(id: string, camera: string, t: number): Promise<Buffer> {
    const ds = this.dataset;
    if (!ds) throw new DuetError(`${this.path}: sim replays carry no camera images`);
    const ep = this.datasetEpisode(id);
    await ds.load([ep]);
    const cam = ds.spec.cameras.find((c) => c.name === camera);
    if (!cam)
      throw new DuetError(
        `${this.path}: no camera ${camera} (cameras: ${ds.spec.cameras.map((c) => c.name).join(", ")})`,
      );
    const length = ds.episodes[ep]!.length;
    if (!Number.isInteger(t) || t < 0 || t >= length) {
      throw new DuetError(`${this.path}: episode ${ep} has frames 0..${length - 1}, requested ${t}`);
    }
    return encodePng({ width: cam.width, height: cam.height, data: ds.frame(camera, ep, t) });
  }

  private async load(id: string): Promise<ViewerEpisode> {
    if (this.dataset) return this.loadDatasetEpisode(id, this.dataset);
    const file = this.files.get(id);
    if (file === undefined)
      throw new DuetError(`${this.path}: no episode ${id} (have ${[...this.files.keys()].join(", ")})`);
    const replay = loadReplayWithChunks(file);
    return episodeFromReplay(id, basename(file), replay, this.robotFor(replay.scenario));
  }

  private robotFor(scenarioName: string): RobotDescription | null {
    const file = this.options.scenario ?? resolve("scenarios", `${scenarioName}.json`);
    if (!existsSync(file)) return null;
    return this.scenario(file).robotDescription;
  }

  private scenario(file: string): Scenario {
    if (this.scenarioCache?.file !== file) this.scenarioCache = loadScenario(file);
    return this.scenarioCache;
  }

  private datasetEpisode(id: string): number {
    const ep = Number(id);
    if (!Number.isInteger(ep) || this.dataset === null || ep < 0 || ep >= this.dataset.episodes.length) {
      throw new DuetError(`${this.path}: no episode ${id} (${this.dataset?.episodes.length ?? 0} episodes)`);
    }
    return ep;
  }

  private async loadDatasetEpisode(id: string, ds: Dataset): Promise<ViewerEpisode> {
    const ep = this.datasetEpisode(id);
    await ds.load([ep]);
    const meta = ds.episodes[ep]!;
    const ds_ = ds.spec.stateNames.length;
    const da = ds.spec.actionNames.length;
    const states: number[][] = [];
    const actions: number[][] = [];
    const s = new Float32Array(ds_);
    const a = new Float32Array(da);
    for (let t = 0; t < meta.length; t++) {
      ds.readState(ep, t, s);
      ds.readAction(ep, t, a);
      states.push(Array.from(s));
      actions.push(Array.from(a));
    }
    const scenarioFile = this.options.scenario ?? DEFAULT_SCENARIO;
    const scenario = this.scenario(scenarioFile);
    // Re-simulate: reset with the episode's seed, then step the recorded actions.
    const env = new SimEnv(scenario);
    env.reset(meta.seed);
    const poses = [Array.from(env.world.bodyPoses())];
    for (const action of actions) {
      env.step(Float32Array.from(action));
      poses.push(Array.from(env.world.bodyPoses()));
    }
    return {
      id,
      label: this.entries[ep]!.label,
      fps: ds.info.fps,
      bodies: env.world.specs,
      poses,
      joints: alignJoints(states, poses.length),
      actions,
      jointNames: ds.spec.stateNames,
      cameras: ds.spec.cameras.map((c) => ({ ...c, frames: meta.length })),
      chunks: [],
      notes: [`3D view re-simulated from the recorded actions in ${scenarioFile} (seed ${meta.seed})`],
      outcome: { seed: meta.seed, success: meta.success, mode: meta.mode, tasks: meta.tasks },
    };
  }
}
