// Tubelet (video) ViT: tokens are [To × P × P] cubes over the observation horizon ("temporally inflated" patches,
// ViViT). The cube kernel is parameterised as inflate(W) + Δ with W the image ViT's patch kernel (same name, same
// init) and Δ [To·P²·C, D] zero-initialised, so `layout.init(seed)` of a tubelet ViT equals the image ViT with the
// same options and seed on any clip of identical frames, and a trained image ViT's parameters load by name (Δ = 0).
// In a policy the clip is a camera's To observation steps (frames = policy.obsSteps).
import { parseWith } from "../../core/index.ts";
import type { GraphBuilder, Tensor } from "../../nn/index.ts";
import { expectImages, type ImageEncoder } from "./encoder.ts";
import { tubeletConfigSchema, type TubeletConfig, type TubeletConfigInput } from "./vit-config.ts";
import { IMAGE_CHANNELS, VitCore } from "./vit.ts";

/** `clips: N,To,H,W,3` → `N,F`. The stem (if any) runs on each frame; one token per cube of the patch grid. */
export class TubeletEncoder extends VitCore implements ImageEncoder {
  readonly frames: number;
  readonly inflation: TubeletConfig["inflation"];

  constructor(config: TubeletConfigInput = {}, source = "tubelet ViT config") {
    const c = parseWith(tubeletConfigSchema, config, source);
    super(c);
    this.frames = c.frames;
    this.inflation = c.inflation;
  }

  /** Index of the frame that carries the kernel under "central" inflation: ⌊To/2⌋. */
  get centralFrame(): number {
    return Math.floor(this.frames / 2);
  }

  /**
   * A camera's observation steps as one clip, `clips: B,To,H,W,3` (To = frames) → the clip's features at every step
   * `B,To,F`. Repeated rather than one vector per camera so the observation features keep the per-frame encoders'
   * layout (`B,To,Dobs`, a camera's F columns at each step): the denoisers, the scene loss (the latest step's camera
   * features) and the goal, instruction and sound features, which are joined to every step the same way, need no
   * case of their own.
   */
  applySteps(g: GraphBuilder, clips: Tensor): Tensor {
    const b = clips.shape[0] as number;
    const f = this.featureDim;
    return g.expand(g.reshape(this.apply(g, clips), [b, 1, f]), [b, this.frames, f]);
  }

  protected check(images: Tensor): void {
    expectImages("tubelet ViT", images, [this.frames, this.height, this.width, IMAGE_CHANNELS]);
  }

  protected tokenize(g: GraphBuilder, clips: Tensor): Tensor {
    const n = clips.shape[0] as number;
    const to = this.frames;
    const p = this.config.patch;
    const d = this.config.dim;
    const frames = this.stem(g, g.reshape(clips, [n * to, this.height, this.width, IMAGE_CHANNELS]));
    const [, h, w, c] = frames.shape as [number, number, number, number];
    const [gh, gw] = [h / p, w / p];
    const cubes = g.reshape(g.transpose(g.reshape(frames, [n, to, gh, p, gw, p, c]), [0, 2, 4, 1, 3, 5, 6]), [
      n,
      gh * gw,
      to * p * p * c,
    ]); // N,T,(frame, py, px, c)
    return g.scope("patch", () =>
      g.scope("proj", () => {
        const k = p * p * c;
        const bound = 1 / Math.sqrt(k);
        const w2d = g.param("weight", [k, d], { kind: "uniform", bound });
        const delta = g.param("temporal", [to * k, d], { kind: "const", value: 0 });
        const c0 = this.centralFrame;
        const inflated =
          this.inflation === "central"
            ? g.pad(w2d, [c0 * k, 0, (to - 1 - c0) * k, 0])
            : g.concat(
                Array.from({ length: to }, () => g.mul(w2d, 1 / to)),
                0,
              );
        const y = g.matmul(cubes, g.add(inflated, delta));
        return g.add(y, g.param("bias", [d], { kind: "uniform", bound }));
      }),
    );
  }
}
