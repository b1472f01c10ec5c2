// Tiny deterministic datasets made in the test: 2 state/3 action dims (or the robot's 16), two small cameras.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatasetWriter, EpisodeBuilder, type DatasetSpec, type EpisodeRecord } from "../../src/data/index.ts";

export const SPEC: DatasetSpec = {
  fps: 10,
  robotType: "test_bimanual",
  stateNames: ["s0", "s1", "s2"],
  actionNames: ["a0", "a1", "a2", "a3"],
  cameras: [
    { name: "top", height: 6, width: 8 },
    { name: "wrist", height: 4, width: 5 },
  ],
};

/** SPEC plus privileged environment state (3 entries). */
export const ENV_SPEC: DatasetSpec = { ...SPEC, environmentNames: ["bottle_x", "bottle_y", "cap_angle"] };

/** SPEC plus sound: 5 samples per frame (a real recording has 1600). */
export const AUDIO_SPEC: DatasetSpec = { ...SPEC, audioSamples: 5 };

export function tempDir(prefix = "duet-data-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Pixel value of camera `c`, episode `e`, frame `t`, byte `i`: distinct across all of them. */
export function pixel(c: number, e: number, t: number, i: number): number {
  return (i * 7 + t * 13 + e * 29 + c * 53) & 255;
}

export function stateValue(e: number, t: number, j: number): number {
  return Math.fround(e * 100 + t + j * 0.25);
}

export function actionValue(e: number, t: number, j: number): number {
  return Math.fround(-(e * 100 + t) - j * 0.5);
}

export function environmentValue(e: number, t: number, j: number): number {
  return Math.fround(0.5 * e - 0.125 * t + j * 10);
}

/** Sample k of frame t of episode e: distinct, exactly representable, both signs. */
export function audioValue(e: number, t: number, k: number): number {
  return Math.fround((k % 2 === 0 ? 1 : -1) * (0.001 * (k + 1) + 0.01 * t + 0.25 * e));
}

/** Episode `e` with `T` frames, built through EpisodeBuilder as the recorder does. */
export function makeEpisode(e: number, T: number, spec: DatasetSpec = SPEC): EpisodeRecord {
  const b = new EpisodeBuilder(spec);
  for (let t = 0; t < T; t++) {
    const images = Object.fromEntries(
      spec.cameras.map((cam, c) => [
        cam.name,
        {
          width: cam.width,
          height: cam.height,
          data: new Uint8Array(cam.width * cam.height * 3).map((_, i) => pixel(c, e, t, i)),
        },
      ]),
    );
    const state = Float32Array.from(spec.stateNames, (_, j) => stateValue(e, t, j));
    const action = Float32Array.from(spec.actionNames, (_, j) => actionValue(e, t, j));
    const env = spec.environmentNames;
    const environmentState = env && Float32Array.from(env, (_, j) => environmentValue(e, t, j));
    const ns = spec.audioSamples;
    const audio = ns === undefined ? undefined : Float32Array.from({ length: ns }, (_, k) => audioValue(e, t, k));
    b.addFrame(
      {
        time: t / spec.fps,
        state,
        images,
        ...(environmentState ? { environmentState } : {}),
        ...(audio ? { audio } : {}),
      },
      action,
    );
  }
  return b.finish({
    task: e % 3 === 2 ? "other task" : "unscrew the cap",
    success: e % 2 === 0,
    mode: e % 2 === 0 ? "left" : "right",
    seed: 1000 + e,
  });
}

/** Episode lengths used by the fixtures (different, so ranges are checked). */
export const LENGTHS = [5, 7, 4, 6];

/** Write `n` fixture episodes into a new dataset; returns its root. */
export async function writeFixture(
  n: number,
  options: { root?: string; dataFileSizeMb?: number; spec?: DatasetSpec } = {},
): Promise<string> {
  const root = options.root ?? tempDir();
  const spec = options.spec ?? SPEC;
  const w = await DatasetWriter.open(root, {
    spec,
    ...(options.dataFileSizeMb !== undefined ? { dataFileSizeMb: options.dataFileSizeMb } : {}),
  });
  for (let e = 0; e < n; e++) w.addEpisode(makeEpisode(e, LENGTHS[e % LENGTHS.length] as number, spec));
  w.close();
  return root;
}

/** A recording child process, and how many episodes its dataset at `out` has committed so far (0 before the first). */
export interface WatchedRecorder {
  child: ChildProcess;
  exited: Promise<void>;
  committed(): number;
  /** Resolve once `n` episodes are committed; reject with the child's stderr if it exits first or after 60 s. */
  waitForCommitted(n: number): Promise<void>;
}

/** Start `node <args>` with stderr captured, for kill tests of recorders writing to `out`. */
export function watchRecorder(args: string[], out: string): WatchedRecorder {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const committed = (): number => {
    try {
      return (JSON.parse(readFileSync(join(out, "meta/info.json"), "utf8")) as { total_episodes: number })
        .total_episodes;
    } catch {
      return 0;
    }
  };
  const waitForCommitted = async (n: number): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (committed() < n) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`child did not record ${n} episodes: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, exited, committed, waitForCommitted };
}
