// duet sim: run a policy on a scenario for N seeded episodes and report the success rate.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ARMS, DuetError, wilson95, type Arm } from "../core/index.ts";
import { readPolicyModel } from "../policy/index.ts";
import {
  PERTURBATION_NAMES,
  ScoringError,
  TASKS,
  loadScenario,
  taskFor,
  type EpisodeTask,
  type Scenario,
} from "../sim/index.ts";
import { policyHelp, policyModel } from "../runner/deploy/index.ts";
import { parseRedisUrl, playOnQueue, type QueueStatus } from "../runner/queue/index.ts";
import { EpisodeAborted, checkJob, runEpisodes, type EpisodeOutcome, type SimJob } from "../runner/rollout/index.ts";
import { capWorkers, choiceArg, choiceListArg, intArg } from "./args.ts";
import { documented } from "./help.ts";
import { noWorkerNote, progressBar } from "./progress.ts";
import { addTuningOptions, tuningOf, type TuningArgs } from "./tuning.ts";

export interface SimArgs extends TuningArgs {
  scenario: string;
  /** Named perturbations laid over the scenario (sim/perturbations.ts). */
  perturb?: string[];
  policy: string;
  episodes: number;
  seed: number;
  workers: number;
  mode: "random" | "left" | "right" | undefined;
  cameras: boolean;
  replay?: string;
  frames?: string;
  live?: string;
  instruction?: string;
  /** Score every episode as this task (with --instruction: any text), and `hand` as the hand it names. */
  task?: string;
  hand?: Arm;
  goal?: string;
  prior?: string;
  queue?: string;
  json: boolean;
}

/** Success and modes of a set of episodes. */
export interface Rates {
  episodes: number;
  successes: number;
  success_rate: number;
  wilson95: [number, number];
  /** Which arm held the bottle first (for handover: the giving arm). */
  modes: { left: number; right: number; none: number };
}

/** Per task: its rates, and in how many of the episodes whose instruction named a hand that hand held first. */
export interface TaskRates extends Rates {
  named_hand: { episodes: number; used: number };
}

/** The `--json` summary. */
export interface SimSummary extends Rates {
  /** The scenario file, and the instruction every episode was given (null: each episode drew its task). */
  scenario: string;
  /** The perturbations laid over the scenario (absent: none). */
  perturb?: string[];
  instruction: string | null;
  /**
   * What every episode was scored as: --task and --hand, or the task and hand of the scenario's phrasing that
   * --instruction is ("any": no hand named). Null where each episode drew its task (per_episode has each one's).
   */
  scored_as: { task: string; hand: string } | null;
  per_task: Record<string, TaskRates>;
  per_episode: EpisodeOutcome[];
}

/** A saved `duet eval --json` output: its last line (progress lines may come before it). */
export function readSimSummary(file: string): SimSummary {
  const last = readFileSync(file, "utf8").trim().split("\n").at(-1) ?? "";
  let summary: SimSummary;
  try {
    summary = JSON.parse(last) as SimSummary;
  } catch (e) {
    throw new DuetError(`${file}: not the JSON that duet eval --json prints (${(e as Error).message})`);
  }
  if (!Array.isArray(summary.per_episode))
    throw new DuetError(`${file}: no per_episode list (expected the JSON that duet eval --json prints)`);
  return summary;
}

function rates(outcomes: readonly EpisodeOutcome[]): Rates {
  const successes = outcomes.filter((o) => o.success).length;
  const modes = { left: 0, right: 0, none: 0 };
  for (const o of outcomes) modes[o.holder === "left" ? "left" : o.holder === "right" ? "right" : "none"]++;
  return {
    episodes: outcomes.length,
    successes,
    success_rate: outcomes.length ? successes / outcomes.length : 0,
    wilson95: wilson95(successes, outcomes.length),
    modes,
  };
}

/** The summary of a job's episodes; `scored`: the task every episode was given (null: each drew its own). */
export function summarize(
  outcomes: readonly EpisodeOutcome[],
  job: Pick<SimJob, "scenario" | "perturb" | "instruction">,
  scored: EpisodeTask | null,
): SimSummary {
  const per_task: Record<string, TaskRates> = {};
  for (const task of new Set(outcomes.map((o) => o.task))) {
    const mine = outcomes.filter((o) => o.task === task);
    const named = mine.filter((o) => o.named_hand !== "any");
    per_task[task] = {
      ...rates(mine),
      named_hand: { episodes: named.length, used: named.filter((o) => o.holder === o.named_hand).length },
    };
  }
  return {
    scenario: job.scenario,
    ...(job.perturb?.length && { perturb: [...job.perturb] }),
    instruction: job.instruction ?? null,
    scored_as: scored && { task: scored.task, hand: scored.hand ?? "any" },
    ...rates(outcomes),
    per_task,
    per_episode: [...outcomes],
  };
}

/**
 * A model exported from a checkpoint before its run's last step (model.json provenance.unfinished, written by
 * duet train): what to say about it, or null for a finished model (or one from before the field existed).
 */
export function unfinishedNote(dir: string, provenance: Record<string, unknown>): string | null {
  if (provenance.unfinished !== true) return null;
  const steps = typeof provenance.steps === "number" ? provenance.steps : "?";
  const total = typeof provenance.total_steps === "number" ? provenance.total_steps : "?";
  return (
    `${dir} is unfinished: exported at step ${steps} of ${total} (provenance.unfinished in model.json; its ` +
    `training was interrupted); finish it with duet train --resume --out ${dir}`
  );
}

/**
 * Warn on stderr (one line) when the model directory an option names is unfinished; `option` ("--lead-policy")
 * prefixes the line where the model comes from a flag other than --policy. A model.json that is missing or invalid
 * says nothing here: the loader that follows reports it.
 */
export function warnIfUnfinished(dir: string, option = ""): void {
  let provenance: Record<string, unknown>;
  try {
    provenance = readPolicyModel(dir).provenance;
  } catch {
    return;
  }
  const note = unfinishedNote(dir, provenance);
  if (note) process.stderr.write(`duet: warning: ${option ? `${option} ` : ""}${note}\n`);
}

export const QUEUE_HELP =
  "play the episodes on the `duet worker`s of this Redis queue (redis://HOST:PORT), one job per seed; the summary is a local run's (docs/scale-out.md)";

export const GOAL_HELP =
  "goal-conditioned policies: a PNG of the goal camera shown as every episode's goal picture (goal-embedding policies: its embedding by the model's goal-image.onnx; default: the last frame of the scripted expert doing the same episode)";

export const PRIOR_HELP =
  "goal-embedding policies: a duet prior output folder (trained on the clip run the policy was); each episode's goal embedding is the prior's sample for its instruction (--instruction, or the scenario's draw), seeded by the episode's seed (docs/multimodal.md)";

/** What a queue run cannot do: its episodes run on the workers' machines, each in its own threads. */
function checkQueueArgs(args: SimArgs): void {
  if (args.queue === undefined) return;
  const problems: string[] = [];
  if (args.workers !== 1)
    problems.push(`--workers ${args.workers}: the queue's workers play the episodes (duet worker --concurrency)`);
  for (const [flag, value] of [
    ["--replay", args.replay],
    ["--frames", args.frames],
    ["--live", args.live],
  ] as const) {
    if (value !== undefined)
      problems.push(`${flag}: written where an episode runs, on a worker's machine; run without --queue`);
  }
  if (problems.length > 0) throw new DuetError(`--queue ${args.queue}:\n  ${problems.join("\n  ")}`);
}

/**
 * A sim job's seeds through the queue at `url`, in seed order. Ctrl-C withdraws the seeds no worker has taken and
 * stops the run with a message (a second Ctrl-C exits at once).
 */
async function onQueue(
  url: string,
  job: SimJob,
  seeds: readonly number[],
  on: { onEpisode: (o: EpisodeOutcome) => void; onStatus: (s: QueueStatus) => void },
): Promise<EpisodeOutcome[]> {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  const noWorker = noWorkerNote(url);
  let done = 0;
  try {
    const played = await playOnQueue({ kind: "evaluate", sim: job }, seeds, {
      url,
      signal: controller.signal,
      onResult: (_seed, o) => {
        done++;
        on.onEpisode(o);
      },
      onStatus: (s) => {
        noWorker(s.workers);
        on.onStatus(s);
      },
    });
    return played.map((p) => p.result);
  } catch (e) {
    if (!(e instanceof EpisodeAborted)) throw e;
    throw new DuetError(
      `stopped (Ctrl-C) after ${done} of ${seeds.length} episodes; the seeds no worker had taken were withdrawn from ${url}`,
    );
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** The help lines of `--task` and `--hand`, shared by `duet sim` and `duet eval`. */
export const TASK_HELP = `with --instruction: score every episode as this task of the scenario, whatever the text says (${TASKS.join(", ")})`;
export const HAND_HELP = "with --task: the hand the instruction is scored as naming (left, right; default: none)";

/** The help line of `--perturb`, shared by `duet sim` and `duet eval`. */
export const PERTURB_HELP = `lay named perturbations over the scenario, comma-separated, together (${PERTURBATION_NAMES.join(", ")}; docs/simulator.md)`;

/**
 * The task every episode is given by --instruction (with --task and --hand: any text, scored as they say), or null
 * when each episode draws its own; a flag the scenario cannot score with is refused, naming the flag.
 */
function fixedTask(scenario: Scenario, args: SimArgs): EpisodeTask | null {
  if (args.hand !== undefined && args.task === undefined) {
    throw new DuetError(`--hand ${args.hand}: names the hand for --task; give --task (and --instruction) too`);
  }
  if (args.instruction === undefined) {
    if (args.task !== undefined) {
      throw new DuetError(`--task ${args.task}: says how to score --instruction's text; give --instruction too`);
    }
    return null;
  }
  if (args.task === undefined) return taskFor(scenario, args.instruction);
  try {
    return taskFor(scenario, args.instruction, { task: args.task, hand: args.hand ?? null });
  } catch (e) {
    if (e instanceof ScoringError)
      throw new DuetError(`--${e.field}${args[e.field] ? ` ${args[e.field]}` : ""}: ${e.message}`);
    throw e;
  }
}

/**
 * `duet sim`'s episodes: the arguments and everything the episodes share checked once, then the episodes over the
 * workers, with a progress bar and (unless `json`) one line per episode on stderr. Prints no summary: see `sim`.
 */
export async function simulate(args: SimArgs): Promise<SimSummary> {
  // validate before starting workers: one clear error
  checkQueueArgs(args);
  if (args.queue !== undefined) parseRedisUrl(args.queue);
  const scenario = loadScenario(args.scenario, args.perturb ?? []);
  const model = policyModel(args.policy, "sim"); // null: the scripted expert
  const scored = fixedTask(scenario, args);
  // a goal-conditioned policy is not told the instruction, but its goal follows it: the expert's frame of the task
  // it sets, or the prior's sample for it
  if (args.instruction !== undefined && model !== null && !model.config.language && !model.config.goal) {
    throw new DuetError(
      `--instruction: ${args.policy} does not read instructions (its policy.language is null: it was trained ` +
        `without them) nor goals that follow them; use a language- or goal-conditioned policy, or --policy expert`,
    );
  }
  if (args.guidance !== undefined && (model === null || model.config.language === null)) {
    throw new DuetError(
      `--guidance ${args.guidance}: ${args.policy} reads no instruction (only a policy trained with policy.language ` +
        "can be guided on its instruction); leave the flag out",
    );
  }
  if (args.goal !== undefined && (model === null || model.config.goal === null)) {
    throw new DuetError(
      `--goal: ${args.policy} does not read goal pictures (only policies trained with policy.goal do)`,
    );
  }
  if (args.prior !== undefined && args.goal !== undefined) {
    throw new DuetError(`--prior ${args.prior} and --goal ${args.goal}: each gives every episode's goal; give one`);
  }
  if (args.prior !== undefined && model === null) {
    throw new DuetError(`--prior ${args.prior}: the expert reads no goal; give --policy a goal-embedding model`);
  }
  const job: SimJob = { scenario: args.scenario, policy: args.policy, cameras: args.cameras, tuning: tuningOf(args) };
  if (args.perturb?.length) job.perturb = args.perturb;
  if (args.mode) job.mode = args.mode;
  if (args.instruction !== undefined) job.instruction = args.instruction;
  if (args.task !== undefined && scored) job.scoredAs = { task: scored.task, hand: scored.hand };
  if (args.goal !== undefined) job.goal = args.goal;
  if (args.prior !== undefined) job.prior = args.prior;
  if (args.replay) job.replayDir = args.replay;
  if (args.frames) job.framesDir = args.frames;
  if (args.live) job.liveUrl = args.live;
  if (model !== null) warnIfUnfinished(args.policy);
  // what every episode shares (graphs, instructions, output folders) is checked here, once, before any worker starts
  await checkJob(job, { replayDir: "--replay", framesDir: "--frames" });
  const seeds = Array.from({ length: args.episodes }, (_, i) => args.seed + i);
  const bar = progressBar("episodes", seeds.length);
  let done = 0;
  let ok = 0;
  let workers = args.workers;
  const onEpisode = (o: EpisodeOutcome): void => {
    done++;
    if (o.success) ok++;
    bar.update(done, `${ok} ok, ${workers} workers`);
    if (!args.json) {
      process.stderr.write(
        `${process.stderr.isTTY ? "\r\x1b[K" : ""}seed ${o.seed}: ${o.success ? "success" : "FAIL   "}  holder ${o.holder.padEnd(5)}  ` +
          `turns ${o.turns.toFixed(2)}  steps ${o.steps}  ${o.wall_s.toFixed(1)} s\n`,
      );
    }
  };
  let outcomes: EpisodeOutcome[];
  try {
    if (args.queue === undefined) {
      workers = capWorkers(args.workers, (line) => process.stderr.write(`duet: ${line}\n`));
      outcomes = await runEpisodes(job, seeds, { workers, onEpisode });
    } else {
      // the same seeds played by the queue's workers, wherever they run: the same outcomes in the same order
      outcomes = await onQueue(args.queue, job, seeds, {
        onEpisode,
        onStatus: (s) => {
          workers = s.workers;
          bar.update(s.done, `${ok} ok, ${workers} workers`);
        },
      });
    }
  } finally {
    bar.stop();
  }
  return summarize(outcomes, job, scored);
}

/** Print a summary on stdout: one JSON object with `json`, else the lines `duet sim` prints. */
export function printSummary(summary: SimSummary, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(summary));
  } else {
    const [lo, hi] = summary.wilson95;
    console.log(
      `${summary.successes}/${summary.episodes} succeeded${summary.perturb ? ` under ${summary.perturb.join(", ")}` : ""}: ` +
        `${(100 * summary.success_rate).toFixed(1)}% ` +
        `(95% Wilson interval ${(100 * lo).toFixed(1)}–${(100 * hi).toFixed(1)}%); ` +
        `holder left ${summary.modes.left}, right ${summary.modes.right}`,
    );
    const tasks = Object.entries(summary.per_task);
    if (tasks.length > 1 || tasks.some(([, t]) => t.named_hand.episodes > 0)) {
      for (const [task, t] of tasks) {
        const [tlo, thi] = t.wilson95;
        console.log(
          `  ${task.padEnd(8)} ${t.successes}/${t.episodes} (${(100 * tlo).toFixed(1)}–${(100 * thi).toFixed(1)}%); ` +
            `the named hand used in ${t.named_hand.used}/${t.named_hand.episodes}`,
        );
      }
    }
  }
}

/** `duet sim`: the episodes, then the summary on stdout. */
export async function sim(args: SimArgs): Promise<SimSummary> {
  const summary = await simulate(args);
  printSummary(summary, args.json);
  return summary;
}

export function registerSim(program: Command): void {
  const command = documented(program.command("sim"), {
    summary: "Run a policy (the scripted expert or a trained model) on a scenario: outcomes and success rate",
    details:
      "Episode i is reset with seed S + i, so the same flags give the same episodes. Prints one line per episode and\n" +
      "a summary: success rate with its 95% Wilson interval and which arm held the bottle (per task in multi-task\n" +
      "scenarios). --replay saves episodes for `duet view`. --instruction with --task (and --hand) runs any text and\n" +
      "scores it as that task, with that hand named. A goal-conditioned policy is shown the expert's last frame of\n" +
      "the same episode as its goal, or --goal PNG; a goal-embedding one (policy.goal.embedding) can instead take\n" +
      "its goal from the instruction through --prior DIR. --json records each episode's goal source (per_episode goal).",
    example: "duet sim --scenario scenarios/bottle-cap.json --policy expert --episodes 4 --workers 2",
  })
    .option("--scenario <file>", "scenario JSON file", "scenarios/bottle-cap.json")
    .option("--perturb <names>", PERTURB_HELP, choiceListArg(PERTURBATION_NAMES))
    .option("--policy <policy>", `policy to run: ${policyHelp("sim")}`, "expert")
    .option("--episodes <n>", "number of episodes", intArg(1), 10)
    .option("--seed <s>", "seed of the first episode (episode i uses seed + i)", intArg(0), 0)
    .option("--workers <k>", "parallel worker threads", intArg(1), 1)
    .option(
      "--mode <arm>",
      "expert only: which arm holds the bottle (left, right, random)",
      choiceArg(["random", "left", "right"] as const),
    )
    .option("--no-cameras", "skip camera rendering (faster; only for policies that do not look)")
    .option("--replay <dir>", "save episode replays (body poses per step) for `duet view`")
    .option("--frames <dir>", "save camera frames as PNG")
    .option("--live <url>", "stream the run to a running `duet view` (e.g. http://127.0.0.1:8080)")
    .option(
      "--instruction <text>",
      "multi-task scenarios: every episode asks this (one of the scenario's phrasings, or any text with --task) instead of drawing its task; read by the expert and by language-conditioned policies",
    )
    .option("--task <name>", TASK_HELP, choiceArg(TASKS))
    .option("--hand <arm>", HAND_HELP, choiceArg(ARMS))
    .option("--goal <png>", GOAL_HELP)
    .option("--prior <dir>", PRIOR_HELP)
    .option("--queue <url>", QUEUE_HELP)
    .option("--json", "print one JSON summary object on stdout", false);
  addTuningOptions(command).action(async (opts: SimArgs) => {
    await sim(opts);
  });
}
