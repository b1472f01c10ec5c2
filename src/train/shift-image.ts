// One camera frame from the dataset's uint8 H,W,3 layout into the network's float input, optionally shifted
// (the image-shift augmentation); used by the batch assembler and by the frozen observer's feature cache.

/** dst[y,x] = src[clamp(y+dy), clamp(x+dx)]/127.5 − 1 (the encoders' default [−1, 1] preprocessing), one H,W,3 image. */
export function shiftImage(
  src: Uint8Array,
  so: number,
  dst: Float32Array,
  d0: number,
  h: number,
  w: number,
  dy: number,
  dx: number,
): void {
  for (let y = 0; y < h; y++) {
    const sy = Math.min(h - 1, Math.max(0, y + dy));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(w - 1, Math.max(0, x + dx));
      const s = so + (sy * w + sx) * 3;
      const d = d0 + (y * w + x) * 3;
      dst[d] = (src[s] as number) / 127.5 - 1;
      dst[d + 1] = (src[s + 1] as number) / 127.5 - 1;
      dst[d + 2] = (src[s + 2] as number) / 127.5 - 1;
    }
  }
}
