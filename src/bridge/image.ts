// sensor_msgs/CompressedImage payloads (JPEG or PNG) → an RGB CameraFrame of the policy's input size.
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { DuetError, type CameraFrame } from "../core/index.ts";

export type ImageFormat = "jpeg" | "png";

/** Which codec `data` is, from its magic bytes; undefined if neither. */
export function sniffFormat(data: Uint8Array): ImageFormat | undefined {
  if (data[0] === 0x89 && data[1] === 0x50 && data[2] === 0x4e && data[3] === 0x47) return "png";
  if (data[0] === 0xff && data[1] === 0xd8) return "jpeg";
  return undefined;
}

/** Decode to RGBA (`data.length = h·w·4`). Throws DuetError naming the format on corrupt data. */
function decodeRgba(data: Uint8Array, format: ImageFormat): { width: number; height: number; rgba: Uint8Array } {
  try {
    if (format === "png") {
      const png = PNG.sync.read(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return { width: png.width, height: png.height, rgba: png.data };
    }
    const img = jpeg.decode(data, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: 40,
      maxMemoryUsageInMB: 256,
    });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (e) {
    throw new DuetError(`cannot decode ${format.toUpperCase()} image (${(e as Error).message})`);
  }
}

/**
 * Decode a compressed image and resize it (bilinear, pixel centres aligned) to `width`×`height` RGB.
 * `expected`: "auto" trusts the magic bytes; "jpeg"/"png" also requires them to match.
 */
export function decodeImage(
  data: Uint8Array,
  expected: ImageFormat | "auto",
  width: number,
  height: number,
): CameraFrame {
  const sniffed = sniffFormat(data);
  if (sniffed === undefined)
    throw new DuetError(
      `image data is neither PNG nor JPEG (first bytes ${Array.from(data.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ")})`,
    );
  if (expected !== "auto" && expected !== sniffed)
    throw new DuetError(`expected a ${expected.toUpperCase()} image, received ${sniffed.toUpperCase()}`);
  const src = decodeRgba(data, sniffed);
  return resizeRgbaToRgb(src.rgba, src.width, src.height, width, height);
}

/** Bilinear resize of RGBA `src: H,W,4` to RGB `H',W',3`. */
export function resizeRgbaToRgb(src: Uint8Array, sw: number, sh: number, dw: number, dh: number): CameraFrame {
  const out = new Uint8Array(dw * dh * 3);
  const sx = sw / dw;
  const sy = sh / dh;
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      const a = (y0 * sw + x0) * 4;
      const b = (y0 * sw + x1) * 4;
      const c = (y1 * sw + x0) * 4;
      const d = (y1 * sw + x1) * 4;
      const o = (y * dw + x) * 3;
      for (let k = 0; k < 3; k++) {
        const top = (src[a + k] as number) * (1 - wx) + (src[b + k] as number) * wx;
        const bottom = (src[c + k] as number) * (1 - wx) + (src[d + k] as number) * wx;
        out[o + k] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return { width: dw, height: dh, data: out };
}
