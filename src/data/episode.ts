// An episode being recorded, kept aside in memory until it is complete; only then is it committed to the dataset.
import { DuetError, encodePng, type Observation } from "../core/index.ts";
import type { DatasetSpec } from "./info.ts";
import { ImageStatsAccumulator, type DatasetFeatureStats } from "./stats.ts";

/** A complete episode, ready to commit. Frame t pairs the observation at step t with the action taken there. */
export interface EpisodeRecord {
  /** T: frames. */
  length: number;
  /** `state: T,Ds` row-major. */
  state: Float32Array;
  /** `action: T,Da` row-major. */
  action: Float32Array;
  /** `environment: T,De` row-major: privileged scene state, present exactly when the spec has `environmentNames`. */
  environment?: Float32Array;
  /** `audio: T,S` row-major: each frame's mono sound, present exactly when the spec has `audioSamples`. */
  audio?: Float32Array;
  /** Camera name → T PNG-encoded RGB frames. */
  images: Record<string, Uint8Array[]>;
  /** Per-camera pixel statistics, if already computed while encoding (else the writer decodes to compute them). */
  imageStats?: Record<string, DatasetFeatureStats>;
  /** Task description. */
  task: string;
  success: boolean;
  /** Which solution the demonstration took ("left"/"right"), "" if unknown. */
  mode: string;
  /** Seed the environment was reset with. */
  seed: number;
}

/** What an episode ends with. */
export interface EpisodeOutcome {
  task: string;
  success: boolean;
  mode: string;
  seed: number;
}

/**
 * Collects frames of one episode: copies state, action and (when the spec records them) environment state and audio,
 * encodes camera frames to PNG at once (so memory holds compressed frames) and accumulates pixel statistics.
 */
export class EpisodeBuilder {
  private readonly ds: number;
  private readonly da: number;
  /** De, 0 when the spec records no environment state. */
  private readonly de: number;
  /** S, 0 when the spec records no audio. */
  private readonly ns: number;
  private state = new Float32Array(0);
  private action = new Float32Array(0);
  private environment = new Float32Array(0);
  private audio = new Float32Array(0);
  private length = 0;
  private readonly images: Record<string, Uint8Array[]> = {};
  private readonly pixelStats: Record<string, ImageStatsAccumulator> = {};

  constructor(private readonly spec: DatasetSpec) {
    this.ds = spec.stateNames.length;
    this.da = spec.actionNames.length;
    this.de = spec.environmentNames?.length ?? 0;
    this.ns = spec.audioSamples ?? 0;
    this.grow(64);
    for (const cam of spec.cameras) {
      this.images[cam.name] = [];
      this.pixelStats[cam.name] = new ImageStatsAccumulator();
    }
  }

  /** Frames so far. */
  get frames(): number {
    return this.length;
  }

  /**
   * Record the observation at this step and the action taken there (`action`: Da). `obs.environmentState` (De) is
   * required when the spec has `environmentNames`, and ignored otherwise; likewise `obs.audio` (S samples) when it
   * has `audioSamples`.
   */
  addFrame(obs: Observation, action: Float32Array): void {
    const t = this.length;
    if (obs.state.length !== this.ds) {
      throw new DuetError(
        `frame ${t}: observation.state has ${obs.state.length} entries, the dataset expects ${this.ds}`,
      );
    }
    if (action.length !== this.da) {
      throw new DuetError(`frame ${t}: action has ${action.length} entries, the dataset expects ${this.da}`);
    }
    const env = obs.environmentState;
    if (this.de > 0 && env?.length !== this.de) {
      throw new DuetError(
        env === undefined
          ? `frame ${t}: observation.environmentState is missing, the dataset expects ${this.de} entries ` +
              `(its spec has environmentNames); record from an env that provides it, or without environmentNames`
          : `frame ${t}: observation.environmentState has ${env.length} entries, the dataset expects ${this.de}`,
      );
    }
    const audio = obs.audio;
    if (this.ns > 0 && audio?.length !== this.ns) {
      throw new DuetError(
        audio === undefined
          ? `frame ${t}: observation.audio is missing, the dataset expects ${this.ns} samples ` +
              `(its spec has audioSamples); record from an env with audio on, or without audioSamples`
          : `frame ${t}: observation.audio has ${audio.length} samples, the dataset expects ${this.ns}`,
      );
    }
    for (const cam of this.spec.cameras) {
      const frame = obs.images[cam.name];
      if (frame === undefined) throw new DuetError(`frame ${t}: camera ${cam.name} is missing from the observation`);
      if (frame.width !== cam.width || frame.height !== cam.height) {
        throw new DuetError(
          `frame ${t}: camera ${cam.name} is ${frame.width}x${frame.height}, the dataset expects ${cam.width}x${cam.height}`,
        );
      }
      (this.images[cam.name] as Uint8Array[]).push(encodePng(frame));
      (this.pixelStats[cam.name] as ImageStatsAccumulator).add(frame.data);
    }
    if (t === this.state.length / this.ds) this.grow(t * 2);
    this.state.set(obs.state, t * this.ds);
    this.action.set(action, t * this.da);
    if (this.de > 0) this.environment.set(env as Float32Array, t * this.de);
    if (this.ns > 0) this.audio.set(audio as Float32Array, t * this.ns);
    this.length++;
  }

  private grow(frames: number): void {
    const state = new Float32Array(frames * this.ds);
    const action = new Float32Array(frames * this.da);
    const environment = new Float32Array(frames * this.de);
    const audio = new Float32Array(frames * this.ns);
    state.set(this.state);
    action.set(this.action);
    environment.set(this.environment);
    audio.set(this.audio);
    this.state = state;
    this.action = action;
    this.environment = environment;
    this.audio = audio;
  }

  /** The complete episode. The builder must not be used afterwards. */
  finish(outcome: EpisodeOutcome): EpisodeRecord {
    if (this.length === 0) throw new DuetError("an episode needs at least one frame");
    const imageStats: Record<string, DatasetFeatureStats> = {};
    for (const cam of this.spec.cameras) {
      imageStats[cam.name] = (this.pixelStats[cam.name] as ImageStatsAccumulator).finish(this.length);
    }
    return {
      length: this.length,
      state: this.state.slice(0, this.length * this.ds),
      action: this.action.slice(0, this.length * this.da),
      ...(this.de > 0 ? { environment: this.environment.slice(0, this.length * this.de) } : {}),
      ...(this.ns > 0 ? { audio: this.audio.slice(0, this.length * this.ns) } : {}),
      images: this.images,
      imageStats,
      ...outcome,
    };
  }
}
