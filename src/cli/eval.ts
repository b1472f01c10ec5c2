// duet eval: run a trained policy on a scenario for N seeded episodes; the same summary as `duet sim`.
import type { Command } from "commander";
import { readPolicyModel } from "../policy/index.ts";
import { ARMS, type Arm } from "../core/index.ts";
import { PERTURBATION_NAMES, TASKS } from "../sim/index.ts";
import { choiceArg, choiceListArg, intArg } from "./args.ts";
import {
  GOAL_HELP,
  HAND_HELP,
  PERTURB_HELP,
  PRIOR_HELP,
  QUEUE_HELP,
  TASK_HELP,
  printSummary,
  simulate,
  type SimSummary,
} from "./sim.ts";
import { addTuningOptions, type TuningArgs } from "./tuning.ts";
import { documented } from "./help.ts";

/** First seed of evaluation episodes: far from the seeds demonstrations are recorded with (0, 1, 2, …). */
export const EVAL_SEED = 1_000_000;
/** First test seed: shipped models are evaluated once on 2 000 000–2 000 199, after every choice (docs/training.md). */
export const TEST_SEED = 2_000_000;

export interface EvalArgs extends TuningArgs {
  policy: string;
  scenario: string;
  perturb?: string[];
  episodes: number;
  seed: number;
  workers: number;
  replay?: string;
  instruction?: string;
  task?: string;
  hand?: Arm;
  goal?: string;
  prior?: string;
  queue?: string;
  json: boolean;
}

/** `duet eval`'s episodes (`duet sim`'s, with the model's cameras); prints no summary. */
export function evaluate(args: EvalArgs): Promise<SimSummary> {
  const model = readPolicyModel(args.policy); // refuse a bad model directory before starting workers
  return simulate({ ...args, mode: undefined, cameras: model.cameras.length > 0 });
}

export function registerEval(program: Command): void {
  const command = documented(program.command("eval"), {
    summary: "Evaluate a trained policy on seeds it never saw: success rate, 95% Wilson interval, modes",
    details:
      "`duet sim` with evaluation defaults: the run settings stored with the model, and seeds from 1 000 000\n" +
      "(validation). Shipped results use the test seeds 2 000 000-2 000 199 once per model (docs/training.md).\n" +
      "--perturb runs the episodes in a perturbed scenario (a camera moved, other light, a friction grasp, ...);\n" +
      "--prior DIR gives a goal-embedding policy each episode's goal from its instruction (duet sim --help);\n" +
      "npm run bench -- robustness runs each perturbation beside the unperturbed scenario (docs/simulator.md).",
    example: "duet eval --policy models/bottle-cap-unet --episodes 20 --workers 2",
  })
    .requiredOption("--policy <dir>", "model directory written by duet train")
    .option("--scenario <file>", "scenario JSON file", "scenarios/bottle-cap.json")
    .option("--perturb <names>", PERTURB_HELP, choiceListArg(PERTURBATION_NAMES))
    .option("--episodes <n>", "number of episodes", intArg(1), 100)
    .option(
      "--seed <s>",
      `seed of the first episode (held out from recording seeds; default ${EVAL_SEED})`,
      intArg(0),
      EVAL_SEED,
    )
    .option("--workers <k>", "parallel worker threads", intArg(1), 1)
    .option("--replay <dir>", "save episode replays for `duet view`")
    .option("--instruction <text>", "multi-task scenarios: every episode asks this (as duet sim --instruction)")
    .option("--task <name>", TASK_HELP, choiceArg(TASKS))
    .option("--hand <arm>", HAND_HELP, choiceArg(ARMS))
    .option("--goal <png>", GOAL_HELP)
    .option("--prior <dir>", PRIOR_HELP)
    .option("--queue <url>", QUEUE_HELP)
    .option("--json", "print the summary as one JSON object on stdout (as duet sim --json)", false);
  addTuningOptions(command).action(async (opts: EvalArgs) => {
    printSummary(await evaluate(opts), opts.json);
  });
}
