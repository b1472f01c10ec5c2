// The episode's task in a multi-task scenario: drawn from the seed (task by weight, then the hand its instruction
// names, then a phrasing) or given by the user, and scored from the world's state at each step.
import { ARMS, DuetError, Rng, otherArm, type Arm } from "../core/index.ts";
import type { Scenario, TaskName } from "./scenario.ts";
import type { BimanualWorld } from "./world.ts";

/**
 * What an episode asks for, and how it is scored: the task, the hand the instruction names (null: any; for a user's
 * own text, the hand it is scored as naming) and the instruction itself.
 */
export interface EpisodeTask {
  readonly task: TaskName;
  readonly hand: Arm | null;
  readonly instruction: string;
}

/** The instruction of single-task scenarios (and of recordings made before scenarios had tasks). */
export const DEFAULT_INSTRUCTION = "unscrew the bottle cap";

/**
 * What a user says an instruction asks (duet sim|eval --task, --hand): score it as this task, with this hand named
 * (null: none), whatever its words are.
 */
export interface ScoredAs {
  readonly task: string;
  readonly hand: Arm | null;
}

/** A `ScoredAs` the scenario cannot score; `field` says which part (the message says why and what it can). */
export class ScoringError extends DuetError {
  override name = "ScoringError";
  constructor(
    readonly field: "task" | "hand",
    message: string,
  ) {
    super(message);
  }
}

/**
 * The task an instruction given by the user asks for. Without `scoredAs`: one of the scenario's phrasings (compared
 * ignoring case and runs of spaces), so the simulator knows how to score it; a DuetError lists the phrasings
 * otherwise. With `scoredAs`: any text, scored as that task and hand, which must be among the scenario's (a task it
 * lists, a hand key that task lists phrasings for: the episodes it can score); a ScoringError names the part it lacks.
 */
export function taskFor(scenario: Scenario, instruction: string, scoredAs?: ScoredAs): EpisodeTask {
  const tasks = scenario.tasks;
  if (!tasks) {
    throw new DuetError(
      `${scenario.file} has no task list, so an instruction cannot choose its task; use a multi-task scenario (e.g. scenarios/multi-task.json)`,
    );
  }
  if (phrasingKey(instruction) === "") {
    throw new DuetError(`the instruction is empty${scoredAs ? "" : `: give one of ${scenario.file}'s phrasings`}`);
  }
  if (scoredAs) return { ...scorable(scenario, tasks, scoredAs), instruction };
  const all = scenarioPhrasings(scenario);
  const found = all.find((a) => phrasingKey(a.instruction) === phrasingKey(instruction));
  if (!found) {
    throw new DuetError(
      `instruction ${JSON.stringify(instruction)} is none of ${scenario.file}'s: ${all.map((a) => JSON.stringify(a.instruction)).join(", ")}`,
    );
  }
  return found;
}

/** Every phrasing of a scenario's task list with the task and hand it asks, in the file's order (none: no list). */
export function scenarioPhrasings(scenario: Scenario): EpisodeTask[] {
  return (scenario.tasks ?? []).flatMap((t) =>
    (["any", ...ARMS] as const).flatMap((hand) =>
      (t.instructions[hand] ?? []).map((instruction) => ({
        task: t.task,
        hand: hand === "any" ? null : hand,
        instruction,
      })),
    ),
  );
}

/** What two phrasings are compared by: case and runs of spaces ignored. */
export function phrasingKey(text: string): string {
  return text.trim().replace(/\s+/g, " ").toLowerCase();
}

/** `scoredAs` checked against the scenario's task list: the task and hand keys the scenario's episodes have. */
function scorable(
  scenario: Scenario,
  tasks: NonNullable<Scenario["tasks"]>,
  scoredAs: ScoredAs,
): { task: TaskName; hand: Arm | null } {
  const spec = tasks.find((t) => t.task === scoredAs.task);
  if (!spec) {
    throw new ScoringError(
      "task",
      `${scenario.file} has no task ${JSON.stringify(scoredAs.task)}; its tasks: ${tasks.map((t) => t.task).join(", ")}`,
    );
  }
  if (!spec.instructions[scoredAs.hand ?? "any"]) {
    const keys = (["any", ...ARMS] as const).filter((k) => spec.instructions[k]);
    const listed = keys.map((k) => (k === "any" ? "no hand" : `the ${k} hand`)).join(", ");
    throw new ScoringError(
      "hand",
      scoredAs.hand === null
        ? `${spec.task} in ${scenario.file} always names a hand (its phrasings name ${listed}): name one`
        : `${spec.task} in ${scenario.file} never names the ${scoredAs.hand} hand (its phrasings name ${listed})`,
    );
  }
  return { task: spec.task, hand: scoredAs.hand };
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
