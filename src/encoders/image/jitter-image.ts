// The colour-jitter augmentation of policy training: one image's brightness and contrast changed in place, in the
// policies' [−1, 1] pixel scale (shiftImage's output).

/**
 * Change the brightness, then the contrast, of the H·W·3 image at dst[d0…] (`pixels` = H·W), in place, as
 * torchvision's ColorJitter (and ImagePreprocessor) do in [0, 1]: brightness scales every channel by `brightness`,
 * contrast scales each channel's distance from the brightened image's mean grey (0.299 r + 0.587 g + 0.114 b) by
 * `contrast`; both clamp to the pixel range. Allocates nothing.
 */
export function jitterImage(dst: Float32Array, d0: number, pixels: number, brightness: number, contrast: number): void {
  const end = d0 + pixels * 3;
  let grey = 0;
  // in [−1, 1]: u = (v + 1) / 2 scaled by b is v' = (v + 1)·b − 1
  for (let i = d0; i < end; i += 3) {
    const r = clamp((dst[i]! + 1) * brightness - 1);
    const g = clamp((dst[i + 1]! + 1) * brightness - 1);
    const b = clamp((dst[i + 2]! + 1) * brightness - 1);
    dst[i] = r;
    dst[i + 1] = g;
    dst[i + 2] = b;
    grey += 0.299 * r + 0.587 * g + 0.114 * b;
  }
  const mean = grey / pixels;
  for (let i = d0; i < end; i++) dst[i] = clamp((dst[i]! - mean) * contrast + mean);
}

const clamp = (v: number): number => (v < -1 ? -1 : v > 1 ? 1 : v);
