// Contact sound: what a microphone near the hands would hear, synthesised from the physics at 16 kHz.
//
//   thread clicks   one short ring (3.2 kHz, τ 1 ms) per twelfth of a loosening turn: the cap's thread ridges
//   release click   a loud two-tone ring (1.8 + 4.5 kHz, τ 4 ms) when the thread lets go — the sound the issue's
//                   cameras cannot see when a hand hides the cap
//   scraping        band-passed noise while a touched object slides in the hand (> 3 cm/s away from where it sat
//                   when the touch began), louder the faster it slides: a slipping grasp
//   floor           white noise at 1e-3, so silence has a spectrum
//
// Each sound is added into a buffer at the sample where its physics step ends; `take()` hands out the samples of
// the control period just finished (rings that run on carry into the next one). Deterministic per seed.
import * as CANNON from "cannon-es";
import { ARMS, AUDIO_SAMPLE_RATE, Rng, type Arm } from "../core/index.ts";
import type { BimanualWorld } from "./world.ts";

/** Thread ridges per turn: one click each. */
export const CLICKS_PER_TURN = 12;
const CLICK = { freqs: [3200], tau: 0.001, amplitude: 0.25 };
const RELEASE = { freqs: [1800, 4500], tau: 0.004, amplitude: 0.9 };
/**
 * Slip speed (m/s) above which a touched object is heard sliding in the hand, and where the scrape saturates. The
 * scripted expert's grasps drift up to ≈ 2.5 cm/s (smoothed) while twisting, as the compliant weld winds up; more is
 * a grasp giving way.
 */
const SCRAPE_ONSET = 0.03;
const SCRAPE_FULL = 0.1;
/** Time constant (s) of the slip smoothing. */
const SLIP_SMOOTHING = 0.03;
const SCRAPE_AMPLITUDE = 0.15;
const NOISE_FLOOR = 1e-3;
/** Rings last 6 τ (≈ 0.25% of their start amplitude left). */
const RING_TAUS = 6;

const offset = new CANNON.Vec3();
const handInverse = new CANNON.Quaternion();

/** A touched object's offset in the hand when the touch began, and its smoothed distance from there since. */
interface SlipTrack {
  body: CANNON.Body | null;
  reference: CANNON.Vec3;
  drift: number;
}
const newSlipTrack = (): SlipTrack => ({ body: null, reference: new CANNON.Vec3(), drift: 0 });

export class ContactAudio {
  /** Samples per control period (1600 at 10 Hz). */
  readonly periodSamples: number;
  private readonly rng: Rng;
  /** Samples of the current control period plus the longest ring's tail. */
  private buffer: Float32Array;
  /** Absolute index of buffer[0]. */
  private start = 0;
  private physicsSteps = 0;
  private lastClick = 0;
  private released = false;
  /** One-pole band-pass state of the scrape noise. */
  private lowpass = 0;
  private previous = 0;
  private readonly slips: Record<Arm, SlipTrack> = { left: newSlipTrack(), right: newSlipTrack() };

  constructor(
    seed: number,
    private readonly physicsDt: number,
    controlHz: number,
  ) {
    this.rng = new Rng((seed ^ 0xa0d10) >>> 0);
    const tail = Math.ceil(RING_TAUS * RELEASE.tau * AUDIO_SAMPLE_RATE);
    this.periodSamples = Math.round(AUDIO_SAMPLE_RATE / controlHz);
    this.buffer = new Float32Array(this.periodSamples + tail + 1);
  }

  /** Listen to one physics step of `world` (call after `world.step()`). */
  afterPhysicsStep(world: BimanualWorld): void {
    const from = this.sampleOf(this.physicsSteps);
    this.physicsSteps++;
    const to = this.sampleOf(this.physicsSteps);
    for (let s = from; s < to; s++) this.add(s, NOISE_FLOOR * (2 * this.rng.next() - 1));
    const thread = world.thread;
    const ridge = Math.floor(Math.max(0, thread.turns) * CLICKS_PER_TURN);
    for (; this.lastClick < ridge; this.lastClick++) this.ring(to, CLICK);
    if (thread.released && !this.released) {
      this.released = true;
      this.ring(to, RELEASE);
    }
    const speed = Math.max(...ARMS.map((a) => this.slipSpeed(world, a)));
    if (speed > SCRAPE_ONSET) {
      const gain = SCRAPE_AMPLITUDE * Math.min(1, speed / SCRAPE_FULL);
      for (let s = from; s < to; s++) {
        // white noise through a one-pole low-pass (≈ 3 kHz) and a first difference: a band around 1–4 kHz
        this.lowpass += 0.7 * (2 * this.rng.next() - 1 - this.lowpass);
        this.add(s, gain * (this.lowpass - this.previous));
        this.previous = this.lowpass;
      }
    }
  }

  /**
   * The samples from the last `take` up to the latest physics step (AUDIO_SAMPLE_RATE, mono); before the first
   * physics step, one control period of silence.
   */
  take(): Float32Array {
    if (this.physicsSteps === 0) return new Float32Array(this.periodSamples);
    const end = this.sampleOf(this.physicsSteps);
    const n = end - this.start;
    const out = this.buffer.slice(0, n).map((v) => Math.max(-1, Math.min(1, v))); // a microphone clips
    this.buffer.copyWithin(0, n);
    this.buffer.fill(0, this.buffer.length - n);
    this.start = end;
    return out;
  }

  /**
   * How fast (m/s) the object a gripper touches drifts away from where it sat in the hand when the touch began: its
   * offset in the hand's frame, smoothed over SLIP_SMOOTHING so the compliant grasp's millimetre oscillation is not
   * heard, rising (not falling back). 0 when the gripper touches nothing.
   */
  private slipSpeed(world: BimanualWorld, which: Arm): number {
    const g = world.arms[which].gripper;
    const body = g.holding ?? g.touchA ?? g.touchB;
    const track = this.slips[which];
    if (!body) {
      track.body = null;
      return 0;
    }
    body.position.vsub(g.hand.position, offset);
    g.hand.quaternion.conjugate(handInverse).vmult(offset, offset);
    if (body !== track.body) {
      track.body = body;
      track.reference.copy(offset);
      track.drift = 0;
      return 0;
    }
    offset.vsub(track.reference, offset);
    const drift = offset.length();
    const before = track.drift;
    track.drift += Math.min(1, this.physicsDt / SLIP_SMOOTHING) * (drift - before);
    return Math.max(0, (track.drift - before) / this.physicsDt);
  }

  private sampleOf(physicsStep: number): number {
    return Math.round(physicsStep * this.physicsDt * AUDIO_SAMPLE_RATE);
  }

  private add(sample: number, value: number): void {
    const i = sample - this.start;
    if (i >= 0 && i < this.buffer.length) this.buffer[i] = (this.buffer[i] as number) + value;
  }

  /** A decaying ring starting at `sample`, amplitude jittered ±20% per event. */
  private ring(sample: number, sound: { freqs: number[]; tau: number; amplitude: number }): void {
    const amplitude = sound.amplitude * (0.8 + 0.4 * this.rng.next());
    const phase = 2 * Math.PI * this.rng.next();
    const length = Math.ceil(RING_TAUS * sound.tau * AUDIO_SAMPLE_RATE);
    for (let k = 0; k < length; k++) {
      const t = k / AUDIO_SAMPLE_RATE;
      let v = 0;
      for (const f of sound.freqs) v += Math.sin(2 * Math.PI * f * t + phase);
      this.add(sample + k, (amplitude / sound.freqs.length) * Math.exp(-t / sound.tau) * v);
    }
  }
}
