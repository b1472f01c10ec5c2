// What a hearing policy (policy.audio) trains on: every used episode's sound windows, computed once (src/encoders'
// EpisodeSound: one spectrogram per episode, a row slice per frame), and the scalar normalisation of the log-mel values.
import { DuetError } from "../core/index.ts";
import type { Dataset } from "../data/index.ts";
import { EpisodeSound, scalarNormalisation, type SoundWindow } from "../encoders/index.ts";

export interface EpisodeSounds {
  /** By episode index; undefined for an episode not used. */
  sounds: readonly (EpisodeSound | undefined)[];
  /** x → (x − mean) / std over every row of every used episode's spectrogram (the repeated first period included). */
  mean: number;
  std: number;
}

/** The sound windows of `episodes` of an (already loaded) dataset that records audio. */
export function hearEpisodes(ds: Dataset, episodes: readonly number[], window: SoundWindow): EpisodeSounds {
  const samples = ds.spec.audioSamples;
  if (samples !== window.samples) {
    throw new DuetError(
      `${ds.root}: ${samples ?? "no"} audio samples per frame, the policy's sound window takes ${window.samples}`,
    );
  }
  const sounds: EpisodeSound[] = [];
  for (const e of episodes) {
    const length = (ds.episodes[e] as { length: number }).length;
    const audio = new Float32Array(length * samples);
    for (let t = 0; t < length; t++) ds.readAudio(e, t, audio, t * samples);
    sounds[e] = new EpisodeSound(window, audio);
  }
  return { sounds, ...scalarNormalisation(episodes.map((e) => (sounds[e] as EpisodeSound).all())) };
}
