// Audio: the log-mel spectrogram of a pure tone peaks at the tone's FFT bin and mel band; other sample rates and
// unusable waveforms are refused; the spectrogram transformer patches time × frequency into one vector per clip.
import { describe, expect, it } from "vitest";
import { AUDIO_SAMPLE_RATE, ValidationError } from "../../../src/core/index.ts";
import { GraphBuilder, ParamLayout } from "../../../src/nn/index.ts";
import { AudioEncoder } from "../../../src/encoders/index.ts";
import { AudioError, LogMelSpectrogram } from "../../../src/encoders/audio/spectrogram.ts";
import { compile, f32 } from "../../nn/helpers.ts";

const tone = (hz: number, seconds: number): Float32Array =>
  Float32Array.from(
    { length: seconds * AUDIO_SAMPLE_RATE },
    (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / AUDIO_SAMPLE_RATE),
  );

const argmax = (row: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[best] as number)) best = i;
  return best;
};

describe("log-mel spectrogram", () => {
  const spec = new LogMelSpectrogram();

  for (const hz of [250, 1000, 3000, 6500]) {
    it(`a ${hz} Hz tone peaks at FFT bin round(${hz}·512/16000) and at the mel band centred nearest ${hz} Hz`, () => {
      const wave = tone(hz, 0.5);
      const { data: power, frames: pf } = spec.power(wave, AUDIO_SAMPLE_RATE);
      const bins = 257;
      expect(pf).toBe(1 + Math.floor((8000 - 400) / 160));
      expect(argmax(power.subarray(10 * bins, 11 * bins))).toBe(Math.round((hz * 512) / 16000));
      const { data, frames, mels } = spec.compute(wave, AUDIO_SAMPLE_RATE);
      expect([frames, mels]).toEqual([pf, 64]);
      const nearest = argmax(Array.from(spec.centers, (c) => -Math.abs(c - hz)));
      expect(Math.abs(argmax(data.subarray(10 * mels, 11 * mels)) - nearest)).toBeLessThanOrEqual(1);
    });
  }

  it("silence is the floor ln 1e-10 everywhere", () => {
    const { data } = spec.compute(new Float32Array(800), AUDIO_SAMPLE_RATE);
    expect(Math.max(...data)).toBeCloseTo(Math.log(1e-10), 3);
  });

  it("refuses another sample rate, a clip shorter than a window, non-finite samples and bad options", () => {
    expect(() => spec.compute(tone(440, 0.1), 44100)).toThrow(AudioError);
    expect(() => spec.compute(tone(440, 0.1), 44100)).toThrow(/audio at 44100 Hz: the spectrogram takes 16000 Hz/);
    expect(() => spec.compute(new Float32Array(399), AUDIO_SAMPLE_RATE)).toThrow(
      /399 samples is shorter than one 400-sample window/,
    );
    const wave = tone(440, 0.1);
    wave[7] = NaN;
    expect(() => spec.compute(wave, AUDIO_SAMPLE_RATE)).toThrow(/sample 7 is NaN/);
    expect(() => new LogMelSpectrogram({ fft: 300 })).toThrow(ValidationError);
    expect(() => new LogMelSpectrogram({ fft: 256 })).toThrow(/fft/);
  });
});

describe("spectrogram transformer", () => {
  it("0.96 s × 64 mels in 16×16 patches → 24 tokens (+ class token) → one feature vector per clip", async () => {
    const enc = new AudioEncoder({ dim: 16, depth: 1, heads: 2, featureDim: 8 });
    expect(enc.grid).toEqual([6, 4]);
    const g = new GraphBuilder();
    g.output("features", enc.apply(g, g.input("spec", [2, 96, 64])));
    expect(ParamLayout.of(g).entry("patch.proj.weight").shape).toEqual([256, 16]);
    const spec = new LogMelSpectrogram();
    const clip = (hz: number) => spec.compute(tone(hz, 0.97), AUDIO_SAMPLE_RATE).data.subarray(0, 96 * 64);
    const data = new Float32Array(2 * 96 * 64);
    data.set(clip(500));
    data.set(clip(4000), 96 * 64);
    const session = await compile(g);
    const out = f32((await session.run({ spec: { data: data.map((v) => v / 10), dims: [2, 96, 64] } })).features);
    await session.release();
    expect(out).toHaveLength(16);
    expect(out.every(Number.isFinite)).toBe(true);
    expect(out.subarray(0, 8).reduce((s, v, i) => s + Math.abs(v - (out[8 + i] as number)), 0)).toBeGreaterThan(1e-3);
  });

  it("refuses a spectrogram of the wrong shape, naming it", () => {
    const g = new GraphBuilder();
    expect(() => new AudioEncoder().apply(g, g.input("spec", [1, 100, 64]))).toThrow(/\[N,96,64\].*\[1,100,64\]/);
    expect(() => new AudioEncoder({ height: 100 })).toThrow(/patch/);
  });
});
