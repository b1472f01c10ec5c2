// Multi-task scenarios: the episode's task and instruction come from its seed, or from the user (a phrasing of the
// scenario, or any text scored as the task and hand the user names); the scripted expert unscrews, lifts and hands
// over, with the hand an instruction names; each task is scored by its own rule; recordings store the instruction as
// the LeRobot task; a bad task list is refused naming the field.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/core/index.ts";
import { Dataset } from "../../src/data/index.ts";
import { recordEpisodes } from "../../src/runner/record/index.ts";
import {
  DEFAULT_INSTRUCTION,
  createEnv,
  createExpert,
  drawTask,
  loadScenario,
  ScoringError,
  taskFor,
  taskSuccess,
  type EpisodeTask,
  type ScoredAs,
} from "../../src/sim/index.ts";
import { tempDir } from "../data/fixtures.ts";

const MULTI = "scenarios/multi-task.json";

/** The first seed from `from` whose episode matches `want`. */
function seedFor(want: Partial<EpisodeTask>, from = 0): number {
  const scenario = loadScenario(MULTI);
  for (let seed = from; seed < from + 500; seed++) {
    const t = drawTask(scenario, seed);
    if ((want.task ?? t.task) === t.task && (want.hand === undefined || want.hand === t.hand)) return seed;
  }
  throw new Error(`no seed for ${JSON.stringify(want)}`);
}

describe("episode tasks", () => {
  it("are drawn from the seed by weight, every hand key and phrasing used; single-task scenarios keep theirs", () => {
    const scenario = loadScenario(MULTI);
    const draws = Array.from({ length: 600 }, (_, seed) => drawTask(scenario, seed));
    expect(drawTask(scenario, 17)).toEqual(draws[17]);
    const share = (task: string) => draws.filter((d) => d.task === task).length / draws.length;
    expect(share("unscrew")).toBeGreaterThan(0.42); // weight 2 of 4
    expect(share("unscrew")).toBeLessThan(0.58);
    expect(share("lift")).toBeGreaterThan(0.18);
    expect(share("handover")).toBeGreaterThan(0.18);
    for (const hand of [null, "left", "right"])
      expect(draws.some((d) => d.hand === hand && d.task === "lift")).toBe(true);
    const phrasings = scenario.tasks!.flatMap((t) => Object.values(t.instructions).flat());
    expect(new Set(draws.map((d) => d.instruction))).toEqual(new Set(phrasings));
    expect(drawTask(loadScenario("scenarios/bottle-cap.json"), 3)).toEqual({
      task: "unscrew",
      hand: null,
      instruction: DEFAULT_INSTRUCTION,
    });
  });

  const cases: Partial<EpisodeTask>[] = [
    { task: "lift", hand: "left" },
    { task: "lift", hand: "right" },
    { task: "handover", hand: "left" },
    { task: "handover", hand: "right" },
    { task: "handover", hand: null },
    { task: "unscrew", hand: "right" },
  ];
  for (const want of cases) {
    it(`the scripted expert does ${want.task} with ${want.hand ?? "either"} hand`, () => {
      const seed = seedFor(want);
      const env = createEnv(MULTI, { cameras: false });
      const expert = createExpert(env);
      env.reset(seed);
      expert.reset(seed);
      let r = env.step(Float32Array.from(expert.nextAction()));
      while (!r.done) r = env.step(Float32Array.from(expert.nextAction()));
      expect(r.success).toBe(true);
      expect(r.info["task"]).toBe(want.task);
      expect(r.info["instruction"]).toBe(env.task.instruction);
      if (want.hand) expect(r.info["holder"]).toBe(want.hand);
      const b = env.world.bottle.position.z;
      if (want.task !== "unscrew") expect(b).toBeGreaterThan(0.08);
      if (want.task === "handover") {
        const first = r.info["holder"] as "left" | "right";
        const other = first === "left" ? "right" : "left";
        expect(env.world.arms[other].gripper.holding).toBe(env.world.bottle);
        expect(env.world.arms[first].gripper.holding).toBeNull();
      }
    });
  }

  it("each task's own rule: a bottle merely standing is nothing; raised in a hand is a lift, not a handover", () => {
    const scenario = loadScenario(MULTI);
    const env = createEnv(scenario, { cameras: false });
    env.reset(0);
    const w = env.world;
    for (const task of ["unscrew", "lift", "handover"] as const)
      expect(taskSuccess(task, scenario, w, "none")).toBe(false);
    w.arms.left.gripper.holding = w.bottle;
    w.bottle.position.z = 0.1;
    expect(taskSuccess("lift", scenario, w, "left")).toBe(true);
    expect(taskSuccess("handover", scenario, w, "left")).toBe(false);
    w.arms.left.gripper.holding = null;
    w.arms.right.gripper.holding = w.bottle;
    expect(taskSuccess("handover", scenario, w, "left")).toBe(true);
    expect(taskSuccess("handover", scenario, w, "right")).toBe(false);
    w.bottle.position.z = 0.05;
    expect(taskSuccess("handover", scenario, w, "left")).toBe(false);
  });

  it("recordings store each episode's instruction as its LeRobot task", async () => {
    const out = tempDir("duet-tasks-");
    const first = seedFor({ task: "lift" });
    await recordEpisodes({ job: { scenario: MULTI }, out, episodes: 2, seed: first });
    const dataset = await Dataset.open(out);
    const scenario = loadScenario(MULTI);
    const expected = [first, first + 1].map((s) => drawTask(scenario, s).instruction);
    expect(dataset.episodes.map((e) => e.tasks[0])).toEqual(expected);
    expect([...dataset.tasks].sort()).toEqual([...new Set(expected)].sort());
  });

  it("an instruction given by the user fixes every episode's task (case and spacing ignored); others are refused", () => {
    const scenario = loadScenario(MULTI);
    expect(taskFor(scenario, "  Lift the bottle with your LEFT   hand")).toEqual({
      task: "lift",
      hand: "left",
      instruction: "lift the bottle with your left hand",
    });
    const env = createEnv(MULTI, { cameras: false, instruction: "hand the bottle over" });
    for (const seed of [0, 1, 2]) {
      env.reset(seed);
      expect(env.task).toEqual({ task: "handover", hand: null, instruction: "hand the bottle over" });
    }
    expect(() => taskFor(scenario, "juggle the bottle")).toThrow(
      /"juggle the bottle" is none of .*multi-task.json's: "unscrew the cap"/,
    );
    expect(() => taskFor(scenario, "   ")).toThrow(/the instruction is empty/);
    expect(() => createEnv("scenarios/bottle-cap.json", { instruction: "unscrew the cap" })).toThrow(
      /has no task list/,
    );
  });

  it("any text is scored as the task and hand the user gives; one the scenario cannot score is refused by part", () => {
    const scenario = loadScenario(MULTI);
    const text = "left hand holds the bottle, right hand takes the cap off";
    expect(taskFor(scenario, text, { task: "unscrew", hand: "left" })).toEqual({
      task: "unscrew",
      hand: "left",
      instruction: text,
    });
    // a scenario phrasing too is scored as told, and the text is kept as given
    expect(taskFor(scenario, "Lift the bottle", { task: "handover", hand: null })).toEqual({
      task: "handover",
      hand: null,
      instruction: "Lift the bottle",
    });
    const refusal = (as: ScoredAs, file = MULTI): ScoringError => {
      try {
        taskFor(loadScenario(file), text, as);
      } catch (e) {
        if (e instanceof ScoringError) return e;
        throw e;
      }
      throw new Error("expected a ScoringError");
    };
    const noLift = refusal({ task: "lift", hand: null }, "scenarios/unscrew-named.json");
    expect([noLift.field, noLift.message]).toEqual([
      "task",
      'scenarios/unscrew-named.json has no task "lift"; its tasks: unscrew',
    ]);
    const noHand = refusal({ task: "unscrew", hand: null }, "scenarios/unscrew-named.json");
    expect(noHand.field).toBe("hand");
    expect(noHand.message).toMatch(
      /unscrew in .* always names a hand \(its phrasings name the left hand, the right hand\)/,
    );
    expect(() => taskFor(scenario, " ", { task: "unscrew", hand: null })).toThrow(/the instruction is empty$/);
    expect(() => taskFor(loadScenario("scenarios/bottle-cap.json"), text, { task: "unscrew", hand: null })).toThrow(
      /has no task list/,
    );
  });

  it("an episode scored as the user says: the expert does that task with that hand; the policy reads the text", () => {
    const text = "left hand holds the bottle, right hand takes the cap off";
    const env = createEnv(MULTI, { cameras: false, instruction: text, scoredAs: { task: "unscrew", hand: "left" } });
    const expert = createExpert(env);
    const seed = seedFor({ task: "lift", hand: "right" }); // the seed's own draw is another task and hand
    const first = env.reset(seed);
    expect(first.instruction).toBe(text);
    expert.reset(seed);
    let r = env.step(Float32Array.from(expert.nextAction()));
    while (!r.done) r = env.step(Float32Array.from(expert.nextAction()));
    expect([r.success, r.info["task"], r.info["named_hand"], r.info["holder"], r.info["instruction"]]).toEqual([
      true,
      "unscrew",
      "left",
      "left",
      text,
    ]);
    expect(() => createEnv(MULTI, { cameras: false, scoredAs: { task: "unscrew", hand: null } })).toThrow(
      /scoredAs says how to score an instruction; give the instruction too/,
    );
  });

  it("refuses a task list with an unknown task or no instructions, naming the field", () => {
    const s = JSON.parse(readFileSync(MULTI, "utf8")) as { robot: string; tasks: unknown[] };
    s.robot = resolve("robots/panda-pair.json");
    const write = (tasks: unknown[]): string => {
      const file = join(mkdtempSync(join(tmpdir(), "duet-scn-")), "bad.json");
      writeFileSync(file, JSON.stringify({ ...s, tasks }));
      return file;
    };
    expect(() => loadScenario(write([{ task: "juggle", instructions: { any: ["juggle"] } }]))).toThrow(
      /tasks\.0\.task/,
    );
    expect(() => loadScenario(write([{ task: "lift", instructions: {} }]))).toThrow(ValidationError);
    expect(() => loadScenario(write([{ task: "lift", instructions: {} }]))).toThrow(/tasks\.0\.instructions/);
    expect(() => loadScenario(write([{ task: "lift", instructions: { any: [""] } }]))).toThrow(
      /tasks\.0\.instructions\.any\.0/,
    );
    expect(() => loadScenario(write([]))).toThrow(/tasks/);
  });
});
