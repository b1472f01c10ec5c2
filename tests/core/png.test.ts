import { PNG } from "pngjs";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DuetError } from "../../src/core/index.ts";
import { decodePng, encodePng, pngHeader } from "../../src/core/png.ts";

function gradient(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 5)) & 255;
  return data;
}

describe("PNG frames", () => {
  it("round-trips an RGB frame through a file, byte for byte, as an 8-bit RGB PNG", () => {
    const frame = { width: 7, height: 5, data: gradient(7, 5) };
    const file = join(mkdtempSync(join(tmpdir(), "duet-png-")), "frame.png");
    writeFileSync(file, encodePng(frame));
    const bytes = readFileSync(file);
    expect([...bytes.subarray(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
    expect(bytes[25]).toBe(2); // IHDR colour type 2 = RGB, no alpha
    expect(decodePng(bytes)).toEqual(frame);
    expect(pngHeader(bytes)).toEqual({ width: 7, height: 5, colorType: 2 });
    expect(pngHeader(bytes.subarray(0, 32))).toBeNull(); // too short for a header
    expect(pngHeader(Uint8Array.from(bytes, (b, i) => (i === 0 ? 0 : b)))).toBeNull(); // not the PNG signature
  });

  it("encodes a subarray view without reading outside it", () => {
    const backing = new Uint8Array(4 * 4 * 3 + 10).fill(9);
    const view = backing.subarray(5, 5 + 48);
    view.set(gradient(4, 4));
    expect(decodePng(encodePng({ width: 4, height: 4, data: view })).data).toEqual(gradient(4, 4));
  });

  it("decodes opaque RGBA PNGs to RGB and rejects transparent ones, naming the source and pixel", () => {
    const png = new PNG({ width: 2, height: 1 });
    png.data = Buffer.from([10, 20, 30, 255, 40, 50, 60, 255]);
    const opaque = PNG.sync.write(png);
    expect(decodePng(opaque)).toEqual({ width: 2, height: 1, data: new Uint8Array([10, 20, 30, 40, 50, 60]) });
    png.data[7] = 128;
    expect(() => decodePng(PNG.sync.write(png), "cam.png")).toThrow(
      /cam.png: expected an opaque RGB image, found alpha 128 at pixel \(x 1, y 0\)/,
    );
  });

  it("rejects data of the wrong length, bad sizes and bytes that are not a PNG", () => {
    expect(() => encodePng({ width: 4, height: 4, data: new Uint8Array(47) })).toThrow(
      /H·W·3 = 48 bytes for 4×4 RGB, received 47/,
    );
    expect(() => encodePng({ width: 0, height: 4, data: new Uint8Array(0) })).toThrow(DuetError);
    expect(() => decodePng(new Uint8Array([1, 2, 3]), "episode_3/top.png")).toThrow(
      /^episode_3\/top.png: not a valid PNG image/,
    );
  });
});
