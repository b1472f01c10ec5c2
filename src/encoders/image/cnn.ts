// CNN baseline (Diffusion Policy's observer, scaled down for CPUs): ResNet-style stages with GroupNorm instead of
// BatchNorm, then spatial-softmax keypoints and a Linear head.
import { parseWith } from "../../core/index.ts";
import { GraphBuilder, GroupNorm, Linear, type Module, type Tensor } from "../../nn/index.ts";
import { cnnConfigSchema, type CnnConfig, type CnnConfigInput } from "./cnn-config.ts";
import { Conv2d, PatchifyConv } from "./conv2d.ts";
import { encodeEachFrame, expectImages, type ImageEncoder } from "./encoder.ts";
import { SpatialSoftmax } from "./spatial-softmax.ts";
import { IMAGE_CHANNELS } from "./vit.ts";

/** Basic residual block: relu(x + GN(conv(relu(GN(conv(x)))))) with two 3×3 convs. */
export class ResidualBlock2d implements Module {
  readonly conv1: Conv2d;
  readonly norm1: GroupNorm;
  readonly conv2: Conv2d;
  readonly norm2: GroupNorm;

  constructor(
    readonly name: string,
    readonly channels: number,
    readonly groups: number,
  ) {
    this.conv1 = new Conv2d("conv1", channels, channels, 3, { bias: false });
    this.norm1 = new GroupNorm("norm1", groups, channels);
    this.conv2 = new Conv2d("conv2", channels, channels, 3, { bias: false });
    this.norm2 = new GroupNorm("norm2", groups, channels);
  }

  /** x: N,H,W,C → N,H,W,C */
  apply(g: GraphBuilder, x: Tensor): Tensor {
    return g.scope(this.name, () => {
      const h = g.relu(this.norm1.apply(g, this.conv1.apply(g, x)));
      return g.relu(g.add(x, this.norm2.apply(g, this.conv2.apply(g, h))));
    });
  }
}

/**
 * `images: N,H,W,3` → `N,F`. Parameter names: `stage{i}.conv.*` (3×3 stride 2; stage 0 with `stemPatch`:
 * `stage0.patch.proj.*`), `stage{i}.norm.*`, `stage{i}.res.*`, `keypoints.proj.*`, `head.*`.
 */
export class CnnEncoder implements ImageEncoder {
  readonly config: CnnConfig;
  readonly featureDim: number;
  readonly height: number;
  readonly width: number;
  readonly frames = 1;
  private readonly stages: { conv: Module; norm: GroupNorm; res: ResidualBlock2d }[];
  private readonly keypoints: SpatialSoftmax;
  private readonly head: Linear;

  constructor(config: CnnConfigInput = {}, source = "CNN config") {
    const c = parseWith(cnnConfigSchema, config, source);
    this.config = c;
    this.featureDim = c.featureDim;
    this.height = c.height;
    this.width = c.width;
    let cin = IMAGE_CHANNELS;
    this.stages = c.channels.map((ch, i) => {
      const stage = {
        conv:
          i === 0 && c.stemPatch !== undefined
            ? new PatchifyConv("patch", c.stemPatch, cin, ch)
            : new Conv2d("conv", cin, ch, 3, { stride: 2, bias: false }),
        norm: new GroupNorm("norm", c.groups, ch),
        res: new ResidualBlock2d("res", ch, c.groups),
      };
      cin = ch;
      return stage;
    });
    this.keypoints = new SpatialSoftmax("keypoints", cin, c.keypoints);
    this.head = new Linear("head", 2 * c.keypoints, c.featureDim);
  }

  apply(g: GraphBuilder, images: Tensor): Tensor {
    expectImages("CNN", images, [this.height, this.width, IMAGE_CHANNELS]);
    let x = images;
    this.stages.forEach((s, i) => {
      x = g.scope(`stage${i}`, () => s.res.apply(g, g.relu(s.norm.apply(g, s.conv.apply(g, x)))));
    });
    return this.head.apply(g, this.keypoints.apply(g, x));
  }

  applySteps(g: GraphBuilder, images: Tensor): Tensor {
    return encodeEachFrame(g, this, images);
  }
}
