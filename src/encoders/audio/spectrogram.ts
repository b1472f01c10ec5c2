// Log-mel spectrogram of a 16 kHz waveform (the input of the spectrogram transformer): 25 ms Hann windows every 10 ms,
// zero-padded to a 512-point FFT, power spectrum, HTK mel filterbank, natural log.
// Decision: audio at any other rate is refused, not resampled: the simulator synthesises at 16 kHz, and a robot's
// microphone stream should be resampled where it is captured, with a proper anti-aliasing filter, not silently here.
import { z } from "zod";
import { AUDIO_SAMPLE_RATE, DuetError, parseWith } from "../../core/index.ts";

export const spectrogramConfigSchema = z
  .object({
    /** Window length in samples (default 400 = 25 ms). */
    window: z.number().int().min(16).max(2048).default(400),
    /** Hop in samples (default 160 = 10 ms: 100 frames per second). */
    hop: z.number().int().positive().default(160),
    /** FFT size, a power of two ≥ window (default 512). */
    fft: z.number().int().default(512),
    /** Mel bands (default 64). */
    mels: z.number().int().min(1).max(256).default(64),
    /** Lowest and highest filter edge in Hz (default 0 and the Nyquist frequency, 8000). */
    fMin: z.number().min(0).default(0),
    fMax: z
      .number()
      .positive()
      .max(AUDIO_SAMPLE_RATE / 2)
      .default(AUDIO_SAMPLE_RATE / 2),
  })
  .strict()
  .refine((c) => c.fft >= c.window && (c.fft & (c.fft - 1)) === 0, {
    path: ["fft"],
    message: "a power of two ≥ window",
  })
  .refine((c) => c.fMin < c.fMax, { path: ["fMin"], message: "below fMax" });
export type SpectrogramConfig = z.output<typeof spectrogramConfigSchema>;
export type SpectrogramConfigInput = z.input<typeof spectrogramConfigSchema>;

/** Audio the spectrogram cannot take (another sample rate, too short, not finite). */
export class AudioError extends DuetError {
  override name = "AudioError";
}

export interface Spectrogram {
  /** Row-major `[frames, mels]`, ln(power + 1e-10). */
  readonly data: Float32Array;
  readonly frames: number;
  readonly mels: number;
}

const melOf = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const hzOf = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

export class LogMelSpectrogram {
  readonly config: SpectrogramConfig;
  /** `[mels, fft/2 + 1]` triangular filters. */
  readonly filters: Float32Array;
  /** Centre frequency of each mel filter in Hz. */
  readonly centers: Float64Array;
  private readonly hann: Float64Array;

  constructor(config: SpectrogramConfigInput = {}, source = "spectrogram config") {
    const c = parseWith(spectrogramConfigSchema, config, source);
    this.config = c;
    this.hann = Float64Array.from({ length: c.window }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / c.window));
    const bins = c.fft / 2 + 1;
    const lo = melOf(c.fMin);
    const hi = melOf(c.fMax);
    const edges = Array.from({ length: c.mels + 2 }, (_, i) => hzOf(lo + ((hi - lo) * i) / (c.mels + 1)));
    this.centers = Float64Array.from({ length: c.mels }, (_, m) => edges[m + 1] as number);
    this.filters = new Float32Array(c.mels * bins);
    for (let m = 0; m < c.mels; m++) {
      const [left, centre, right] = [edges[m], edges[m + 1], edges[m + 2]] as [number, number, number];
      for (let k = 0; k < bins; k++) {
        const f = (k * AUDIO_SAMPLE_RATE) / c.fft;
        const w = f <= centre ? (f - left) / (centre - left) : (right - f) / (right - centre);
        this.filters[m * bins + k] = Math.max(0, w);
      }
    }
  }

  /** Frames a waveform of `samples` samples gives: 1 + ⌊(samples − window) / hop⌋. */
  frames(samples: number): number {
    return samples < this.config.window ? 0 : 1 + Math.floor((samples - this.config.window) / this.config.hop);
  }

  /** Power spectrum `[frames, fft/2 + 1]` of the Hann-windowed frames. */
  power(wave: Float32Array, sampleRate: number): { data: Float64Array; frames: number } {
    const { window, hop, fft } = this.config;
    if (sampleRate !== AUDIO_SAMPLE_RATE) {
      throw new AudioError(
        `audio at ${sampleRate} Hz: the spectrogram takes ${AUDIO_SAMPLE_RATE} Hz; resample the stream to ${AUDIO_SAMPLE_RATE} Hz where it is captured`,
      );
    }
    const frames = this.frames(wave.length);
    if (frames === 0) {
      throw new AudioError(`audio of ${wave.length} samples is shorter than one ${window}-sample window`);
    }
    const bad = wave.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new AudioError(`audio sample ${bad} is ${wave[bad]}: samples must be finite`);
    const bins = fft / 2 + 1;
    const out = new Float64Array(frames * bins);
    const re = new Float64Array(fft);
    const im = new Float64Array(fft);
    for (let f = 0; f < frames; f++) {
      re.fill(0);
      im.fill(0);
      for (let i = 0; i < window; i++) re[i] = (wave[f * hop + i] as number) * (this.hann[i] as number);
      fftInPlace(re, im);
      for (let k = 0; k < bins; k++) out[f * bins + k] = (re[k] as number) ** 2 + (im[k] as number) ** 2;
    }
    return { data: out, frames };
  }

  /** ln(mel power + 1e-10), `[frames, mels]`. */
  compute(wave: Float32Array, sampleRate: number): Spectrogram {
    const { mels, fft } = this.config;
    const bins = fft / 2 + 1;
    const { data: power, frames } = this.power(wave, sampleRate);
    const data = new Float32Array(frames * mels);
    for (let f = 0; f < frames; f++) {
      for (let m = 0; m < mels; m++) {
        let sum = 0;
        for (let k = 0; k < bins; k++) sum += (this.filters[m * bins + k] as number) * (power[f * bins + k] as number);
        data[f * mels + m] = Math.log(sum + 1e-10);
      }
    }
    return { data, frames, mels };
  }
}

/** Iterative radix-2 Cooley–Tukey FFT; length a power of two. */
function fftInPlace(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j] as number, re[i] as number];
      [im[i], im[j]] = [im[j] as number, im[i] as number];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    for (let start = 0; start < n; start += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(angle * k);
        const wi = Math.sin(angle * k);
        const a = start + k;
        const b = a + len / 2;
        const xr = (re[b] as number) * wr - (im[b] as number) * wi;
        const xi = (re[b] as number) * wi + (im[b] as number) * wr;
        re[b] = (re[a] as number) - xr;
        im[b] = (im[a] as number) - xi;
        re[a] = (re[a] as number) + xr;
        im[a] = (im[a] as number) + xi;
      }
    }
  }
}
