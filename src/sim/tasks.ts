// The episode's task in a multi-task scenario: drawn from the seed (task by weight, then the hand its instruction
// names, then a phrasing), and scored from the world's state at each step.
import { ARMS, DuetError, Rng, otherArm, type Arm } from "../core/index.ts";
import type { Scenario, TaskName } from "./scenario.ts";
import type { BimanualWorld } from "./world.ts";

/** What an episode asks for: the task, the hand the instruction names (null: any) and the instruction itself. */
export interface EpisodeTask {
  readonly task: TaskName;
  readonly hand: Arm | null;
  readonly instruction: string;
}

/** The instruction of single-task scenarios (and of recordings made before scenarios had tasks). */
export const DEFAULT_INSTRUCTION = "unscrew the bottle cap";

/**
 * The task an instruction given by the user asks for: one of the scenario's phrasings (compared ignoring case and
 * runs of spaces), so the simulator knows how to score it. Throws a DuetError listing the phrasings otherwise.
 */
export function taskFor(scenario: Scenario, instruction: string): EpisodeTask {
  const key = (text: string): string => text.trim().replace(/\s+/g, " ").toLowerCase();
  const all = (scenario.tasks ?? []).flatMap((t) =>
    (["any", ...ARMS] as const).flatMap((hand) =>
      (t.instructions[hand] ?? []).map((phrasing) => ({ task: t.task, hand: hand === "any" ? null : hand, phrasing })),
    ),
  );
  if (all.length === 0) {
    throw new DuetError(
      `${scenario.file} has no task list, so an instruction cannot choose its task; use a multi-task scenario (e.g. scenarios/multi-task.json)`,
    );
  }
  if (key(instruction) === "")
    throw new DuetError(`the instruction is empty: give one of ${scenario.file}'s phrasings`);
  const found = all.find((a) => key(a.phrasing) === key(instruction));
  if (!found) {
    throw new DuetError(
      `instruction ${JSON.stringify(instruction)} is none of ${scenario.file}'s: ${all.map((a) => JSON.stringify(a.phrasing)).join(", ")}`,
    );
  }
  return { task: found.task, hand: found.hand, instruction: found.phrasing };
}

/** The episode's task for `seed`: a stream of its own, so episode parameters do not change with the task list. */
export function drawTask(scenario: Scenario, seed: number): EpisodeTask {
  const tasks = scenario.tasks;
  if (!tasks) return { task: "unscrew", hand: null, instruction: DEFAULT_INSTRUCTION };
  const rng = new Rng((seed ^ 0x7a5c0de) >>> 0);
  const total = tasks.reduce((s, t) => s + t.weight, 0);
  let pick = rng.next() * total;
  const spec = tasks.find((t) => (pick -= t.weight) < 0) ?? (tasks[tasks.length - 1] as (typeof tasks)[number]);
  const keys = (["any", ...ARMS] as const).filter((k) => spec.instructions[k]);
  const key = keys[Math.floor(rng.next() * keys.length)] as (typeof keys)[number];
  const phrasings = spec.instructions[key] as string[];
  const instruction = phrasings[Math.floor(rng.next() * phrasings.length)] as string;
  return { task: spec.task, hand: key === "any" ? null : key, instruction };
}

/**
 * Success of the episode's task now. `first`: the arm that held the bottle first this episode.
 *  unscrew   the thread released, the cap farther than success.cap_distance from its seat, the bottle in a gripper
 *            (unless success.bottle_held is false)
 *  lift      the bottle in a gripper, its base higher than success.lift_height, the cap still on
 *  handover  the bottle in the other gripper than the one that took it first, and only there, above lift_height
 */
export function taskSuccess(task: TaskName, scenario: Scenario, world: BimanualWorld, first: Arm | "none"): boolean {
  const holds = (arm: Arm): boolean => world.arms[arm].gripper.holding === world.bottle;
  const held = ARMS.some(holds);
  const { success } = scenario;
  const raised = world.bottle.position.z > success.lift_height;
  switch (task) {
    case "unscrew":
      return (
        world.thread.released && world.capDistanceFromSeat() > success.cap_distance && (held || !success.bottle_held)
      );
    case "lift":
      return held && raised && !world.thread.released;
    case "handover":
      return first !== "none" && holds(otherArm(first)) && !holds(first) && raised;
  }
}
