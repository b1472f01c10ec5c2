// The saved robustness run: `npm run bench -- robustness --save` writes what `duet card` reads (played for real, one
// episode and one perturbation), and a file that is not this model's run, lacks a field or does not add up is
// refused with the file and the field named; so is a --save the run could not be kept at.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readRobustness, type RobustnessRow } from "../../src/cli/robustness-run.ts";
import { ValidationError } from "../../src/core/index.ts";
import { readPolicyModel } from "../../src/policy/index.ts";
import { tempDir } from "../policy/fixtures.ts";
import { firstOf, robustnessRun } from "./robustness-fixture.ts";

const INFERENCE = { actionSteps: 1, ensemble: 0.75, inferenceSteps: 10, noiseScale: 0.5 };
const duet = (...args: string[]) => spawnSync(process.execPath, ["bin/duet.js", ...args], { encoding: "utf8" });

/** A model directory named `name` holding `json` as its robustness-test.json; returns the directory. */
function withRun(json: unknown, name = "m"): string {
  const dir = join(tempDir("duet-robustness-"), name);
  mkdirSync(dir);
  writeFileSync(join(dir, "robustness-test.json"), JSON.stringify(json) + "\n");
  return dir;
}

/** The issues readRobustness throws for `dir` (as "path: expected …" lines), with the file it names. */
function refusal(dir: string, inference = INFERENCE): { source: string; issues: string[] } {
  try {
    readRobustness(dir, inference);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return { source: e.source, issues: e.issues.map((i) => `${i.path}: expected ${i.expected}`) };
  }
  throw new Error("expected a ValidationError");
}

const good = (policy = "models/m") =>
  robustnessRun(policy, 2_000_000, INFERENCE, [
    ["none", firstOf(3, 4)],
    ["friction-grasp", firstOf(1, 4)],
  ]);

describe("robustness runs saved in a model directory", () => {
  it("reads none where there is none, and a good run back as it was written", () => {
    expect(readRobustness(tempDir("duet-robustness-"), INFERENCE)).toEqual([]);
    const dir = withRun(good());
    expect(readRobustness(dir, INFERENCE)).toEqual([{ file: "robustness-test.json", split: "test", run: good() }]);
  });

  it("refuses a run of another model directory, or on seeds of the other split", () => {
    const dir = withRun(good("models/other"));
    expect(refusal(dir)).toEqual({
      source: join(dir, "robustness-test.json"),
      issues: ["policy: expected the model directory m (the file's own)"],
    });
    const validation = robustnessRun("models/m", 1_000_000, INFERENCE, [
      ["none", firstOf(1, 2)],
      ["a", firstOf(1, 2)],
    ]);
    expect(refusal(withRun(validation)).issues).toEqual(["seeds: expected seeds from 2000000 (test seeds)"]);
  });

  it("names every missing field", () => {
    const { inference: _inference, ...run } = good();
    delete (run.runs[1] as Partial<RobustnessRow>).per_episode;
    expect(refusal(withRun(run)).issues).toEqual(["inference: expected object", "runs.1.per_episode: expected array"]);
  });

  it("refuses rows that do not add up, or a run made with other run settings than the model has now", () => {
    const run = good();
    run.runs[1]!.successes = 3;
    run.runs[1]!.lost = 0;
    run.runs[0]!.per_episode[3]!.seed = 7;
    const { issues } = refusal(withRun(run), { ...INFERENCE, ensemble: 0 });
    expect(issues.map((i) => i.split(":")[0])).toEqual([
      "runs.0.per_episode",
      "runs.1.successes",
      "runs.1.lost",
      "inference",
    ]);
    expect(issues[3]).toContain("model.json policy.inference: the model was re-exported after this run");
  });
});

describe("npm run bench -- robustness --save", () => {
  it("refuses a directory that does not exist, and another model's robustness-test.json, before running", () => {
    const missing = join(tempDir("duet-robustness-"), "no-such-dir", "robustness-test.json");
    const r = duet("--bench", "robustness", "--policy", "models/bottle-cap-unet", "--save", missing);
    expect([r.status, r.stdout]).toEqual([1, ""]);
    expect(r.stderr).toContain(`--save ${missing}: the directory ${join(missing, "..")} does not exist`);
    const other = join(withRun({}, "bottle-cap-unet-wide"), "robustness-test.json");
    const wrong = duet(
      "--bench",
      "robustness",
      "--policy",
      "models/bottle-cap-unet",
      "--seed",
      "1000000",
      "--save",
      other,
    );
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain(`--save ${other}: 2 invalid fields`);
    expect(wrong.stderr).toContain("policy: expected the model directory bottle-cap-unet-wide (the file's own)");
    expect(wrong.stderr).toContain("seeds: expected seeds from 2000000 (test seeds), received 1000000–1000049");
    expect(wrong.stderr).not.toContain("robustness: none"); // refused before the first episode
  });

  it("writes the run's JSON, one episode a row with its outcome, which duet card shows", () => {
    const dir = join(tempDir("duet-robustness-"), "bottle-cap-unet");
    cpSync("models/bottle-cap-unet", dir, { recursive: true });
    const save = join(dir, "robustness-test.json");
    const args = ["--policy", dir, "--episodes", "1", "--perturb", "actuation-delay", "--workers", "1", "--save", save];
    const r = duet("--bench", "robustness", ...args);
    const row = /^\| actuation-delay \|.*$/m.exec(r.stderr)?.[0];
    expect([r.status, row]).toEqual([0, expect.stringContaining("every command reaches the joints 50 ms late")]);
    const text = readFileSync(save, "utf8");
    expect(r.stdout.trim().split("\n").at(-1)).toBe(text.trim());

    const [saved] = readRobustness(dir, readPolicyModel(dir).config.inference);
    expect(saved?.run.command).toBe(`npm run bench -- robustness ${args.join(" ")}`);
    expect(saved?.run.seeds).toEqual([2_000_000, 2_000_000]);
    expect(saved?.run.runs.map((row) => [row.perturb, row.per_episode.map((o) => o.seed)])).toEqual([
      ["none", [2_000_000]],
      ["actuation-delay", [2_000_000]],
    ]);
    expect(duet("card", dir).status).toBe(0);
    const card = readFileSync(join(dir, "README.md"), "utf8");
    expect(card).toContain(`## Robustness`);
    expect(card).toContain(`\n    npm run bench -- robustness ${args.join(" ")}\n`);
    expect(card).toContain(`\n${row}\n`);
  }, 300_000);
});
