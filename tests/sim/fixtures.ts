// Shared by the simulator's perturbation and randomisation tests: the nominal scenario, the scripted expert's runs,
// frame differences and scenario variants.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Observation } from "../../src/core/index.ts";
import { createEnv, createExpert } from "../../src/sim/index.ts";

export const FILE = "scenarios/bottle-cap.json";
export const CAMERAS = ["front", "left_wrist", "right_wrist"] as const;

export const sha256 = (bytes: Uint8Array | Float32Array): string =>
  createHash("sha256")
    .update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    .digest("hex");

/**
 * The scripted expert for `steps` control steps from `seed` in `scenario` (a file) with `perturb`: the observation
 * after reset, the last one, and every measured state on the way.
 */
export function expertRun(scenario: string, seed: number, steps: number, perturb: string[] = [], cameras = true) {
  const env = createEnv(scenario, { perturb, cameras });
  const expert = createExpert(env);
  const first = env.reset(seed);
  expert.reset(seed);
  let last: Observation = first;
  const states: number[] = [];
  for (let t = 0; t < steps; t++) {
    last = env.step(Float32Array.from(expert.nextAction())).observation;
    states.push(...last.state);
  }
  return { env, first, last, states: Float32Array.from(states) };
}

/** Mean absolute difference of two frames, per byte. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** A copy of the nominal scenario file with `fields` replaced (top-level keys), written to a fresh folder. */
export function variant(fields: Record<string, unknown>): string {
  const nominal = JSON.parse(readFileSync(FILE, "utf8")) as Record<string, unknown>;
  const file = join(mkdtempSync(join(tmpdir(), "duet-variant-")), "scenario.json");
  writeFileSync(file, JSON.stringify({ ...nominal, robot: resolve("robots/panda-pair.json"), ...fields }));
  return file;
}
