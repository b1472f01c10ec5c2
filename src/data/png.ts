// Camera frames as PNG bytes (how LeRobot/HF `image` features store them in parquet): RGB, 8 bits per channel.
import { PNG } from "pngjs";
import type { CameraFrame } from "../core/index.ts";

const RGB = { colorType: 2, inputColorType: 2, inputHasAlpha: false } as const;

/** Encode an RGB frame (`data: H,W,3` uint8) as PNG bytes. */
export function encodePng(frame: CameraFrame): Uint8Array {
  const { width, height, data } = frame;
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `encodePng: frame ${width}x${height} needs ${width * height * 3} bytes, received ${data.length}`,
    );
  }
  const png = new PNG({ width, height, ...RGB });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = PNG.sync.write(png, RGB);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Decode PNG bytes to an RGB frame (`data: H,W,3` uint8). Alpha, if any, is dropped. */
export function decodePng(bytes: Uint8Array): CameraFrame {
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const { width, height } = png;
  const rgba = png.data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    data[i] = rgba[j] as number;
    data[i + 1] = rgba[j + 1] as number;
    data[i + 2] = rgba[j + 2] as number;
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
