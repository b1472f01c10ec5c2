// What a hearing model takes: the log-mel spectrogram of the last `periods` control periods of sound, as the most
// recent `rows` frames, normalised by one scalar mean and std. One definition for the audio–image binding, the
// training batches of audio-conditioned policies and their runtime (the binding pads an episode's first windows with
// silence, the policies as described next).
//
// An episode's windows overlap: the window ending at period t is the stretch [t − periods + 1, t] of the episode's
// sound, the first period repeated before its start (as rollouts and the deploy loop repeat the first observation
// to fill a history). With the hop dividing the period, every window's frames are frames of the whole
// episode's spectrogram, so `EpisodeSound` computes that once and hands out row slices (the same numbers as
// `SoundWindow.write` on each window; tests/train/audio-policy.test.ts checks it).
import { AUDIO_SAMPLE_RATE, DuetError } from "../../core/index.ts";
import { LogMelSpectrogram } from "./spectrogram.ts";

/** Most rows a window keeps (0.96 s at the 10 ms hop: the spectrogram transformer's default height). */
const MAX_ROWS = 96;

export class SoundWindow {
  /** The window's samples, oldest period first; the caller fills it before `write`. */
  readonly wave: Float32Array;
  /** Spectrogram frames of a whole window, and the most recent `rows` of them that are kept. */
  readonly frames: number;
  readonly rows: number;
  readonly mels: number;
  /** rows · mels. */
  readonly size: number;
  readonly mel: LogMelSpectrogram;

  /** `rowMultiple`: keep a multiple of it (the encoder's patch size), at most 96 rows. */
  constructor(
    readonly periods: number,
    /** Samples per control period. */
    readonly samples: number,
    rowMultiple = 1,
  ) {
    this.mel = new LogMelSpectrogram();
    this.wave = new Float32Array(periods * samples);
    this.frames = this.mel.frames(this.wave.length);
    const rows = Math.min(MAX_ROWS, this.frames);
    this.rows = rows - (rows % rowMultiple);
    if (this.rows === 0) {
      throw new DuetError(
        `audio window: ${periods} period(s) of ${samples} samples give ${this.frames} spectrogram frames, fewer than the ${rowMultiple} the encoder's patch needs; hear more periods`,
      );
    }
    this.mels = this.mel.config.mels;
    this.size = this.rows * this.mels;
  }

  /** The spectrogram of `wave`, its last `rows` frames, as (x − mean) / std into `out` at `offset`. */
  write(out: Float32Array, offset = 0, mean = 0, std = 1): void {
    const s = this.mel.compute(this.wave, AUDIO_SAMPLE_RATE).data;
    const from = (this.frames - this.rows) * this.mels;
    for (let i = 0; i < this.size; i++) out[offset + i] = ((s[from + i] as number) - mean) / std;
  }
}

/** Scalar mean and std of all values of `parts` (the std at least 1e-6): the spectrogram normalisation. */
export function scalarNormalisation(parts: Iterable<Float32Array>): { mean: number; std: number } {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (const a of parts) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i] as number;
      sum += v;
      sq += v * v;
    }
    n += a.length;
  }
  const mean = sum / n;
  return { mean, std: Math.sqrt(Math.max(1e-12, sq / n - mean * mean)) };
}

/** Every window of one episode's sound (`audio: T,S`, one period per frame): raw log-mel rows, sliced per frame. */
export class EpisodeSound {
  private readonly spectrogram: Float32Array;
  private readonly hopsPerPeriod: number;

  constructor(
    readonly window: SoundWindow,
    audio: Float32Array,
  ) {
    const { periods, samples, mel } = window;
    const hop = mel.config.hop;
    if (samples % hop !== 0) {
      throw new DuetError(
        `audio: ${samples} samples per control period is not a multiple of the spectrogram hop (${hop}); use a control rate such as 10, 20 or 50 Hz`,
      );
    }
    this.hopsPerPeriod = samples / hop;
    const lead = (periods - 1) * samples;
    const stream = new Float32Array(lead + audio.length);
    for (let k = 0; k < periods - 1; k++) stream.set(audio.subarray(0, samples), k * samples); // the first, repeated
    stream.set(audio, lead);
    this.spectrogram = mel.compute(stream, AUDIO_SAMPLE_RATE).data;
  }

  /** Every frame's log-mel values, raw. */
  all(): Float32Array {
    return this.spectrogram;
  }

  /** The window ending at frame t's period, as SoundWindow.write would give it, raw (no normalisation). */
  rows(t: number): Float32Array {
    const { frames, rows, mels } = this.window;
    const first = t * this.hopsPerPeriod + frames - rows;
    return this.spectrogram.subarray(first * mels, (first + rows) * mels);
  }
}
