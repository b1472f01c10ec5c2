// PNG encoding of camera frames (RGB uint8), also how LeRobot/HF `image` features store them in parquet. In core
// because CameraFrame is a core type and runner, viewer, train (saving rendered frames and plots) and data (dataset
// images) all need it.
import { PNG } from "pngjs";
import { DuetError } from "./errors.ts";
import type { CameraFrame } from "./types.ts";

/** Encode an RGB frame (`data: H,W,3`) as an 8-bit RGB PNG (no alpha). Throws when the size does not match the data. */
export function encodePng(frame: CameraFrame): Buffer {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new DuetError(
      `encodePng: width and height must be positive integers, received ${String(width)}×${String(height)}`,
    );
  }
  if (data.length !== width * height * 3) {
    throw new DuetError(
      `encodePng: data must hold H·W·3 = ${height * width * 3} bytes for ${height}×${width} RGB, received ${data.length}`,
    );
  }
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/**
 * Decode a PNG into an RGB frame (`data: H,W,3`). Any PNG colour type/bit depth is accepted and converted to 8-bit RGB;
 * an alpha channel must be fully opaque (camera frames have none). `source` names the file in error messages.
 */
export function decodePng(buffer: Uint8Array, source = "PNG"): CameraFrame {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  } catch (e) {
    throw new DuetError(`${source}: not a valid PNG image (${(e as Error).message})`);
  }
  const { width, height } = png;
  const rgba = png.data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0, s = 0; i < width * height; i++, o += 3, s += 4) {
    if (rgba[s + 3] !== 255) {
      throw new DuetError(
        `${source}: expected an opaque RGB image, found alpha ${String(rgba[s + 3])} at pixel ` +
          `(x ${i % width}, y ${Math.floor(i / width)})`,
      );
    }
    data[o] = rgba[s] as number;
    data[o + 1] = rgba[s + 1] as number;
    data[o + 2] = rgba[s + 2] as number;
  }
  return { width, height, data };
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width, height and colour type from a PNG header without decoding the pixels; null when not a PNG. */
export function pngHeader(bytes: Uint8Array): { width: number; height: number; colorType: number } | null {
  if (bytes.length < 33) return null;
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(12) !== 0x49484452) return null; // "IHDR"
  return { width: view.getUint32(16), height: view.getUint32(20), colorType: bytes[25] as number };
}
