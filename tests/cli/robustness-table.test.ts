// The markdown of a robustness run: the table the benchmark prints and the card shows, the one-line reading, and the
// card's section, from hand-made runs.
import { describe, expect, it } from "vitest";
import { robustnessReading, robustnessSection, robustnessTable } from "../../src/cli/robustness-table.ts";
import { firstOf, robustnessRun } from "./robustness-fixture.ts";

const INFERENCE = { actionSteps: 1, ensemble: 0.75, inferenceSteps: 10, noiseScale: 0.5 };
const rows = (...rates: [string, number][]) =>
  robustnessRun(
    "models/m",
    2_000_000,
    INFERENCE,
    rates.map(([p, k]) => [p, firstOf(k, 20)]),
  ).runs;

describe("robustness table", () => {
  it("one row per run: successes, Wilson interval, seeds lost / gained against the unperturbed row", () => {
    const run = robustnessRun("models/m", 2_000_000, INFERENCE, [
      ["none", [true, true, false, true]],
      ["friction-grasp", [false, true, true, false]],
    ]);
    expect(robustnessTable(run.runs).split("\n")).toEqual([
      "| perturbation | what | successes | Wilson 95% | lost / gained |",
      "| --- | --- | --- | --- | --- |",
      "| none | the scenario as it is | 3/4 (75.0%) | 30.1%–95.4% | — |",
      "| friction-grasp | what friction-grasp stands for | 2/4 (50.0%) | 15.0%–85.0% | 2 / 1 |",
    ]);
  });

  it("the reading counts the perturbations within 5 points and names the largest drop", () => {
    expect(robustnessReading(rows(["none", 18], ["a", 17], ["b", 12], ["c", 20]))).toBe(
      "At most 5 points below the unperturbed success (90.0%) under 2 of 3 perturbations; the largest drop: b, " +
        "−30.0 points.",
    );
    expect(robustnessReading(rows(["none", 18], ["a", 18], ["b", 19]))).toBe(
      "At most 5 points below the unperturbed success (90.0%) under 2 of 2 perturbations; no perturbation lowered " +
        "the success rate.",
    );
  });

  it("a drop of exactly 5 points is within them (counted exactly, not in floating point)", () => {
    const run = robustnessRun("models/m", 2_000_000, INFERENCE, [
      ["none", firstOf(183, 200)],
      ["a", firstOf(173, 200)],
    ]);
    expect(robustnessReading(run.runs)).toContain("under 1 of 1 perturbations; the largest drop: a, −5.0 points.");
  });

  it("the card's section: nothing without saved runs; else the command, seeds, settings, reading and table", () => {
    expect(robustnessSection([])).toBe("");
    const test = robustnessRun("models/m", 2_000_000, INFERENCE, [
      ["none", firstOf(18, 20)],
      ["a", firstOf(12, 20)],
    ]);
    const validation = robustnessRun("models/m", 1_000_000, INFERENCE, [
      ["none", firstOf(3, 4)],
      ["a", firstOf(3, 4)],
    ]);
    const section = robustnessSection([
      { file: "robustness-test.json", split: "test", run: test },
      { file: "robustness-validation.json", split: "validation", run: validation },
    ]);
    const lines = section.split("\n");
    expect(lines[1]).toBe("## Robustness");
    expect(lines.filter((l) => l.startsWith("### "))).toEqual([
      "### Test seeds 2000000–2000019",
      "### Validation seeds 1000000–1000003 (used for choices)",
    ]);
    expect(lines).toContain(`    ${test.command}`);
    expect(section).toContain(
      "20 episodes a row on scenarios/bottle-cap.json, with the run settings model.json has (actionSteps 1, " +
        "ensemble 0.75, inferenceSteps 10, noiseScale 0.5); per-episode outcomes in robustness-test.json. At most 5 " +
        "points below the unperturbed success (90.0%) under 0 of 1 perturbations; the largest drop: a, −30.0 points.",
    );
    expect(section).toContain(`${robustnessTable(test.runs)}\n\n### Validation`);
    expect(section.endsWith(`${robustnessTable(validation.runs)}\n`)).toBe(true);
  });
});
