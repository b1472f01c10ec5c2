// Contact sound: an expert episode with audio on. Silence before contact; a click for every twelfth of a loosening
// turn, ringing at 3.2 kHz; the release click is the episode's loudest sound, at 1.8 and 4.5 kHz; the end of a twist
// (the compliant grip winding up) scrapes; the same seed gives the same waveform.
import { describe, expect, it } from "vitest";
import { AUDIO_SAMPLE_RATE } from "../../src/core/index.ts";
import { CLICKS_PER_TURN, createEnv, createExpert, loadScenario } from "../../src/sim/index.ts";
import { LogMelSpectrogram } from "../../src/encoders/audio/spectrogram.ts";

const PERIOD = AUDIO_SAMPLE_RATE / 10;

interface Step {
  audio: Float32Array;
  ridge: number;
  released: boolean;
}

function episode(seed: number, limit = 450): Step[] {
  const env = createEnv("scenarios/bottle-cap.json", { cameras: false, audio: true });
  const expert = createExpert(env, { mode: "left" });
  const first = env.reset(seed);
  expert.reset(seed);
  const steps: Step[] = [{ audio: first.audio as Float32Array, ridge: 0, released: false }];
  for (let t = 0; t < limit; t++) {
    const r = env.step(Float32Array.from(expert.nextAction()));
    const turns = Math.max(0, r.info["turns"] as number);
    const audio = r.observation.audio as Float32Array;
    steps.push({ audio, ridge: Math.floor(turns * CLICKS_PER_TURN), released: r.info["released"] as boolean });
    if (r.done) break;
  }
  return steps;
}

const peak = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const rms = (a: Float32Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);

/** Frequency (Hz) of the loudest FFT bin of the window starting where |audio| peaks. */
function loudestFrequency(audio: Float32Array, spec: LogMelSpectrogram): number {
  const at = audio.findIndex((v) => Math.abs(v) === peak(audio));
  const start = Math.max(0, Math.min(audio.length - 400, at - 40));
  const { data } = spec.power(audio.slice(start, start + 400), AUDIO_SAMPLE_RATE);
  let best = 1;
  for (let k = 2; k < data.length; k++) if ((data[k] as number) > (data[best] as number)) best = k;
  return (best * AUDIO_SAMPLE_RATE) / 512;
}

describe("contact audio", () => {
  const steps = episode(1);
  const spec = new LogMelSpectrogram();

  it("every control step carries 1600 samples at 16 kHz; the reset observation and the approach are silent", () => {
    expect(steps.length).toBeGreaterThan(100);
    expect(steps.every((s) => s.audio.length === PERIOD)).toBe(true);
    expect(peak(steps[0]!.audio)).toBe(0);
    for (const s of steps.slice(1, 20)) expect(peak(s.audio)).toBeLessThanOrEqual(1e-3);
  });

  it("a click at 3.2 kHz in every step whose thread turned past a ridge", () => {
    const clicks = steps.filter((s, i) => i > 0 && !s.released && s.ridge > steps[i - 1]!.ridge);
    expect(clicks.length).toBeGreaterThanOrEqual(15); // 1.5 turns × 12, crossed in ≥ 15 distinct steps
    for (const s of clicks) {
      expect(peak(s.audio)).toBeGreaterThan(0.15);
      expect(Math.abs(loudestFrequency(s.audio, spec) - 3200)).toBeLessThan(100);
    }
  });

  it("the release click is the loudest sound of the episode and rings at 1.8 and 4.5 kHz", () => {
    const at = steps.findIndex((s) => s.released);
    expect(at).toBeGreaterThan(0);
    const release = steps[at]!.audio;
    const loudestElsewhere = Math.max(...steps.filter((_, i) => i !== at).map((s) => peak(s.audio)));
    expect(peak(release)).toBeGreaterThan(Math.max(0.5, loudestElsewhere));
    const start = Math.max(0, release.findIndex((v) => Math.abs(v) > 0.3) - 40);
    const { data } = spec.power(release.slice(start, start + 400), AUDIO_SAMPLE_RATE);
    const bin = (hz: number): number => data[Math.round((hz * 512) / AUDIO_SAMPLE_RATE)] as number;
    expect(bin(1800)).toBeGreaterThan(10 * bin(7000));
    expect(bin(4500)).toBeGreaterThan(10 * bin(7000));
  });

  it("scrapes without a click: the grip giving a little at the end of a twist", () => {
    // no click in this step or the one before (a ring can carry 6 ms into the next period)
    const quiet = steps.filter(
      (s, i) =>
        i > 1 &&
        s.ridge === steps[i - 1]!.ridge &&
        steps[i - 1]!.ridge === steps[i - 2]!.ridge &&
        !s.released &&
        rms(s.audio) > 3 * 1e-3,
    );
    expect(quiet.length).toBeGreaterThan(0);
  });

  it("refuses audio when a control period would not hold a whole number of samples", () => {
    const scenario = loadScenario("scenarios/bottle-cap.json");
    expect(() => createEnv({ ...scenario, control_hz: 30, physics_hz: 240 }, { cameras: false, audio: true })).toThrow(
      /control_hz 30 does not divide the audio rate 16000 Hz/,
    );
  });

  it("the same seed gives the same sound", () => {
    const again = episode(1, 100);
    for (let i = 0; i < again.length; i++) expect(again[i]!.audio).toEqual(steps[i]!.audio);
  });
});
