// scripts/reproduce.sh's record of a run (reproduce.json, issue 39 item 3): a smoke run of the pipeline (2 recorded
// demonstrations, the tiny config, 1 validation episode) writes when it ran, whether it started from nothing and each
// stage's time, and the card of the model it made has a "From nothing" section from it; running it again resumes and
// says so; a record whose times disagree, or a test evaluation that is not `duet eval --json` output, is refused
// naming the file (and the field).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPRODUCE_FILE, readReproduction, reproduceSection } from "../../src/cli/reproduce-run.ts";
import { tempDir } from "../policy/fixtures.ts";

const dir = tempDir("duet-reproduce-");
const model = join(dir, "tiny");
const smoke = () =>
  spawnSync("bash", ["scripts/reproduce.sh", "configs/tiny.json", model], {
    encoding: "utf8",
    env: { ...process.env, EPISODES: "2", VALIDATION_EPISODES: "1", DATA: join(dir, "dataset") },
  });
let first: ReturnType<typeof smoke>;

beforeAll(() => {
  first = smoke();
}, 300_000);

describe("scripts/reproduce.sh", () => {
  it("records a run from nothing: the command, the stages' times, and the card's section", () => {
    expect(first.status, first.stderr).toBe(0);
    const r = readReproduction(model);
    expect(r?.run.from_nothing).toBe(true);
    expect(r?.run.command).toBe(
      `DATA=${join(dir, "dataset")} EPISODES=2 VALIDATION_EPISODES=1 bash scripts/reproduce.sh configs/tiny.json ${model}`,
    );
    expect(r?.run.stages.observer).toBeUndefined();
    const { record, policy, evaluate } = r!.run.stages;
    expect(record + policy + evaluate).toBeLessThanOrEqual(r!.run.seconds);
    expect(r?.test).toBeUndefined();
    const card = readFileSync(join(model, "README.md"), "utf8");
    expect(card).toContain("## From nothing");
    expect(card).toContain(`from nothing (no dataset, no checkpoint) on ${r!.run.started.slice(0, 10)}`);
    expect(card).toContain("not evaluated on the test seeds (no reproduce-test.json)");
  });

  it("says a second run resumed, not from nothing", () => {
    const again = smoke();
    expect(again.status, again.stderr).toBe(0);
    expect(readReproduction(model)?.run.from_nothing).toBe(false);
    expect(reproduceSection(readReproduction(model), undefined)).toContain("not from nothing");
  }, 300_000);

  it("refuses a record whose seconds disagree with its start and finish, naming the file and the field", () => {
    const path = join(model, REPRODUCE_FILE);
    const run = JSON.parse(readFileSync(path, "utf8")) as { seconds: number };
    writeFileSync(path, JSON.stringify({ ...run, seconds: run.seconds + 60 }));
    expect(() => readReproduction(model)).toThrow(new RegExp(`${REPRODUCE_FILE}[\\s\\S]*seconds`));
  });

  it("refuses a reproduce-test.json that is not duet eval --json output, naming the file", () => {
    const path = join(model, REPRODUCE_FILE);
    const run = JSON.parse(readFileSync(path, "utf8")) as { seconds: number; started: string; finished: string };
    writeFileSync(
      path,
      JSON.stringify({ ...run, seconds: (Date.parse(run.finished) - Date.parse(run.started)) / 1000 }),
    );
    writeFileSync(join(model, "reproduce-test.json"), "episode 3/200\n");
    expect(() => readReproduction(model)).toThrow(/reproduce-test\.json: not the JSON that duet eval --json prints/);
    writeFileSync(join(model, "reproduce-test.json"), JSON.stringify({ successes: 1 }));
    expect(() => readReproduction(model)).toThrow(/reproduce-test\.json: no per_episode list/);
  });
});
