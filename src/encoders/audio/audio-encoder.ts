// Spectrogram transformer (AST, Gong et al. 2021, small): a log-mel spectrogram `N, frames, mels` is cut into
// P×P patches over time × frequency, and the image ViT's core (position embeddings, pre-norm blocks, pooling, head)
// turns them into one vector per clip. The defaults cover 0.96 s (96 frames of 10 ms) × 64 mel bands in 6 × 4 patches.
import { parseWith } from "../../core/index.ts";
import { PatchEmbed, type GraphBuilder, type Tensor } from "../../nn/index.ts";
import { expectImages } from "../image/encoder.ts";
import { vitConfigSchema, type VitConfigInput } from "../image/vit-config.ts";
import { VitCore } from "../image/vit.ts";

/** Options as the image ViT's, with `height` = spectrogram frames and `width` = mel bands. */
export const AUDIO_DEFAULTS: VitConfigInput = { height: 96, width: 64, patch: 16, dim: 64, depth: 2, heads: 4 };

/** `spectrograms: N,frames,mels` (LogMelSpectrogram rows, normalised by the caller) → `N,F`. */
export class AudioEncoder extends VitCore {
  readonly patchEmbed: PatchEmbed;

  constructor(config: VitConfigInput = {}, source = "audio encoder config") {
    super(parseWith(vitConfigSchema, { ...AUDIO_DEFAULTS, ...config }, source), 1);
    this.patchEmbed = new PatchEmbed("patch", this.config.patch, this.patchChannels, this.config.dim);
  }

  protected check(spectrograms: Tensor): void {
    expectImages("spectrogram transformer", spectrograms, [this.height, this.width]);
  }

  protected tokenize(g: GraphBuilder, spectrograms: Tensor): Tensor {
    const n = spectrograms.shape[0] as number;
    return this.patchEmbed.apply(g, this.stem(g, g.reshape(spectrograms, [n, this.height, this.width, 1])));
  }
}
