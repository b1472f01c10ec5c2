// duet record --source ros never commits an episode with a hidden gap. Frames are stored at even timestamps
// (frame_index / fps), so a step that cannot be recorded — stale inputs, or a tick that came late on an overloaded
// machine — must end the episode: the part before is committed (as not successful) if it is long enough, else
// discarded, and recording goes on in a new episode. Driven tick by tick with a scripted robot (no sockets).
import { describe, expect, it } from "vitest";
import { ACTION_DIM, type Observation } from "../../../src/core/index.ts";
import {
  loadRobotInterface,
  type Clock,
  type ObserveResult,
  type RobotBridge,
  type RobotInterface,
} from "../../../src/bridge/index.ts";
import { Dataset, DatasetWriter, EpisodeBuilder, validateDataset } from "../../../src/data/index.ts";
import { Recorder, rosDatasetSpec, RosSource } from "../../../src/runner/record/index.ts";
import { tempDir } from "../../data/fixtures.ts";

/** A robot whose joint 1 moves 0.01 rad per 100 ms period; `fresh(k)` says whether tick k has fresh inputs. */
class ScriptedRobot implements RobotBridge {
  readonly controlHz = 10;
  readonly cameras: readonly string[] = [];
  readonly epoch = 1;
  readonly connected = true;
  readonly stampedCommands = true;
  readonly newestJointStateAt = 0;
  constructor(private readonly fresh: (now: number) => boolean) {}
  observe(now: number): ObserveResult {
    if (!this.fresh(now))
      return { ok: false, reason: "joint states older than 100 ms for left_panda_joint1", epoch: 1 };
    const state = new Float32Array(ACTION_DIM);
    state[0] = 0.01 * (now / 100);
    const observation: Observation = { time: now / 1000, state, images: {} };
    return { ok: true, observation, epoch: 1, newestInputAt: now, jointAgeMs: 0, cameraAgeMs: 0 };
  }
  sendCommand(): boolean {
    return false;
  }
  on(): void {}
  start(): void {}
  close(): void {}
}

class ManualClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  wallSeconds(): number {
    return 1_700_000_000 + this.t / 1000;
  }
  setTimeout(): unknown {
    return 0; // ticks are driven by hand
  }
  clearTimeout(): void {}
}

function spec(): RobotInterface {
  const s = structuredClone(loadRobotInterface("robot-interfaces/panda-pair-ros1.json").spec);
  s.cameras = {};
  return s;
}

async function record(
  times: number[],
  fresh: (now: number) => boolean,
  minFrames: number,
): Promise<{ logs: string[]; out: string; lengths: number[]; success: boolean[]; q1: number[][] }> {
  const out = tempDir("duet-ros-gap-");
  const s = spec();
  const recorder = await Recorder.open(out, { spec: rosDatasetSpec(s) });
  const clock = new ManualClock();
  const logs: string[] = [];
  const source = new RosSource({
    bridge: new ScriptedRobot(fresh),
    link: { subscribe: () => undefined },
    clock,
    recorder,
    interface: s,
    episodes: 100,
    topics: null,
    minFrames,
    log: (l) => logs.push(l),
  });
  const done = source.run();
  expect(source.start("test")).toBe(true);
  for (const t of times) {
    clock.t = t;
    source.tick();
  }
  source.stop(true, "test");
  source.close();
  await done;
  const ds = await Dataset.open(out);
  const q1: number[][] = [];
  for (let e = 0; e < ds.episodes.length; e++) {
    const ep = await ds.episode(e);
    q1.push(Array.from({ length: ep.meta.length }, (_, t) => Math.round((ep.state[t * ACTION_DIM] as number) * 100)));
  }
  return { logs, out, lengths: ds.episodes.map((e) => e.length), success: ds.episodes.map((e) => e.success), q1 };
}

const every100 = (from: number, to: number): number[] =>
  Array.from({ length: (to - from) / 100 + 1 }, (_, i) => from + 100 * i);

describe("recording gaps (duet record --source ros)", () => {
  it("stale inputs mid-episode end it: the part before is committed as not successful, a new episode follows", async () => {
    // 7.4 s of recording with inputs stale from 3.0 to 4.4 s (the case: once 60 frames at 0–5.9 s)
    const r = await record(every100(100, 7400), (t) => t < 3000 || t > 4400, 10);
    // measured actions: frame t pairs o[t] with q[t+1], so 29 fresh ticks give 28 frames; 30 give 29
    expect(r.lengths).toEqual([28, 29]);
    expect(r.success).toEqual([false, true]);
    // no frame-to-frame jump: each episode's joint 1 moves one step per frame
    expect(r.q1[0]).toEqual(every100(100, 2800).map((t) => t / 100));
    expect(r.q1[1]).toEqual(every100(4500, 7300).map((t) => t / 100));
    expect(r.logs).toContain(
      "gap (joint states older than 100 ms for left_panda_joint1): episode 0 ends there, committed with its 28 frames " +
        "before the gap (stored as not successful: it stops mid-task); recording goes on in a new episode from the next fresh step",
    );
    const report = await validateDataset(r.out);
    expect([report.problems, report.warnings]).toEqual([[], []]);
  });

  it("a part shorter than minFrames is discarded, and a tick that came late is a gap too", async () => {
    // fresh until 0.5 s (4 frames), stale to 1 s; then a stall of 0.4 s between ticks at 2.0 and 2.4 s (a tick 0.2 s
    // after the previous one, at 3.0 → 3.2 s, is not a gap: the schedule makes up a late tick)
    const times = [...every100(100, 2000), ...every100(2400, 3000), ...every100(3200, 3500)];
    const r = await record(times, (t) => t < 600 || t > 1000, 5);
    expect(r.lengths).toEqual([9, 10]);
    expect(r.q1[0]).toEqual(every100(1100, 1900).map((t) => t / 100));
    expect(r.q1[1]).toEqual([...every100(2400, 3000), ...every100(3200, 3400)].map((t) => t / 100));
    expect(r.logs).toContain(
      "gap (joint states older than 100 ms for left_panda_joint1): the 4 frames before it are discarded (fewer than 5); " +
        "recording goes on in a new episode from the next fresh step",
    );
    expect(
      r.logs.some((l) =>
        l.startsWith(
          "gap (this tick came 400 ms after the previous one (period 100 ms): the machine is overloaded): episode 0 ends there",
        ),
      ),
    ).toBe(true);
  });

  it("dataset validate warns about frame-to-frame jumps far beyond the robot's speed (a stitched gap)", async () => {
    // what the recorder used to commit: 20 frames of 0.02 rad per frame, then 1.4 s skipped and stitched together
    const out = tempDir("duet-ros-stitched-");
    const s = spec();
    const writer = await DatasetWriter.open(out, { spec: rosDatasetSpec(s) });
    const b = new EpisodeBuilder(rosDatasetSpec(s));
    const q = (t: number): Float32Array => {
      const state = new Float32Array(ACTION_DIM);
      state[0] = t < 10 ? 0.02 * t : 0.02 * t + 0.8; // the gap: 0.82 rad between frames 9 and 10
      state[7] = t < 15 ? 0.01 : 0.04; // gripper: 0.03 m between frames 14 and 15
      return state;
    };
    for (let t = 0; t < 20; t++) b.addFrame({ time: t / 10, state: q(t), images: {} }, q(t + 1));
    writer.addEpisode(b.finish({ task: "t", success: true, mode: "", seed: -1 }));
    writer.close();
    const report = await validateDataset(out);
    expect(report.ok).toBe(true); // still readable: a warning, not a problem
    expect(report.warnings.map((w) => [w.path, w.received])).toEqual([
      [
        "episode 0 frame 10 observation.state.left_joint1",
        "0.8200: a gap in the recording, or a robot faster than this one",
      ],
      [
        "episode 0 frame 15 observation.state.left_gripper",
        "0.0300: a gap in the recording, or a robot faster than this one",
      ],
    ]);
    expect(report.warnings[0]?.expected).toBe(
      "a change of at most 0.5220 from the previous frame (2 × the robot's 2.61 rad/s at 10 fps)",
    );
  });
});
