// Features of observation frames kept across calls, so each frame is encoded once per control step (not once per
// denoising step, nor again when it reappears in the next call's To-step history).
import { DuetError, type CameraFrame } from "../core/index.ts";

/** Cheap content fingerprint: length plus FNV-1a over 64 evenly spaced bytes (catches reused buffers). */
function fingerprint(frame: CameraFrame): number {
  const d = frame.data;
  let h = (2166136261 ^ d.length) >>> 0;
  const step = Math.max(1, Math.floor(d.length / 64));
  for (let i = 0; i < d.length; i += step) h = Math.imul(h ^ (d[i] as number), 16777619) >>> 0;
  return h;
}

interface Slot {
  time: number;
  print: number;
  used: number;
}

/**
 * A fixed-size cache of feature vectors keyed by (camera, observation time), verified by a content fingerprint of the
 * frame. Storage is preallocated (`capacity` slots per camera × featureDim floats); `read`/`write` allocate nothing
 * once a camera has been seen. Call `clear()` at an episode boundary (Policy.reset). Not reentrant.
 */
export class FeatureCache {
  private readonly store = new Map<string, { data: Float32Array; slots: Slot[] }>();
  private clock = 0;
  hits = 0;
  misses = 0;

  constructor(
    /** F: floats per cached vector. */
    readonly featureDim: number,
    /** Vectors kept per camera (≥ To; the oldest is replaced). Default 4. */
    readonly capacity = 4,
  ) {
    if (!Number.isInteger(featureDim) || featureDim < 1)
      throw new DuetError(`FeatureCache: featureDim must be a positive integer, received ${featureDim}`);
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new DuetError(`FeatureCache: capacity must be a positive integer, received ${capacity}`);
  }

  private camera(camera: string): { data: Float32Array; slots: Slot[] } {
    let c = this.store.get(camera);
    if (!c) {
      c = {
        data: new Float32Array(this.capacity * this.featureDim),
        slots: Array.from({ length: this.capacity }, () => ({ time: Number.NaN, print: 0, used: -1 })),
      };
      this.store.set(camera, c);
    }
    return c;
  }

  /** Copy the features of (camera, time) into `out[offset..]` and return true, or return false on a miss. */
  read(camera: string, time: number, frame: CameraFrame, out: Float32Array, offset = 0): boolean {
    const c = this.store.get(camera);
    if (c) {
      const print = fingerprint(frame);
      for (let i = 0; i < c.slots.length; i++) {
        const s = c.slots[i] as Slot;
        if (s.time === time && s.print === print) {
          s.used = ++this.clock;
          const base = i * this.featureDim;
          for (let j = 0; j < this.featureDim; j++) out[offset + j] = c.data[base + j] as number;
          this.hits++;
          return true;
        }
      }
    }
    this.misses++;
    return false;
  }

  /** Store `features[offset .. offset+F)` for (camera, time), replacing the same key or the least recently used. */
  write(camera: string, time: number, frame: CameraFrame, features: Float32Array, offset = 0): void {
    if (features.length < offset + this.featureDim) {
      throw new DuetError(
        `FeatureCache.write: need ${this.featureDim} floats at offset ${offset}, have ${features.length}`,
      );
    }
    const c = this.camera(camera);
    let victim = 0;
    for (let i = 0; i < c.slots.length; i++) {
      const s = c.slots[i] as Slot;
      if (s.time === time) {
        victim = i;
        break;
      }
      if (s.used < (c.slots[victim] as Slot).used) victim = i;
    }
    const slot = c.slots[victim] as Slot;
    slot.time = time;
    slot.print = fingerprint(frame);
    slot.used = ++this.clock;
    const base = victim * this.featureDim;
    for (let j = 0; j < this.featureDim; j++) c.data[base + j] = features[offset + j] as number;
  }

  /** Forget everything (episode boundary); counters are kept. */
  clear(): void {
    for (const c of this.store.values()) for (const s of c.slots) s.time = Number.NaN;
  }
}
