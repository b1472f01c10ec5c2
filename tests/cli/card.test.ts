// duet card: the card lays out what training and `duet eval --json` left in a model directory, test results first and
// validation results labelled; `--table` is the README's results table.
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cardText, resultsTable, trainingTime } from "../../src/cli/card.ts";
import { robustnessSection } from "../../src/cli/robustness-table.ts";
import { readPolicyModel } from "../../src/policy/index.ts";
import { train, trainConfigSchema } from "../../src/train/index.ts";
import { tempDir, tinyConfig, writeTinyDataset } from "../policy/fixtures.ts";
import { firstOf, robustnessRun } from "./robustness-fixture.ts";

const RECORD = "duet record --scenario scenarios/bottle-cap.json --source expert --episodes 2 --seed 7 --out D";
let model = "";

/** The shape `duet eval --json` prints (its last line), for `n` episodes from `seed`, the first `ok` successful. */
function summary(seed: number, n: number, ok: number) {
  const per_episode = Array.from({ length: n }, (_, i) => ({
    seed: seed + i,
    success: i < ok,
    steps: i < ok ? 150 + i : 450,
    holder: i % 2 === 0 ? "left" : i < ok ? "right" : "none",
    turns: 1.5,
    task: "unscrew",
    named_hand: "any",
    wall_s: 1,
  }));
  const modes = { left: 0, right: 0, none: 0 };
  for (const o of per_episode) modes[o.holder as keyof typeof modes]++;
  const rates = { episodes: n, successes: ok, success_rate: ok / n, wilson95: [0.25, 0.75], modes };
  return {
    scenario: "scenarios/bottle-cap.json",
    instruction: null,
    ...rates,
    per_task: { unscrew: { ...rates, named_hand: { episodes: 0, used: 0 } } },
    per_episode,
  };
}

beforeAll(async () => {
  const dataset = await writeTinyDataset();
  model = tempDir("duet-card-");
  const config = trainConfigSchema.parse(
    tinyConfig({ policy: { observeState: false, actions: "relative" }, train: { steps: 10, valEvery: 0 } }),
  );
  // what `duet train` stores (src/cli/train.ts)
  await train({ dataset, config, out: model, provenance: { command: "duet train --dataset T --config C --out M" } });
  writeFileSync(join(model, "eval-validation.json"), `progress line\n${JSON.stringify(summary(1000000, 4, 3))}\n`);
  writeFileSync(join(model, "eval-test.json"), JSON.stringify(summary(2000000, 10, 6)) + "\n");
}, 120_000);

const duet = (...args: string[]) => spawnSync(process.execPath, ["bin/duet.js", ...args], { encoding: "utf8" });

describe("duet card", () => {
  it("puts the test evaluation first, labels the validation one, and gives each one's command and modes", () => {
    const text = cardText(model, RECORD, { [model.split("/").at(-1)!]: { latency_ms_median: 3.5, latency_ms_p95: 4 } });
    const rows = text.split("\n").filter((l) => l.startsWith("| **test**") || l.startsWith("| validation"));
    expect(rows).toEqual([
      "| **test** | 2000000–2000009 | **6/10 (60.0%)** | 25.0%–75.0% | 5 / 3 / 2 |",
      "| validation (used for choices) | 1000000–1000003 | 3/4 (75.0%) | 25.0%–75.0% | 2 / 1 / 1 |",
    ]);
    expect(text.indexOf("## Test evaluation")).toBeLessThan(text.indexOf("## Validation evaluation"));
    expect(text).toContain(`--episodes 10 --seed 2000000 --workers 2 --json > ${model}/eval-test.json`);
    expect(text).toContain("**3.5 ms** median");
    expect(text).toContain("node bin/duet.js record --scenario scenarios/bottle-cap.json --source expert --episodes 2");
    expect(text).toContain("node bin/duet.js train --dataset T --config C --out M");
    expect(text).toMatch(/\| left holds \| 5 \(50.0%\) \| 3 \|/);
    expect(text).toMatch(/\| no arm held it \| 2 \(20.0%\) \| 0 \|/);
    expect(text).toContain("a median of 153 control steps");
  });

  it("the results table has one row per model: its test successes, latency and training time", () => {
    const name = model.split("/").at(-1)!;
    const table = resultsTable([model], model, { [name]: { latency_ms_median: 3.5, latency_ms_p95: 4 } });
    const prov = (JSON.parse(readFileSync(join(model, "model.json"), "utf8")) as { provenance: { wall_s: number } })
      .provenance;
    expect(table.split("\n")[2]).toBe(
      `| [${name}](${model}/README.md) (default) | bottle-cap | 6/10 | 25.0%–75.0% | 5 / 3 / 2 | 3.5 ms | ${prov.wall_s} s |`,
    );
  });

  it("gives an evaluation's --task and --hand when its summary says what the instruction was scored as", () => {
    const dir = tempDir("duet-card-scored-");
    cpSync(model, dir, { recursive: true });
    const text = "left hand holds the bottle, right hand takes the cap off";
    const scored = { ...summary(1000000, 4, 3), instruction: text, scored_as: { task: "unscrew", hand: "left" } };
    writeFileSync(join(dir, "eval-validation-scored.json"), JSON.stringify(scored) + "\n");
    expect(cardText(dir, RECORD, null)).toContain(
      `--instruction "${text}" --task unscrew --hand left --json > ${dir}/eval-validation-scored.json`,
    );
  });

  it("training time adds the frozen observer and the warm start, and says when earlier runs are not counted", () => {
    const base = { wall_s: 100, command: "duet train" } as Parameters<typeof trainingTime>[0];
    expect(trainingTime(base)).toBe("100 s");
    expect(trainingTime({ ...base, observer_from: { model: "O", steps: 1, wall_s: 50 } })).toBe(
      "100 s + 50 s observer",
    );
    expect(
      trainingTime({
        ...base,
        init_from: { model: "W", steps: 1, wall_s: 70 },
        earlier_commands: ["duet train --init-from X"],
      }),
    ).toBe("100 s + 70 s warm start + earlier runs");
  });

  it("says a distilled model's teacher and recipe, and counts the teacher's training time instead of its observer's", () => {
    const dir = tempDir("duet-card-distilled-");
    cpSync(model, dir, { recursive: true });
    const file = join(dir, "model.json");
    const m = JSON.parse(readFileSync(file, "utf8")) as { provenance: Record<string, unknown> };
    const teacher = { model: "models/T", steps: 12000, wall_s: 5765, ddim_steps: 10 };
    m.provenance.observer_from = { model: "models/T", steps: 12000, wall_s: 5765 };
    m.provenance.distilled_from = { ...teacher, noises_per_window: 4, targets_s: 300, init_from_teacher: true };
    writeFileSync(file, JSON.stringify(m));
    const text = cardText(dir, RECORD, null);
    expect(text).toContain(
      "Distilled from `models/T` (12000 steps, 5765 s; it samples in 10 DDIM steps): this model's 4-step DDIM sampler " +
        "was trained to give the teacher's sample from the same starting noise and observation (4 noises per training " +
        "window, starting from the teacher's weights; computing the teacher's samples took 300 s of the wall time)",
    );
    expect(text).not.toContain("The camera encoders are those of");
    const prov = m.provenance as unknown as Parameters<typeof trainingTime>[0];
    expect(trainingTime(prov)).toBe(`${prov.wall_s} s + 5765 s teacher`);
  });

  it("shows a saved robustness run in a section of its own at the end, and says nothing of robustness without one", () => {
    const dir = join(tempDir("duet-card-robust-"), basename(model));
    cpSync(model, dir, { recursive: true });
    const without = cardText(dir, RECORD, null);
    expect(without).not.toMatch(/robustness/i);
    const run = robustnessRun(dir, 2_000_000, readPolicyModel(dir).config.inference, [
      ["none", firstOf(9, 10)],
      ["friction-grasp", firstOf(6, 10)],
    ]);
    writeFileSync(join(dir, "robustness-test.json"), JSON.stringify(run) + "\n");
    const section = robustnessSection([{ file: "robustness-test.json", split: "test", run }]);
    expect(cardText(dir, RECORD, null)).toBe(
      without.replace("the eval-*.json files and", "the eval-*.json files, robustness-test.json and") + section,
    );
    expect(section).toContain("the largest drop: friction-grasp, −30.0 points");
  });

  it("refuses a robustness file of another model directory, naming the file and the field", () => {
    const dir = join(tempDir("duet-card-robust-"), basename(model));
    cpSync(model, dir, { recursive: true });
    const inference = readPolicyModel(dir).config.inference;
    const run = robustnessRun("models/other", 2_000_000, inference, [
      ["none", firstOf(1, 2)],
      ["friction-grasp", firstOf(1, 2)],
    ]);
    writeFileSync(join(dir, "robustness-test.json"), JSON.stringify(run) + "\n");
    writeFileSync(join(dir, "README.md"), "");
    const r = duet("card", dir, "--record", RECORD);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(dir, "robustness-test.json")}: 1 invalid field`);
    expect(r.stderr).toContain(
      `policy: expected the model directory ${basename(dir)} (the file's own), received "models/other"`,
    );
    expect(readFileSync(join(dir, "README.md"), "utf8")).toBe("");
  });

  it("rewrites a card in place from the record command it names; refuses without one or without evaluations", () => {
    writeFileSync(join(model, "README.md"), cardText(model, RECORD, null));
    expect(duet("card", model).status).toBe(0);
    expect(readFileSync(join(model, "README.md"), "utf8")).toContain("--episodes 2 --seed 7 --out D");
    const empty = tempDir("duet-card-");
    const noModel = duet("card", empty);
    expect(noModel.status).toBe(1);
    expect(noModel.stderr).toMatch(/model\.json|record command/);
  });
});
