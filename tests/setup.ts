// Per-suite setup: a test that writes to the console fails (docs/design.md, "House style", "Tests").
import { afterEach, beforeEach, expect } from "vitest";

const methods = ["log", "info", "warn", "error", "debug"] as const;
let written: string[] = [];
const originals = new Map<string, (...args: unknown[]) => void>();

beforeEach(() => {
  written = [];
  for (const m of methods) {
    originals.set(m, console[m]);
    console[m] = (...args: unknown[]) => {
      written.push(`console.${m}: ${args.map(String).join(" ")}`);
    };
  }
});

afterEach(() => {
  for (const m of methods) console[m] = originals.get(m) as (typeof console)[typeof m];
  expect(written, "tests must not write to the console").toEqual([]);
});
