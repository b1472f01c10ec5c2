// Pictures of episodes for reports and the README, rendered by the simulator's CPU rasterizer over the same body
// scene as the page: a still PNG of one frame, or an animated GIF of the whole episode (gifenc).
import { createRequire } from "node:module";
import * as THREE from "three";
import { DuetError, encodePng } from "../core/index.ts";
import { BodyScene, POSE_STRIDE, Rasterizer, type BodySpec, type CameraSpec } from "../sim/index.ts";
import { VIEW_FOV, VIEW_POSITION, VIEW_TARGET } from "./viewpoint.ts";

type Palette = number[][];
/** The part of gifenc (CommonJS, no bundled types) used here. */
interface GifEnc {
  GIFEncoder(): {
    writeFrame(index: Uint8Array, w: number, h: number, o: { palette?: Palette; delay: number; repeat?: number }): void;
    finish(): void;
    bytes(): Uint8Array;
  };
  quantize(rgba: Uint8Array, maxColors: number, options: { format: "rgb565" }): Palette;
  applyPalette(rgba: Uint8Array, palette: Palette, format: "rgb565"): Uint8Array;
}
// Loaded as CommonJS in every runtime: its ESM build has another default export.
const gifenc = createRequire(import.meta.url)("gifenc") as GifEnc;

/** The poses of an episode and what it is made of (a replay, or a viewer episode). */
export interface PosedEpisode {
  fps: number;
  bodies: readonly BodySpec[];
  /** `poses: F × (Nbodies·7)`. */
  poses: readonly (readonly number[])[];
}

/** Options for `episodeGif` / `episodePng`. */
export interface MediaOptions {
  /** "3d" for the viewer's default viewpoint, or one of the scenario's cameras (give `cameras`). Default "3d". */
  view?: string;
  /** The scenario's cameras (needed for a camera view). */
  cameras?: readonly CameraSpec[];
  /** Image width in pixels (height follows the view's aspect: square for "3d"). Default 256. */
  size?: number;
  /** GIF: every `stride`-th pose frame (the last frame is always included). Default 1. */
  stride?: number;
  /** GIF playback speed relative to real time. Default 1. */
  speed?: number;
}

/** Renders pose frames of one episode from one view. Not re-entrant (one rasterizer). */
export class EpisodeRenderer {
  readonly width: number;
  readonly height: number;
  private readonly scene: BodyScene;
  private readonly camera: THREE.PerspectiveCamera;
  private readonly rasterizer: Rasterizer;
  private readonly spec: CameraSpec | null;
  private readonly handIndex: number;
  private readonly rgb: Uint8Array;

  constructor(
    private readonly episode: PosedEpisode,
    options: MediaOptions = {},
  ) {
    const view = options.view ?? "3d";
    const size = options.size ?? 256;
    if (!Number.isInteger(size) || size < 8 || size > 2048) {
      throw new DuetError(`size: expected an integer from 8 to 2048, received ${size}`);
    }
    if (episode.poses.length === 0) throw new DuetError("episode has no pose frames");
    const n = episode.bodies.length * POSE_STRIDE;
    const bad = episode.poses.findIndex((p) => p.length !== n);
    if (bad >= 0) throw new DuetError(`poses.${bad}: expected ${n} numbers, received ${episode.poses[bad]!.length}`);
    if (view === "3d") {
      this.spec = null;
      this.width = this.height = size;
      this.camera = new THREE.PerspectiveCamera(VIEW_FOV, 1, 0.01, 20);
      this.camera.up.set(0, 0, 1);
      this.camera.position.set(...VIEW_POSITION);
      this.camera.lookAt(new THREE.Vector3(...VIEW_TARGET));
      this.camera.updateMatrixWorld();
      this.handIndex = -1;
    } else {
      const spec = options.cameras?.find((c) => c.name === view);
      if (!spec) {
        const names = ["3d", ...(options.cameras ?? []).map((c) => c.name)];
        throw new DuetError(`view "${view}": expected one of ${names.join(", ")}`);
      }
      this.spec = spec;
      this.width = size;
      this.height = Math.max(1, Math.round((size * spec.height) / spec.width));
      this.camera = new THREE.PerspectiveCamera(spec.fov, spec.width / spec.height, 0.01, 5);
      const hand = spec.mount === "world" ? null : `${spec.mount === "left_hand" ? "left" : "right"}_hand`;
      this.handIndex = hand === null ? -1 : episode.bodies.findIndex((b) => b.name === hand);
      if (hand !== null && this.handIndex < 0) throw new DuetError(`view "${view}": the episode has no body ${hand}`);
    }
    this.scene = new BodyScene(episode.bodies);
    this.rasterizer = new Rasterizer(this.width, this.height);
    this.rgb = new Uint8Array(this.width * this.height * 3);
  }

  get frames(): number {
    return this.episode.poses.length;
  }

  /** RGB (`H,W,3`) of pose frame f; the returned array is reused by the next call. */
  render(f: number): Uint8Array {
    const poses = this.episode.poses[f];
    if (poses === undefined) throw new DuetError(`frame ${f}: the episode has frames 0..${this.frames - 1}`);
    this.scene.setPoses(poses);
    if (this.spec) this.place(this.spec, poses);
    this.rasterizer.render(this.scene.scene, this.camera, this.rgb);
    return this.rgb;
  }

  /** Put a scenario camera at its mount (as the simulator's SceneCameras do). */
  private place(spec: CameraSpec, poses: readonly number[]): void {
    const q = new THREE.Quaternion();
    const p = new THREE.Vector3();
    if (this.handIndex >= 0) {
      const o = this.handIndex * POSE_STRIDE;
      p.set(poses[o]!, poses[o + 1]!, poses[o + 2]!);
      q.set(poses[o + 3]!, poses[o + 4]!, poses[o + 5]!, poses[o + 6]!);
    }
    const c = this.camera;
    c.position
      .set(...spec.position)
      .applyQuaternion(q)
      .add(p);
    const target = new THREE.Vector3(...spec.look_at).applyQuaternion(q).add(p);
    c.up.set(...spec.up).applyQuaternion(q);
    c.lookAt(target);
    c.updateMatrixWorld();
  }
}

/** PNG of one pose frame (default: the last). */
export function episodePng(episode: PosedEpisode, options: MediaOptions & { frame?: number } = {}): Buffer {
  const r = new EpisodeRenderer(episode, options);
  const f = options.frame ?? r.frames - 1;
  return encodePng({ width: r.width, height: r.height, data: r.render(f) });
}

/** The pose frames a GIF with `stride` shows: 0, stride, 2·stride, …, and always the last. */
export function gifFrameIndices(frames: number, stride: number): number[] {
  if (!Number.isInteger(stride) || stride < 1)
    throw new DuetError(`stride: expected an integer >= 1, received ${stride}`);
  const out: number[] = [];
  for (let f = 0; f < frames; f += stride) out.push(f);
  if (out.at(-1) !== frames - 1) out.push(frames - 1);
  return out;
}

/** Animated GIF of the episode (looping). One 256-colour palette from a few frames across the episode. */
export function episodeGif(episode: PosedEpisode, options: MediaOptions = {}): Uint8Array {
  const r = new EpisodeRenderer(episode, options);
  const indices = gifFrameIndices(r.frames, options.stride ?? 1);
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new DuetError(`speed: expected a positive number, received ${speed}`);
  const delay = ((1000 / episode.fps) * (options.stride ?? 1)) / speed;
  const px = r.width * r.height;
  // palette from up to 4 frames spread over the episode
  const samples = [...new Set([0, 1, 2, 3].map((k) => indices[Math.round((k * (indices.length - 1)) / 3)]!))];
  const sample = new Uint8Array(samples.length * px * 4);
  samples.forEach((f, k) => toRgba(r.render(f), sample, k * px * 4));
  const palette = gifenc.quantize(sample, 256, { format: "rgb565" });
  const enc = gifenc.GIFEncoder();
  const rgba = new Uint8Array(px * 4);
  indices.forEach((f, k) => {
    toRgba(r.render(f), rgba, 0);
    const index = gifenc.applyPalette(rgba, palette, "rgb565");
    enc.writeFrame(index, r.width, r.height, k === 0 ? { palette, delay, repeat: 0 } : { delay });
  });
  enc.finish();
  return enc.bytes();
}

function toRgba(rgb: Uint8Array, out: Uint8Array, offset: number): void {
  for (let i = 0, o = offset; i < rgb.length; i += 3, o += 4) {
    out[o] = rgb[i]!;
    out[o + 1] = rgb[i + 1]!;
    out[o + 2] = rgb[i + 2]!;
    out[o + 3] = 255;
  }
}
