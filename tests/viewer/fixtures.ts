// Fixtures for viewer tests: a short sim replay written through the runner's ReplayRecorder (real env, real file).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACTION_DIM, ARM_DOF, armOffset } from "../../src/core/index.ts";
import { createEnv, loadScenario, type Scenario } from "../../src/sim/index.ts";
import { ReplayRecorder } from "../../src/runner/replay/index.ts";

export const SCENARIO_FILE = "scenarios/bottle-cap-easy.json";

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `duet-viewer-${prefix}-`));
}

/** The 16 joint targets at step t: both arms sweep joint 1 and bend joint 4 away from home. */
export function fixtureAction(scenario: Scenario, t: number): Float32Array {
  const a = new Float32Array(ACTION_DIM);
  for (const arm of ["left", "right"] as const) {
    const home = scenario.robotDescription.arms[arm].home;
    const o = armOffset(arm);
    for (let j = 0; j < ARM_DOF; j++) a[o + j] = home[j]!;
    a[o] = (arm === "left" ? -1 : 1) * 0.05 * t; // toward the middle: both stay in view
    a[o + 3] = home[3]! + 0.06 * t;
    a[o + ARM_DOF] = 0.04;
  }
  return a;
}

/**
 * Write `episode_<seed>.json` with `steps` steps into a new temp folder (or `dir`); with `chunks`, add a planned chunk
 * of 2 candidates (horizon 4) at step 2. Returns the file.
 */
export function writeFixtureReplay(options: { steps: number; seed?: number; dir?: string; chunks?: boolean }): string {
  const scenario = loadScenario(SCENARIO_FILE);
  const env = createEnv(scenario, { cameras: false });
  const seed = options.seed ?? 3;
  const dir = options.dir ?? tempDir("replay");
  const rec = new ReplayRecorder(dir, env);
  let obs = env.reset(seed);
  rec.begin();
  for (let t = 0; t < options.steps; t++) {
    const action = fixtureAction(scenario, t + 1);
    const result = env.step(action);
    rec.step(obs, action);
    obs = result.observation;
  }
  const file = rec.finish({
    seed,
    success: false,
    holder: "none",
    turns: 0,
    task: "unscrew",
    named_hand: "any",
    steps: options.steps,
    wall_s: 0,
  });
  if (options.chunks) {
    const replay = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    const candidate = (k: number) =>
      Array.from({ length: 4 }, (_, t) => Array.from(fixtureAction(scenario, 3 + t + k * 2))).flat();
    replay.chunks = [{ step: 2, horizon: 4, candidates: [candidate(0), candidate(1)], executed: 0 }];
    writeFileSync(file, JSON.stringify(replay));
  }
  return file;
}
