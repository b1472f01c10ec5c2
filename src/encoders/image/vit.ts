// Vision transformer observer: optional conv stem → patch tokens → (class token) + learned position embeddings →
// pre-norm transformer blocks → LayerNorm → pooling → Linear head. `VitCore` is shared with the tubelet (video) ViT
// and the spectrogram (audio) transformer.
import { parseWith } from "../../core/index.ts";
import { GraphBuilder, GroupNorm, LayerNorm, Linear, PatchEmbed, gelu, type Tensor } from "../../nn/index.ts";
import { Conv2d } from "./conv2d.ts";
import { encodeEachFrame, expectImages, type ImageEncoder } from "./encoder.ts";
import { TransformerBlock } from "../transformer-block.ts";
import { vitConfigSchema, type VitConfig, type VitConfigInput } from "./vit-config.ts";

/** Channels of an RGB image. */
export const IMAGE_CHANNELS = 3;

/**
 * Everything after tokenisation, plus the stem. Parameter names (under the caller's scope): `stem.conv{i}.*`,
 * `stem.norm{i}.*`, `patch.proj.*`, `cls` [1,1,D], `pos` [1,T(+1),D], `block{i}.*`, `norm.*`, `head.*`.
 */
export abstract class VitCore {
  readonly featureDim: number;
  readonly height: number;
  readonly width: number;
  /** Patch grid rows × columns. */
  readonly grid: readonly [number, number];
  /** Tokens entering the transformer: grid cells, +1 with a class token. */
  readonly tokens: number;
  /** Channels of the map that is patched (3, or the last stem width). */
  readonly patchChannels: number;
  protected readonly stemConvs: Conv2d[];
  protected readonly stemNorms: GroupNorm[];
  protected readonly blocks: TransformerBlock[];
  protected readonly norm: LayerNorm;
  protected readonly head: Linear;

  /** `channels`: of each input pixel (3 for RGB, 1 for a spectrogram). */
  protected constructor(
    readonly config: VitConfig,
    channels = IMAGE_CHANNELS,
  ) {
    const c = config;
    this.featureDim = c.featureDim;
    this.height = c.height;
    this.width = c.width;
    const down = 2 ** c.stem.length;
    this.grid = [c.height / down / c.patch, c.width / down / c.patch];
    this.tokens = this.grid[0] * this.grid[1] + (c.pool === "mean" ? 0 : 1);
    let cin = channels;
    this.stemConvs = [];
    this.stemNorms = [];
    c.stem.forEach((ch, i) => {
      this.stemConvs.push(new Conv2d(`conv${i}`, cin, ch, 3, { stride: 2 }));
      this.stemNorms.push(new GroupNorm(`norm${i}`, c.stemGroups, ch));
      cin = ch;
    });
    this.patchChannels = cin;
    this.blocks = Array.from(
      { length: c.depth },
      (_, i) => new TransformerBlock(`block${i}`, c.dim, c.heads, c.mlpRatio),
    );
    this.norm = new LayerNorm("norm", c.dim, 1e-6);
    this.head = new Linear("head", c.pool === "cls+mean" ? 2 * c.dim : c.dim, c.featureDim);
  }

  /** Images (shaped as `apply` expects) → patch tokens `N,T,D` (T = grid cells). */
  protected abstract tokenize(g: GraphBuilder, images: Tensor): Tensor;

  /** Check the input shape (throws naming the expected shape). */
  protected abstract check(images: Tensor): void;

  /** x: M,H,W,3 → M,H/2^L,W/2^L,Cs (identity without a stem). */
  protected stem(g: GraphBuilder, x: Tensor): Tensor {
    if (this.stemConvs.length === 0) return x;
    return g.scope("stem", () => {
      let y = x;
      this.stemConvs.forEach((conv, i) => {
        y = gelu(g, (this.stemNorms[i] as GroupNorm).apply(g, conv.apply(g, y)));
      });
      return y;
    });
  }

  /** See ImageEncoder.apply. */
  apply(g: GraphBuilder, images: Tensor): Tensor {
    this.check(images);
    return this.encode(g, this.tokenize(g, images));
  }

  /** patches: N,T,D → N,F */
  private encode(g: GraphBuilder, patches: Tensor): Tensor {
    const c = this.config;
    const [n, t, d] = patches.shape as [number, number, number];
    const std = c.embedInitStd;
    const withCls = c.pool !== "mean";
    let x: Tensor;
    if (withCls) {
      // [cls; patches] + pos without Expand (which would pin the batch size): pad a zero token in front, then add
      // [cls; 0…0] + pos, a [1,T+1,D] sum of parameters.
      const cls = g.param("cls", [1, 1, d], { kind: "normal", std }, false);
      const pos = g.param("pos", [1, t + 1, d], { kind: "normal", std }, false);
      x = g.add(g.pad(patches, [0, 1, 0, 0, 0, 0]), g.add(g.pad(cls, [0, 0, 0, 0, t, 0]), pos));
    } else {
      x = g.add(patches, g.param("pos", [1, t, d], { kind: "normal", std }, false));
    }
    for (const block of this.blocks) x = block.apply(g, x);
    x = this.norm.apply(g, x);
    const first = withCls ? 1 : 0;
    const clsOut = (): Tensor => g.reshape(g.slice(x, [1], [0], [1]), [n, d]);
    const meanOut = (): Tensor => g.reduceMean(first ? g.slice(x, [1], [first], [t + first]) : x, [1]);
    const pooled = c.pool === "cls" ? clsOut() : c.pool === "mean" ? meanOut() : g.concat([clsOut(), meanOut()], 1);
    return this.head.apply(g, pooled);
  }
}

/** The image ViT: `images: N,H,W,3` → `N,F`. */
export class VitEncoder extends VitCore implements ImageEncoder {
  readonly frames = 1;
  readonly patchEmbed: PatchEmbed;

  /** Options are validated here; a bad one throws a ValidationError naming `source` and each bad field. */
  constructor(config: VitConfigInput = {}, source = "ViT config") {
    super(parseWith(vitConfigSchema, config, source));
    this.patchEmbed = new PatchEmbed("patch", this.config.patch, this.patchChannels, this.config.dim);
  }

  protected check(images: Tensor): void {
    expectImages("ViT", images, [this.height, this.width, IMAGE_CHANNELS]);
  }

  protected tokenize(g: GraphBuilder, images: Tensor): Tensor {
    return this.patchEmbed.apply(g, this.stem(g, images));
  }

  applySteps(g: GraphBuilder, images: Tensor): Tensor {
    return encodeEachFrame(g, this, images);
  }
}
