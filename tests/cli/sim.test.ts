import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/core/index.ts";
import { loadScenario } from "../../src/sim/index.ts";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures are edited as free-form JSON
type Json = any;
const good = JSON.parse(readFileSync("scenarios/bottle-cap.json", "utf8")) as Json;
const robot = JSON.parse(readFileSync("robots/panda-pair.json", "utf8")) as Json;

/** Write a scenario (and its robot) into a fresh temp dir; returns the scenario path. */
function fixture(edit: (s: Json, r: Json) => void, raw?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "duet-sim-"));
  mkdirSync(join(dir, "robots"));
  const s = structuredClone(good);
  const r = structuredClone(robot);
  s.robot = "robots/robot.json";
  edit(s, r);
  writeFileSync(join(dir, "robots", "robot.json"), JSON.stringify(r));
  const file = join(dir, "scenario.json");
  writeFileSync(file, raw ?? JSON.stringify(s));
  return file;
}

function duet(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/duet.js", ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function validationIssues(file: string): ValidationError {
  try {
    loadScenario(file);
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error("expected a ValidationError");
}

describe("duet sim: bad input", () => {
  it("exits non-zero with one message naming the file and every bad field", () => {
    const file = fixture((s) => {
      delete s.time_limit_s;
      s.bottle.radius = -0.03;
      s.control_hz = 0;
      s.cap.pitch = "3mm";
    });
    const r = duet("sim", "--scenario", file, "--episodes", "1");
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain("time_limit_s: expected number, received nothing (missing)");
    expect(r.stderr).toContain("bottle.radius: expected > 0, received -0.03");
    expect(r.stderr).toContain("control_hz: expected > 0, received 0");
    expect(r.stderr).toContain('cap.pitch: expected number, received "3mm"');
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
  });

  it("reports invalid JSON with the file name", () => {
    const file = fixture(() => {}, '{"name": "x",');
    const r = duet("sim", "--scenario", file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${file}: invalid JSON`);
  });

  it("reports a robot file with reversed limits by its own file name and path", () => {
    const file = fixture((_s, r) => {
      r.joints[3].lower = 1;
      r.joints[3].upper = -1;
      r.gripper.max_opening = "wide";
    });
    let message = "";
    try {
      loadScenario(file);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("robot.json");
    expect(message).toContain("joints.3.upper: expected lower < upper");
    expect(message).toContain('gripper.max_opening: expected number, received "wide"');
  });

  it("rejects a physics rate that is not a multiple of the control rate, and unknown fields", () => {
    const rate = validationIssues(fixture((s) => (s.physics_hz = 245)));
    expect(rate.issues).toEqual([{ path: "physics_hz", expected: "a multiple of control_hz (10)", received: "245" }]);
    const extra = validationIssues(fixture((s) => (s.bottle.colour = "green")));
    expect(extra.issues[0]!.path).toBe("bottle");
    expect(extra.issues[0]!.expected).toContain("colour");
  });

  it("rejects grasp stiffness without the weld model, and a non-positive stiffness", () => {
    const friction = validationIssues(fixture((s) => (s.grasp = { model: "friction", stiffness: 3000 })));
    expect(friction.issues[0]!.path).toBe("grasp");
    expect(friction.issues[0]!.expected).toContain('only with model "weld"');
    const zero = validationIssues(fixture((s) => (s.grasp.angular_stiffness = 0)));
    expect(zero.issues[0]).toMatchObject({ path: "grasp.angular_stiffness", received: "0" });
  });

  it("rejects bad arguments with the option name", () => {
    const r = duet("sim", "--episodes", "zero");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("--episodes");
    expect(r.stderr).toContain('expected an integer >= 1, received "zero"');
    const perturb = duet("sim", "--perturb", "front-camera,fog");
    expect(perturb.code).not.toBe(0);
    expect(perturb.stderr).toContain("--perturb");
    expect(perturb.stderr).toContain('"fog" is not one');
  });
});

describe("duet sim --json", () => {
  it("refuses bad sampling overrides, naming the option", () => {
    let r = duet("eval", "--policy", "runs/none", "--episodes", "1", "--noise-scale", "-0.5");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--noise-scale <s>' argument '-0.5' is invalid. expected a number in \[0, 10\]/);
    r = duet("sim", "--policy", "runs/none", "--episodes", "1", "--action-steps", "0");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--action-steps <n>' argument '0' is invalid. expected an integer >= 1/);
  });

  it("scores any instruction as --task with --hand, and records the instruction and what it was scored as", () => {
    const text = "left hand holds the bottle, right hand takes the cap off";
    const r = duet(
      ...["sim", "--scenario", "scenarios/multi-task.json", "--episodes", "1", "--seed", "5", "--no-cameras"],
      ...["--instruction", text, "--task", "unscrew", "--hand", "left", "--json"],
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    expect([summary.instruction, summary.scored_as]).toEqual([text, { task: "unscrew", hand: "left" }]);
    const [episode] = summary.per_episode;
    expect([episode.task, episode.named_hand, episode.holder, episode.success]).toEqual([
      "unscrew",
      "left",
      "left",
      true,
    ]);
    expect(summary.per_task.unscrew.named_hand).toEqual({ episodes: 1, used: 1 });
  });

  it("a scenario phrasing is scored as what it asks there; --task, --hand it cannot score are refused by flag", () => {
    const phrasing = duet(
      ...["sim", "--scenario", "scenarios/multi-task.json", "--episodes", "1", "--seed", "5", "--no-cameras", "--json"],
      ...["--instruction", "lift the bottle with your right hand"],
    );
    expect(phrasing.code).toBe(0);
    expect(JSON.parse(phrasing.stdout.trim().split("\n").at(-1)!).scored_as).toEqual({ task: "lift", hand: "right" });
    const refused = (args: string[], message: string) => {
      const r = duet("sim", "--episodes", "1", "--no-cameras", ...args);
      expect([r.code === 0, r.stdout, r.stderr]).toEqual([false, "", expect.stringContaining(message)]);
    };
    refused(["--scenario", "scenarios/multi-task.json", "--hand", "left"], "--hand left: names the hand for --task");
    refused(
      ["--scenario", "scenarios/multi-task.json", "--task", "lift"],
      "--task lift: says how to score --instruction's text",
    );
    refused(["--instruction", "open it", "--task", "pour"], "--task <name>' argument 'pour' is invalid");
    refused(
      ["--instruction", "open it", "--task", "unscrew", "--hand", "both"],
      "--hand <arm>' argument 'both' is invalid",
    );
    const named = ["--scenario", "scenarios/unscrew-named.json", "--instruction", "open it"];
    refused(
      [...named, "--task", "lift"],
      '--task lift: scenarios/unscrew-named.json has no task "lift"; its tasks: unscrew',
    );
    refused([...named, "--task", "unscrew"], "--hand: unscrew in scenarios/unscrew-named.json always names a hand");
  });

  it("names the perturbations it ran under", () => {
    const r = duet(
      "sim",
      ...["--scenario", "scenarios/bottle-cap-easy.json", "--episodes", "1", "--seed", "3", "--no-cameras", "--json"],
      ...["--perturb", "actuation-delay,tracking-noise"],
    );
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    expect(summary.perturb).toEqual(["actuation-delay", "tracking-noise"]);
    expect(summary.episodes).toBe(1);
  });

  it("prints one summary object with the documented keys as the last stdout line", () => {
    const r = duet(
      "sim",
      "--scenario",
      "scenarios/bottle-cap-easy.json",
      "--episodes",
      "1",
      "--seed",
      "3",
      "--no-cameras",
      "--json",
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    const summary = JSON.parse(lines[lines.length - 1]!);
    expect(Object.keys(summary).sort()).toEqual([
      "episodes",
      "instruction",
      "modes",
      "per_episode",
      "per_task",
      "scenario",
      "scored_as",
      "success_rate",
      "successes",
      "wilson95",
    ]);
    expect([summary.scenario, summary.instruction, summary.scored_as]).toEqual([
      "scenarios/bottle-cap-easy.json",
      null,
      null,
    ]);
    expect(summary.episodes).toBe(1);
    expect(summary.per_episode[0].seed).toBe(3);
    expect(summary.successes).toBe(1);
    expect(summary.modes.left + summary.modes.right).toBe(1);
    expect(summary.wilson95[1]).toBe(1);
  });
});
