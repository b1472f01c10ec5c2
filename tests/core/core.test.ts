import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  Rng,
  ValidationError,
  parseWith,
  wilson95,
  writeAtomic,
  SLOT_NAMES,
  ACTION_DIM,
} from "../../src/core/index.ts";

describe("Rng", () => {
  it("is deterministic per seed and resumable from its state", () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const xs = Array.from({ length: 5 }, () => a.normal());
    expect(Array.from({ length: 5 }, () => b.normal())).toEqual(xs);
    const state = a.getState();
    const next = [a.next(), a.normal()];
    const c = new Rng(0);
    c.setState(state);
    expect([c.next(), c.normal()]).toEqual(next);
    expect(new Rng(8).next()).not.toEqual(new Rng(7).next());
  });

  it("draws normals with mean ≈ 0 and std ≈ 1", () => {
    const r = new Rng(1);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(s2 / n) - 1)).toBeLessThan(0.03);
  });
});

describe("parseWith", () => {
  it("lists every bad field with path, expected and received", () => {
    const schema = z.strictObject({ rate: z.number().positive(), name: z.string(), xs: z.array(z.number()) });
    let err: unknown;
    try {
      parseWith(schema, { rate: 0, xs: [1, "a"] }, "scenario.json");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    const v = err as ValidationError;
    expect(v.issues.map((i) => i.path).sort()).toEqual(["name", "rate", "xs.1"]);
    expect(v.message).toContain("scenario.json");
    expect(v.message).toContain('xs.1: expected number, received "a"');
    expect(v.message).toContain("rate: expected > 0, received 0");
    expect(v.message).toContain("name: expected string, received nothing (missing)");
  });
});

describe("wilson95", () => {
  it("matches the textbook interval", () => {
    const [lo, hi] = wilson95(8, 10);
    expect(lo).toBeCloseTo(0.4902, 3);
    expect(hi).toBeCloseTo(0.9433, 3);
    expect(wilson95(0, 0)).toEqual([0, 1]);
    expect(wilson95(0, 100)[0]).toBe(0);
    expect(wilson95(100, 100)[1]).toBe(1);
  });
});

describe("keys", () => {
  it("names 16 slots, left arm first", () => {
    expect(ACTION_DIM).toBe(16);
    expect(SLOT_NAMES[0]).toBe("left_joint1");
    expect(SLOT_NAMES[7]).toBe("left_gripper");
    expect(SLOT_NAMES[15]).toBe("right_gripper");
  });
});

describe("writeAtomic", () => {
  it("writes a string, bytes or parts in order, replaces the file whole and leaves no temp file", () => {
    const dir = mkdtempSync(join(tmpdir(), "duet-atomic-"));
    const file = join(dir, "a.bin");
    writeAtomic(file, "old");
    expect(readFileSync(file, "utf8")).toBe("old");
    writeAtomic(file, Uint8Array.from([1, 2, 3]));
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    writeAtomic(file, [Uint8Array.from([4]), new Uint8Array(0), Buffer.from("ab"), Uint8Array.from([5, 6])]);
    expect([...readFileSync(file)]).toEqual([4, 97, 98, 5, 6]);
    expect(readdirSync(dir)).toEqual(["a.bin"]);
  });
});
