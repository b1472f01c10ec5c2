// FeatureCache: hits return exactly what was stored, misses are counted, a reused buffer with new content is a miss,
// the least recently used slot is replaced, clear() forgets; and a policy-like loop encodes each frame once.
import { describe, expect, it } from "vitest";
import type { CameraFrame } from "../../src/core/index.ts";
import { FeatureCache } from "../../src/vision/index.ts";

const frame = (v: number): CameraFrame => ({ height: 4, width: 4, data: new Uint8Array(48).fill(v) });

describe("FeatureCache", () => {
  it("stores and returns feature vectors by (camera, time); counts hits and misses", () => {
    const cache = new FeatureCache(3, 2);
    const out = new Float32Array(5);
    expect(cache.read("top", 0, frame(1), out, 1)).toBe(false);
    cache.write("top", 0, frame(1), Float32Array.of(9, 1, 2, 3), 1);
    expect(cache.read("top", 0, frame(1), out, 1)).toBe(true);
    expect(Array.from(out)).toEqual([0, 1, 2, 3, 0]);
    expect(cache.read("wrist", 0, frame(1), out)).toBe(false); // other camera
    expect(cache.read("top", 0.1, frame(1), out)).toBe(false); // other time
    expect(cache.read("top", 0, frame(2), out)).toBe(false); // same key, new content (a reused buffer)
    expect([cache.hits, cache.misses]).toEqual([1, 4]);
  });

  it("replaces the least recently used entry and forgets everything on clear()", () => {
    const cache = new FeatureCache(1, 2);
    const out = new Float32Array(1);
    cache.write("c", 0, frame(0), Float32Array.of(10));
    cache.write("c", 1, frame(1), Float32Array.of(11));
    expect(cache.read("c", 0, frame(0), out)).toBe(true); // t=0 used more recently than t=1
    cache.write("c", 2, frame(2), Float32Array.of(12)); // evicts t=1
    expect(cache.read("c", 1, frame(1), out)).toBe(false);
    expect(cache.read("c", 0, frame(0), out) && out[0]).toBe(10);
    expect(cache.read("c", 2, frame(2), out) && out[0]).toBe(12);
    cache.write("c", 2, frame(2), Float32Array.of(13)); // same key overwrites in place
    expect(cache.read("c", 2, frame(2), out) && out[0]).toBe(13);
    cache.clear();
    expect(cache.read("c", 0, frame(0), out)).toBe(false);
  });

  it("a replan-every-step loop with To = 2 encodes each frame once", () => {
    const cache = new FeatureCache(2, 4);
    let encoded = 0;
    const out = new Float32Array(2);
    const frames = Array.from({ length: 10 }, (_, t) => frame(t));
    for (let t = 1; t < 10; t++) {
      for (const s of [t - 1, t]) {
        // 100 denoising steps would reuse `out`; encoding happens only here
        if (!cache.read("top", s * 0.1, frames[s] as CameraFrame, out)) {
          encoded++;
          out.set([s + 1, -(s + 1)]); // "encode"
          cache.write("top", s * 0.1, frames[s] as CameraFrame, out);
        }
        expect(Array.from(out)).toEqual([s + 1, -(s + 1)]);
      }
    }
    expect(encoded).toBe(10);
    expect(cache.hits).toBe(8);
  });

  it("rejects bad sizes with the field named", () => {
    expect(() => new FeatureCache(0)).toThrow("featureDim must be a positive integer, received 0");
    expect(() => new FeatureCache(4, 1.5)).toThrow("capacity must be a positive integer, received 1.5");
    expect(() => new FeatureCache(4).write("c", 0, frame(0), new Float32Array(3))).toThrow("need 4 floats at offset 0");
  });
});
