// The one recorder: a dataset open for writing and the episode in progress, which every source feeds — the expert and
// a policy's takeover in the simulator (whole episodes, played in this thread or in worker threads: sim-source.ts),
// a robot through rosbridge (frame by frame at its control rate: ros-source.ts), the viewer's teleoperation (frame by
// frame). The episode in progress is kept in memory and committed atomically when it ends (DatasetWriter): a crash or
// Ctrl-C loses at most that episode, and `resume` appends to what was committed before.
import { DuetError, type Observation } from "../../core/index.ts";
import {
  DatasetWriter,
  EpisodeBuilder,
  type DatasetSpec,
  type DatasetWriterOptions,
  type EpisodeMeta,
  type EpisodeOutcome,
  type EpisodeRecord,
} from "../../data/index.ts";

/** Records episodes into one dataset. Not re-entrant. */
export class Recorder {
  private episode: EpisodeBuilder | null = null;
  /** Episodes committed in this session, in order. */
  readonly recorded: EpisodeMeta[] = [];
  /** Episodes dropped in this session while in progress (`discard`). */
  discarded = 0;

  private constructor(private readonly writer: DatasetWriter) {}

  /** Open the dataset at `out` (a new one, or with `resume` one recorded with the same features). */
  static async open(out: string, options: DatasetWriterOptions): Promise<Recorder> {
    return new Recorder(await DatasetWriter.open(out, options));
  }

  get out(): string {
    return this.writer.root;
  }

  get spec(): DatasetSpec {
    return this.writer.spec;
  }

  /** Episodes and frames in the dataset now (including earlier sessions). */
  get datasetEpisodes(): number {
    return this.writer.totalEpisodes;
  }

  get datasetFrames(): number {
    return this.writer.totalFrames;
  }

  /** Whether an episode is in progress. */
  get recording(): boolean {
    return this.episode !== null;
  }

  /** Frames of the episode in progress (0 when none). */
  get frames(): number {
    return this.episode?.frames ?? 0;
  }

  /** Begin an episode; one in progress is dropped without being counted. */
  begin(): void {
    this.episode = new EpisodeBuilder(this.writer.spec);
  }

  /** Add a frame to the episode in progress: the observation at this step and the action taken there. */
  addFrame(observation: Observation, action: Float32Array): void {
    if (!this.episode) throw new DuetError(`${this.out}: no episode in progress to add a frame to (begin one first)`);
    this.episode.addFrame(observation, action);
  }

  /** End the episode in progress and commit it. */
  commit(outcome: EpisodeOutcome): EpisodeMeta {
    if (!this.episode) throw new DuetError(`${this.out}: no episode in progress to commit`);
    const episode = this.episode;
    this.episode = null;
    return this.add(episode.finish(outcome));
  }

  /** Commit an episode collected elsewhere (in a worker thread). */
  add(episode: EpisodeRecord): EpisodeMeta {
    const meta = this.writer.addEpisode(episode);
    this.recorded.push(meta);
    return meta;
  }

  /** Drop the episode in progress (counted in `discarded`); returns how many frames it had. */
  discard(): number {
    if (!this.episode) return 0;
    const frames = this.episode.frames;
    this.episode = null;
    this.discarded++;
    return frames;
  }

  /** Drop the episode in progress (not counted) and release the dataset. */
  close(): void {
    this.episode = null;
    this.writer.close();
  }
}
