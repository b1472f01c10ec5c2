// duet record (expert source) as a process: --workers 2 killed with SIGKILL leaves a valid dataset holding every
// episode committed before the kill, and --resume continues the seed sequence; bad argument combinations are refused
// with one message naming every problem.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateDataset } from "../../../src/data/index.ts";
import { numberArg, rangeArg } from "../../../src/cli/args.ts";
import { record, recordRos, type RecordArgs } from "../../../src/cli/record.ts";
import { recordEpisodes } from "../../../src/runner/record/index.ts";
import { tempDir, watchRecorder } from "../../data/fixtures.ts";
import { tinyScenario } from "./record-fixtures.ts";

const base: RecordArgs = {
  source: "expert",
  episodes: 1,
  out: "",
  resume: false,
  task: "t",
  json: false,
  seed: 0,
  workers: 1,
  audio: false,
  mode: "random",
  leadSteps: [5, 30],
  url: "ws://localhost:9090",
  actions: "measured",
  topics: "/duet/record",
};

describe("duet record", () => {
  it("--workers 2 killed with SIGKILL keeps every committed episode; --resume continues the seeds", async () => {
    const scenario = tinyScenario(1.2);
    const out = join(tempDir("duet-kill-w2-"), "ds");
    const args = ["--import", "tsx", "src/cli/main.ts", "record", "--scenario", scenario, "--workers", "2"];
    const { child, exited, committed, waitForCommitted } = watchRecorder(
      [...args, "--episodes", "200", "--seed", "3", "--out", out],
      out,
    );
    await waitForCommitted(2);
    const before = committed();
    child.kill("SIGKILL");
    await exited;
    const report = await validateDataset(out);
    expect(report.problems).toEqual([]);
    expect(report.episodes).toBeGreaterThanOrEqual(before);
    const more = await recordEpisodes({ job: { scenario }, out, episodes: 1, seed: 3, resume: true });
    expect(more.recorded.map((e) => [e.episodeIndex, e.seed])).toEqual([[report.episodes, 3 + report.episodes]]);
    expect((await validateDataset(out)).ok).toBe(true);
  });

  it("refuses bad argument combinations before touching --out, naming every problem", async () => {
    const out = join(tempDir("duet-rec-args-"), "ds");
    await expect(record({ ...base, out, robotInterface: "x.json" })).rejects.toThrow(
      /--scenario <file> is required with --source expert\n {2}--robot-interface is for --source ros/,
    );
    await expect(
      recordRos({
        ...base,
        source: "ros",
        out,
        scenario: "s.json",
        workers: 2,
        url: "http://x",
        topics: "bad",
        expertNoise: 0.01,
        actuationNoise: 0.002,
        audio: true,
      }),
    ).rejects.toThrow(
      /--expert-noise is for --source expert\n {2}--actuation-noise is for --source expert\n {2}--audio is for --source expert.*\n {2}--robot-interface <file> is required with --source ros\n {2}--scenario is for --source expert.*\n {2}--workers 2: a robot is recorded in one thread; use 1\n {2}--url: expected ws:\/\/HOST:PORT.*received "http:\/\/x"\n {2}--topics: expected a ROS name prefix/,
    );
    for (const bad of ["-0.01", "0.5", "abc", ""]) {
      expect(() => numberArg(0, 0.05)(bad)).toThrow(`expected a number in [0, 0.05], received "${bad}"`);
    }
    for (const bad of ["5-30", "30:5", "-1:3", "a:b", ""]) {
      expect(() => rangeArg(bad), bad).toThrow(/expected MIN:MAX whole numbers with MIN ≤ MAX/);
    }
    expect(rangeArg("5:30")).toEqual([5, 30]);
    await expect(record({ ...base, out, scenario: "no/such/scenario.json" })).rejects.toThrow(
      /no\/such\/scenario\.json/,
    );
    expect(() => readFileSync(join(out, "meta/info.json"))).toThrow(/ENOENT/);
  });
});
