// Recording demonstrations from a real robot through rosbridge into a Recorder: the operator moves the arms
// (teleoperation or kinesthetic teaching) and duet records, at the interface's control rate, observations assembled by
// the bridge (joint states by name + the latest frame of every camera, each younger than its max age) and an action
// per step.
//
// Actions (Da = 16), per `actions`:
//   "measured"   the measured joint positions at the NEXT control tick: frame t = (o[t], q[t+1]). A frame is kept only
//                when ticks t and t+1 both had fresh inputs; the last observation of an episode has no next one and
//                is dropped.
//   "commanded"  the latest targets on the interface's own command topics (what a teleop node or leader arms send to
//                the controllers), mapped by joint name; every slot must have been commanded within `maxActionAgeMs`.
// Timeline at the control rate (period P):
//   tick k: observe o[k]; stale or missing inputs → step k is not recorded (status says why), measured: o[k-1] too
//   frames are committed only on stop: an episode becomes part of the dataset atomically, or not at all.
// Gaps. Frames are stored with even timestamps (frame_index / fps), so an episode must never skip a step: a step that
// cannot be recorded (stale or missing inputs, no fresh command, or a tick that came more than 2 P after the
// previous one on an overloaded machine: a slot was dropped) ENDS the episode there. The part before the gap is committed if it has at
// least `minFrames` frames (stored as not successful: it stops mid-task), else discarded; either way the terminal says
// which, and recording goes on in a new episode from the next fresh step. A gap before the first frame only delays
// the start.
// Episode boundaries: `start()` / `stop()` / `discard()` / `redo()`, called by the terminal keys of `duet record` and
// by std_msgs/Empty messages on the boundary topics (default /duet/record/{start,stop,discard}).
// A disconnect ends the episode in progress WITHOUT committing it; after reconnecting the source waits for start.
import { ACTION_DIM, DuetError, type Observation } from "../../core/index.ts";
import type { Clock, RobotBridge, RobotInterface, RosLink } from "../../bridge/index.ts";
import type { EpisodeMeta } from "../../data/index.ts";
import { boundaryTopics, type BoundaryTopics } from "./boundary-topics.ts";
import { CommandTap } from "./command-tap.ts";
import type { Recorder } from "./recorder.ts";

export type RosRecordState = "idle" | "recording" | "disconnected" | "done" | "closed";
export type ActionSource = "measured" | "commanded";

/** What the status line shows. */
export interface RosRecordStatus {
  state: RosRecordState;
  epoch: number;
  /** Frames of the episode being recorded. */
  frames: number;
  /** Episodes committed in this session, and the number asked for. */
  committed: number;
  target: number;
  /** Episodes discarded in this session (by the operator, by a disconnect, or empty). */
  discarded: number;
  /** Control ticks not recorded in the current episode and in the whole session. */
  skipped: number;
  skippedTotal: number;
  /** Why the last step was not recorded, or what happened last. */
  reason: string;
  /** Age (ms) of the oldest joint slot and camera frame at the last good observation. */
  jointAgeMs: number;
  cameraAgeMs: number;
  datasetEpisodes: number;
  datasetFrames: number;
}

export interface RosSourceOptions {
  bridge: RobotBridge;
  /** Where boundary and command topics are subscribed (the bridge's link). */
  link: Pick<RosLink, "subscribe">;
  clock: Clock;
  /** The open dataset; closed when the session finishes. Its spec must be `rosDatasetSpec(interface)`. */
  recorder: Recorder;
  /** The robot interface (control rate, cameras, command topics). */
  interface: RobotInterface;
  /** Episodes to commit before `run` resolves. */
  episodes: number;
  /** Where actions come from. Default "measured". */
  actions?: ActionSource;
  /** Boundary topics; null = terminal keys only. Default `boundaryTopics()`. */
  topics?: BoundaryTopics | null;
  /** "commanded": the largest age of a command (ms). Default: two control periods. */
  maxActionAgeMs?: number;
  /** Task description stored with each episode. Default "unscrew the bottle cap". */
  task?: string;
  /** An episode cut at a gap is kept if it has at least this many frames. Default: one second (control_hz). */
  minFrames?: number;
  /** One line per event. */
  log?: (line: string) => void;
}

/** What a recording session ends with. */
export interface RosRecordResult {
  recorded: EpisodeMeta[];
  discarded: number;
  skippedTotal: number;
  datasetEpisodes: number;
  datasetFrames: number;
}

/** Seed stored with episodes recorded from a robot (there is none). */
export const NO_SEED = -1;

/** Records episodes from a RobotBridge into a Recorder, at the bridge's control rate. */
export class RosSource {
  private state: RosRecordState = "idle";
  private reason = "waiting for the connection";
  private episodeEpoch = -1;
  private readonly actions: ActionSource;
  private readonly tap: CommandTap | null;
  private readonly maxActionAgeMs: number;
  private readonly minFrames: number;
  /** Clock time of the previous tick (a late tick is a gap). */
  private lastTickAt = NaN;
  private readonly task: string;
  private readonly log: (line: string) => void;
  private readonly periodMs: number;
  /** Measured actions: the previous tick's observation, waiting for the next measured state (non-reentrant). */
  private readonly pending: Observation = { time: 0, state: new Float32Array(ACTION_DIM), images: {} };
  private hasPending = false;
  private readonly action = new Float32Array(ACTION_DIM);
  private skipped = 0;
  private skippedTotal = 0;
  private ages = { joint: NaN, camera: NaN };
  private timer: unknown;
  private nextTickAt = 0;
  private readonly statusFns: ((s: RosRecordStatus) => void)[] = [];
  private finished: { resolve: (r: RosRecordResult) => void; reject: (e: Error) => void } | null = null;

  constructor(private readonly o: RosSourceOptions) {
    if (!Number.isInteger(o.episodes) || o.episodes < 1)
      throw new DuetError(`episodes must be a whole number ≥ 1, received ${o.episodes}`);
    this.actions = o.actions ?? "measured";
    this.task = o.task ?? "unscrew the bottle cap";
    this.log = o.log ?? (() => undefined);
    this.periodMs = 1000 / o.interface.control_hz;
    this.maxActionAgeMs = o.maxActionAgeMs ?? 2 * this.periodMs;
    this.minFrames = o.minFrames ?? Math.ceil(o.interface.control_hz);
    if (!Number.isInteger(this.minFrames) || this.minFrames < 1)
      throw new DuetError(`minFrames must be a whole number ≥ 1, received ${this.minFrames}`);
    this.tap = this.actions === "commanded" ? new CommandTap(o.interface, o.link, o.clock, this.log) : null;
    const topics = o.topics === undefined ? boundaryTopics() : o.topics;
    if (topics) {
      o.link.subscribe(topics.start, "std_msgs/Empty", { queueLength: 1 }, () => this.start(`topic ${topics.start}`));
      o.link.subscribe(topics.stop, "std_msgs/Empty", { queueLength: 1 }, () =>
        this.stop(true, `topic ${topics.stop}`),
      );
      o.link.subscribe(topics.discard, "std_msgs/Empty", { queueLength: 1 }, () =>
        this.discard(`discarded (topic ${topics.discard})`),
      );
    }
    o.bridge.on("down", (epoch, why) => this.onDown(epoch, why));
    o.bridge.on("up", (epoch) => {
      if (this.state !== "disconnected" && this.state !== "idle") return;
      this.enter("idle", `connected (epoch ${epoch}); waiting for start`);
    });
  }

  /** Called after every tick with the current status. */
  onStatus(fn: (s: RosRecordStatus) => void): void {
    this.statusFns.push(fn);
  }

  get status(): RosRecordStatus {
    return {
      state: this.state,
      epoch: this.o.bridge.epoch,
      frames: this.o.recorder.frames,
      committed: this.o.recorder.recorded.length,
      target: this.o.episodes,
      discarded: this.o.recorder.discarded,
      skipped: this.skipped,
      skippedTotal: this.skippedTotal,
      reason: this.reason,
      jointAgeMs: this.ages.joint,
      cameraAgeMs: this.ages.camera,
      datasetEpisodes: this.o.recorder.datasetEpisodes,
      datasetFrames: this.o.recorder.datasetFrames,
    };
  }

  private enter(state: RosRecordState, reason: string): void {
    if (this.state !== state || this.reason !== reason) this.log(`${state}: ${reason}`);
    this.state = state;
    this.reason = reason;
  }

  /** Begin an episode (only while idle and connected). Returns whether one began. */
  start(source = "operator"): boolean {
    if (this.state === "recording") {
      this.log(`start ignored (${source}): already recording episode ${this.o.recorder.datasetEpisodes}`);
      return false;
    }
    if (this.state !== "idle" || !this.o.bridge.connected) {
      this.log(`start refused (${source}): ${this.o.bridge.connected ? this.state : "not connected"}`);
      return false;
    }
    this.o.recorder.begin();
    this.episodeEpoch = this.o.bridge.epoch;
    this.hasPending = false;
    this.skipped = 0;
    this.enter("recording", `episode ${this.o.recorder.datasetEpisodes} started (${source})`);
    return true;
  }

  /** End the episode and commit it (`success` is stored with it). Returns its metadata, or null if none was kept. */
  stop(success = true, source = "operator"): EpisodeMeta | null {
    if (this.state !== "recording" || !this.o.recorder.recording) {
      this.log(`stop ignored (${source}): not recording`);
      return null;
    }
    this.hasPending = false;
    if (this.o.recorder.frames === 0) {
      this.o.recorder.discard();
      this.enter("idle", `episode discarded: no complete frame was recorded (${source})`);
      return null;
    }
    const meta = this.commit(success);
    if (!meta) return null;
    this.enter(
      "idle",
      `episode ${meta.episodeIndex} committed: ${meta.length} frames, ${success ? "success" : "failure"} (${source})`,
    );
    if (this.o.recorder.recorded.length >= this.o.episodes) this.finish(null);
    return meta;
  }

  /** Commit the episode in progress; null (and the session failed) if the write failed. */
  private commit(success: boolean): EpisodeMeta | null {
    try {
      return this.o.recorder.commit({ task: this.task, success, mode: "", seed: NO_SEED });
    } catch (e) {
      this.finish(
        new DuetError(`committing episode ${this.o.recorder.datasetEpisodes} failed: ${(e as Error).message}`),
      );
      return null;
    }
  }

  /**
   * A step that cannot be recorded while recording: end the episode here (see the header). Returns false when the
   * session ended (a failed commit).
   */
  private gap(reason: string): boolean {
    this.skipped++;
    this.skippedTotal++;
    this.hasPending = false;
    const frames = this.o.recorder.frames;
    if (frames === 0) {
      if (reason !== this.reason) this.log(`step not recorded: ${reason}`);
      this.reason = reason;
      return true;
    }
    if (frames >= this.minFrames) {
      const meta = this.commit(false);
      if (!meta) return false;
      this.log(
        `gap (${reason}): episode ${meta.episodeIndex} ends there, committed with its ${frames} frames before the gap ` +
          "(stored as not successful: it stops mid-task); recording goes on in a new episode from the next fresh step",
      );
    } else {
      this.o.recorder.discard();
      this.log(
        `gap (${reason}): the ${frames} frames before it are discarded (fewer than ${this.minFrames}); recording goes ` +
          "on in a new episode from the next fresh step",
      );
    }
    this.o.recorder.begin();
    this.reason = reason;
    return true;
  }

  /** Drop the episode in progress. */
  discard(reason = "discarded by the operator"): void {
    if (this.state !== "recording") return;
    const frames = this.o.recorder.discard();
    this.hasPending = false;
    this.enter("idle", `${reason} (${frames} frames)`);
  }

  /** Drop the episode in progress and begin it again. */
  redo(): boolean {
    this.discard("discarded for a redo");
    return this.start("redo");
  }

  private onDown(epoch: number, why: string): void {
    this.tap?.clear();
    if (this.state === "closed" || this.state === "done") return;
    if (this.state === "recording") {
      const frames = this.o.recorder.discard();
      this.hasPending = false;
      this.enter(
        "disconnected",
        `link down (epoch ${epoch}: ${why}): episode discarded, ${frames} frames not committed`,
      );
    } else this.enter("disconnected", `link down (epoch ${epoch}: ${why})`);
  }

  /** Connect and record until `episodes` are committed or `close()`. */
  run(): Promise<RosRecordResult> {
    return new Promise((resolve, reject) => {
      this.finished = { resolve, reject };
      this.o.bridge.start();
      this.nextTickAt = this.o.clock.now();
      this.schedule();
    });
  }

  /** Stop now: the episode in progress is discarded; committed episodes stay. */
  close(): void {
    if (this.state === "recording") this.discard("recording stopped: episode in progress discarded");
    this.finish(null);
  }

  private finish(error: Error | null): void {
    if (this.state === "closed" || this.state === "done") return;
    this.enter(error ? "closed" : "done", error ? `failed: ${error.message}` : "finished");
    this.o.clock.clearTimeout(this.timer);
    this.o.bridge.close();
    this.o.recorder.close();
    const f = this.finished;
    this.finished = null;
    if (error) f?.reject(error);
    else
      f?.resolve({
        recorded: [...this.o.recorder.recorded],
        discarded: this.o.recorder.discarded,
        skippedTotal: this.skippedTotal,
        datasetEpisodes: this.o.recorder.datasetEpisodes,
        datasetFrames: this.o.recorder.datasetFrames,
      });
  }

  private schedule(): void {
    if (this.state === "done" || this.state === "closed") return;
    this.nextTickAt += this.periodMs;
    const now = this.o.clock.now();
    if (this.nextTickAt < now - this.periodMs) this.nextTickAt = now; // fell far behind: do not burst
    this.timer = this.o.clock.setTimeout(
      () => {
        try {
          this.tick();
        } catch (e) {
          this.finish(e as Error);
          return;
        }
        this.schedule();
      },
      Math.max(0, this.nextTickAt - now),
    );
  }

  /** One control tick (exposed for tests driving the source by hand). */
  tick(): void {
    const now = this.o.clock.now();
    // A tick more than two periods after the previous one means the schedule dropped a slot (see `schedule`: a tick
    // that falls more than a period behind is not made up), which even timestamps would hide.
    const late = now - this.lastTickAt > 2 * this.periodMs;
    const since = now - this.lastTickAt;
    this.lastTickAt = now;
    const r = this.o.bridge.observe(now);
    if (r.ok) {
      this.ages.joint = r.jointAgeMs;
      this.ages.camera = r.cameraAgeMs;
    }
    const recording = this.state === "recording" && this.o.recorder.recording;
    if (recording && late && (this.o.recorder.frames > 0 || this.hasPending)) {
      const why = `this tick came ${since.toFixed(0)} ms after the previous one (period ${this.periodMs.toFixed(0)} ms): the machine is overloaded`;
      if (!this.gap(why)) return;
    }
    if (this.state === "recording" && this.o.recorder.recording) {
      if (!r.ok) this.gap(r.reason);
      else if (r.epoch !== this.episodeEpoch) {
        this.discard(`episode discarded: the connection changed (epoch ${this.episodeEpoch} → ${r.epoch})`);
      } else if (this.tap) {
        const why = this.tap.read(this.action, now, this.maxActionAgeMs);
        if (why !== null) this.gap(why);
        else {
          this.o.recorder.addFrame(r.observation, this.action);
          this.reason = "recording";
        }
      } else {
        if (this.hasPending) {
          this.o.recorder.addFrame(this.pending, r.observation.state);
          this.reason = "recording";
        }
        this.pending.time = r.observation.time;
        this.pending.state.set(r.observation.state);
        this.pending.images = r.observation.images;
        this.hasPending = true;
      }
    }
    if (this.statusFns.length > 0) {
      const s = this.status;
      for (const fn of this.statusFns) fn(s);
    }
  }
}
