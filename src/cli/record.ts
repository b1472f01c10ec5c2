// duet record: record demonstrations into a LeRobot v3.0 dataset, from the scripted expert in simulation (in this
// thread or K worker threads) or from a real robot through rosbridge. Every episode is committed when complete;
// Ctrl-C discards only the episodes in progress; --resume appends.
import type { Command } from "commander";
import { DuetError } from "../core/index.ts";
import { loadRobotInterface } from "../bridge/index.ts";
import { parseRedisUrl, recordOnQueue, type QueueRecordResult } from "../runner/queue/index.ts";
import type { RecordSimJob } from "../runner/rollout/index.ts";
import {
  boundaryTopics,
  openRosRecording,
  recordEpisodes,
  type ActionSource,
  type RecordResult,
  type RosRecordResult,
  type RosRecordStatus,
} from "../runner/record/index.ts";
import { capWorkers, choiceArg, intArg, numberArg, rangeArg } from "./args.ts";
import { noWorkerNote, progressBar } from "./progress.ts";
import { documented } from "./help.ts";
import { warnIfUnfinished } from "./sim.ts";

/** Where demonstrations come from. */
export const SOURCES = ["expert", "ros"] as const;
export type Source = (typeof SOURCES)[number];
export const ACTION_SOURCES = ["measured", "commanded"] as const;

export interface RecordArgs {
  source: Source;
  episodes: number;
  out: string;
  resume: boolean;
  task: string;
  json: boolean;
  /** expert */
  scenario?: string;
  seed: number;
  workers: number;
  mode: "random" | "left" | "right";
  expertNoise?: number;
  approachOffset?: number;
  actuationNoise?: number;
  audio: boolean;
  leadPolicy?: string;
  leadSteps: [number, number];
  queue?: string;
  /** ros */
  robotInterface?: string;
  url: string;
  actions: ActionSource;
  topics: string;
  minFrames?: number;
}

/** Every problem with the arguments of a source, in one error. */
function checkArgs(args: RecordArgs): void {
  const problems: string[] = [];
  if (args.source === "expert") {
    if (args.scenario === undefined) problems.push("--scenario <file> is required with --source expert");
    if (args.robotInterface !== undefined) problems.push("--robot-interface is for --source ros");
    if (args.minFrames !== undefined) problems.push("--min-frames is for --source ros");
  } else {
    if (args.expertNoise !== undefined) problems.push("--expert-noise is for --source expert");
    if (args.leadPolicy !== undefined) problems.push("--lead-policy is for --source expert");
    if (args.approachOffset !== undefined) problems.push("--approach-offset is for --source expert");
    if (args.actuationNoise !== undefined) problems.push("--actuation-noise is for --source expert");
    if (args.audio) problems.push("--audio is for --source expert (the simulator synthesises the sound)");
    if (args.robotInterface === undefined) problems.push("--robot-interface <file> is required with --source ros");
    if (args.scenario !== undefined) problems.push("--scenario is for --source expert (the robot is the scene)");
    if (args.workers !== 1) problems.push(`--workers ${args.workers}: a robot is recorded in one thread; use 1`);
    if (!/^wss?:\/\/[^/\s]+(:\d+)?(\/.*)?$/.test(args.url))
      problems.push(`--url: expected ws://HOST:PORT (e.g. ws://robot:9090), received "${args.url}"`);
    if (!/^\/[A-Za-z_][A-Za-z0-9_/]*$/.test(args.topics))
      problems.push(`--topics: expected a ROS name prefix such as /duet/record, received "${args.topics}"`);
  }
  if (args.queue !== undefined) {
    if (args.source !== "expert") problems.push("--queue is for --source expert (a robot is recorded where it is)");
    if (args.workers !== 1)
      problems.push(`--workers ${args.workers}: the queue's workers play the episodes (duet worker --concurrency)`);
    if (args.resume) problems.push("--resume: a queue recording is merged into a new dataset; record into a new --out");
  }
  if (problems.length > 0) throw new DuetError(`duet record --source ${args.source}:\n  ${problems.join("\n  ")}`);
}

/** The expert's recording source, as the flags describe it. */
function expertJob(args: RecordArgs): RecordSimJob {
  return {
    scenario: args.scenario as string,
    mode: args.mode,
    ...(args.expertNoise !== undefined ? { noise: args.expertNoise } : {}),
    ...(args.approachOffset !== undefined ? { approachOffset: args.approachOffset } : {}),
    ...(args.actuationNoise !== undefined ? { actuationNoise: args.actuationNoise } : {}),
    ...(args.audio ? { audio: true } : {}),
    ...(args.leadPolicy !== undefined ? { lead: { policy: args.leadPolicy, steps: args.leadSteps } } : {}),
  };
}

/** Record from the scripted expert through the queue's workers (docs/scale-out.md). */
export async function recordQueued(args: RecordArgs): Promise<QueueRecordResult> {
  checkArgs(args);
  parseRedisUrl(args.queue as string);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(
      "\nstopping: the seeds no worker has taken are withdrawn; committed episodes stay in the shards\n",
    );
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  if (args.leadPolicy !== undefined) warnIfUnfinished(args.leadPolicy, "--lead-policy");
  const bar = progressBar("record", args.episodes);
  let ok = 0;
  let done = 0;
  let workers = 0;
  const noWorker = noWorkerNote(args.queue as string);
  try {
    return await recordOnQueue({
      url: args.queue as string,
      job: expertJob(args),
      out: args.out,
      episodes: args.episodes,
      seed: args.seed,
      task: args.task,
      signal: controller.signal,
      onEpisode: (e) => {
        done++;
        if (e.success) ok++;
        bar.update(
          done,
          `seed ${e.seed} ${e.success ? "ok" : "fail"} ${e.mode} | ${ok}/${done} ok, ${workers} workers`,
        );
      },
      onStatus: (s) => {
        workers = s.workers;
        noWorker(workers);
        bar.update(s.done, `${ok}/${done} ok, ${workers} workers`);
      },
    });
  } finally {
    bar.stop();
    process.off("SIGINT", onSigint);
  }
}

/** Record from the scripted expert in simulation. */
export async function record(args: RecordArgs): Promise<RecordResult> {
  checkArgs(args);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130); // second Ctrl-C: committed episodes are safe on disk
    process.stderr.write("\nstopping: the episodes in progress are discarded, committed episodes are kept\n");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  if (args.leadPolicy !== undefined) warnIfUnfinished(args.leadPolicy, "--lead-policy");
  const bar = progressBar("record", args.episodes);
  let ok = 0;
  try {
    return await recordEpisodes({
      job: expertJob(args),
      workers: capWorkers(args.workers, (line) => process.stderr.write(`duet: ${line}\n`)),
      out: args.out,
      episodes: args.episodes,
      seed: args.seed,
      resume: args.resume,
      task: args.task,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.episode >= 0 && p.success) ok++;
        bar.update(
          p.done,
          p.episode >= 0 ? `ep ${p.episode} ${p.success ? "ok" : "fail"} ${p.mode} | ${ok}/${p.done} ok` : "",
        );
      },
    });
  } finally {
    bar.stop();
    process.off("SIGINT", onSigint);
  }
}

function ms(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(0)}ms` : "–";
}

/** The live status line of a robot recording. */
export function rosStatusLine(s: RosRecordStatus): string {
  return (
    `${s.state.padEnd(12)} epoch ${s.epoch} | episode ${s.datasetEpisodes} frames ${s.frames}` +
    ` | committed ${s.committed}/${s.target} discarded ${s.discarded} | skipped ${s.skipped} (${s.skippedTotal})` +
    ` | age joints ${ms(s.jointAgeMs)} cam ${ms(s.cameraAgeMs)} | ${s.reason}`
  );
}

/** Keys while recording from a robot. */
export const ROS_KEYS = "s start, e end+keep, f end+keep as failed, d discard, r redo, q quit";

/** Record from a real robot through rosbridge; boundaries by terminal keys and std_msgs/Empty topics. */
export async function recordRos(args: RecordArgs): Promise<RosRecordResult> {
  checkArgs(args);
  const ri = loadRobotInterface(args.robotInterface as string);
  const tty = process.stderr.isTTY;
  const print = (line: string): void => void process.stderr.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  const topics = boundaryTopics(args.topics);
  const { source, bridge } = await openRosRecording(args.url, {
    interface: ri.spec,
    out: args.out,
    resume: args.resume,
    episodes: args.episodes,
    actions: args.actions,
    topics,
    task: args.task,
    ...(args.minFrames !== undefined && { minFrames: args.minFrames }),
    log: print,
  });
  bridge.on("log", print);
  if (tty) source.onStatus((s) => void process.stderr.write(`\r\x1b[2K${rosStatusLine(s)}`));
  print(
    `record ${ri.spec.name} → ${args.out} from ${args.url} at ${ri.spec.control_hz} Hz, actions: ${args.actions}; ` +
      `keys: ${ROS_KEYS}; topics (std_msgs/Empty): ${topics.start} ${topics.stop} ${topics.discard}`,
  );
  const raw = process.stdin.isTTY;
  const onKey = (buf: Buffer): void => {
    const key = buf.toString();
    if (key === "s") source.start("key s");
    else if (key === "e") source.stop(true, "key e");
    else if (key === "f") source.stop(false, "key f");
    else if (key === "d") source.discard("discarded (key d)");
    else if (key === "r") source.redo();
    else if (key === "q" || key === "\u0003") source.close();
  };
  const quit = (): void => source.close();
  if (raw) {
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdin.on("data", onKey);
  }
  process.once("SIGINT", quit);
  process.once("SIGTERM", quit);
  try {
    return await source.run();
  } finally {
    if (raw) {
      process.stdin.off("data", onKey);
      process.stdin.setRawMode(false);
      process.stdin.pause();
    }
    process.off("SIGINT", quit);
    process.off("SIGTERM", quit);
    if (tty) print(rosStatusLine(source.status));
  }
}

/** The summary of a queue recording: the merged dataset, or the shards and how to merge them. */
function printQueued(r: QueueRecordResult, args: RecordArgs): void {
  const successes = r.episodes.filter((e) => e.success).length;
  const summary = {
    out: r.out,
    recorded: r.episodes.length,
    successes,
    aborted: r.aborted,
    merged: r.merged !== null,
    episodes: r.merged?.episodes ?? 0,
    frames: r.merged?.frames ?? 0,
    shards: r.shards,
  };
  const merge = `duet dataset merge ${r.out} ${r.shards.map((s) => s.path).join(" ")} --by-seed`;
  if (r.merged === null && r.shards.length > 0) {
    const where = r.shards.map((s) => `${s.host}:${s.path}`).join(", ");
    process.stderr.write(
      r.aborted
        ? `duet: the episodes committed before the stop are in the workers' shards (${where}); merge them with:\n  ${merge}\n`
        : `duet: the episodes are in the workers' shards (${where}); copy them to this machine and run:\n  ${merge}\n`,
    );
  }
  if (args.json) process.stdout.write(JSON.stringify(summary) + "\n");
  else
    process.stdout.write(
      `recorded ${summary.recorded} episodes (${successes} successful) on ${r.shards.length} shards` +
        `${r.aborted ? ", stopped early" : ""}` +
        (r.merged ? ` → ${r.out} (${summary.episodes} episodes, ${summary.frames} frames)` : "") +
        "\n",
    );
}

export function registerRecord(program: Command): void {
  documented(program.command("record"), {
    summary: "Record demonstrations (scripted expert in simulation, or a real robot) into a LeRobot v3.0 dataset",
    example:
      "duet record --scenario scenarios/bottle-cap.json --source expert --episodes 10 --workers 2 --out datasets/demo",
    details:
      "Layout: meta/, data/ parquet with PNG frames (docs/datasets.md). Each episode is " +
      "committed atomically when it ends: a crash or Ctrl-C loses at most the episodes in progress.\n\n" +
      "--source expert: the scripted expert in simulation. Episode k of the dataset is reset with seed S + k, so " +
      "--resume continues the same sequence, and --workers K writes the same dataset as one worker.\n\n" +
      "--source ros: a real robot through rosbridge, moved by an operator (teleoperation or by hand). Observations " +
      "come from joint states and cameras; actions are the measured next joint positions (--actions measured) or " +
      "the targets on the interface's command topics (--actions commanded). Episodes are bounded by keys " +
      `(${ROS_KEYS}) or by std_msgs/Empty messages on <topics>/start, <topics>/stop (commit) and ` +
      "<topics>/discard. Frames are evenly timed, so an episode never skips a step: a step with stale or missing " +
      "inputs ends the episode there (the part before is committed as not successful if it has --min-frames " +
      "frames, else discarded; the terminal says which) and recording goes on in a new episode; a disconnect " +
      "discards the episode in progress.",
  })
    .option("--source <source>", `where demonstrations come from: ${SOURCES.join(", ")}`, choiceArg(SOURCES), "expert")
    .requiredOption("--episodes <n>", "episodes to record in this run", intArg(1))
    .requiredOption("--out <dir>", "dataset folder (new or empty; existing only with --resume)")
    .option("--resume", "append to an existing dataset at --out", false)
    .option(
      "--task <text>",
      "task description stored with each episode (multi-task scenarios store each episode's instruction instead)",
      "unscrew the bottle cap",
    )
    .option("--json", "print the summary as JSON on stdout", false)
    .option("--scenario <file>", "expert: scenario JSON (e.g. scenarios/bottle-cap.json)")
    .option("--seed <s>", "expert: base seed", intArg(0), 0)
    .option("--workers <k>", "expert: worker threads simulating episodes", intArg(1), 1)
    .option(
      "--mode <mode>",
      "expert: which arm holds the bottle (random, left, right)",
      choiceArg(["random", "left", "right"] as const),
      "random",
    )
    .option(
      "--expert-noise <m>",
      "expert: std (m) of the noise on its pre-grasp waypoints (default: the scenario's expert.noise); the final " +
        "approach corrects it, so larger values record recoveries from misalignment",
      numberArg(0, 0.05),
    )
    .option(
      "--approach-offset <m>",
      "expert: std (m) of a sideways offset held on the final approach to the bottle until 6 cm out, where the hand " +
        "squares up: records the correction learned policies need there (default 0)",
      numberArg(0, 0.05),
    )
    .option(
      "--actuation-noise <rad>",
      "expert: std (rad) of a slowly varying tracking error on joints 1-6 while recording; the recorded actions are " +
        "the expert's own commands, which lead back to its path (DART). The expert tolerates about 0.002 (default 0)",
      numberArg(0, 0.05),
    )
    .option("--audio", "expert: synthesise contact sound (16 kHz) and record it as observation.audio", false)
    .option(
      "--lead-policy <dir>",
      "expert: a trained policy drives the first k steps of each episode (unrecorded), then the expert takes over " +
        "from where the arms are and is recorded: corrections from the states the policy reaches (DAgger-style)",
    )
    .option("--lead-steps <min:max>", "expert: range of k for --lead-policy (drawn per seed)", rangeArg, [5, 30])
    .option(
      "--queue <url>",
      "expert: record on the `duet worker`s of this Redis queue (redis://HOST:PORT), one job per seed, each worker " +
        "into its own shard; merged into --out when this machine can read the shards (docs/scale-out.md)",
    )
    .option("--robot-interface <file>", "ros: robot-interface JSON (see robot-interfaces/)")
    .option("--url <url>", "ros: rosbridge websocket URL", "ws://localhost:9090")
    .option(
      "--actions <src>",
      "ros: measured (next joint positions) or commanded",
      choiceArg(ACTION_SOURCES),
      "measured",
    )
    .option("--topics <prefix>", "ros: prefix of the start/stop/discard topics", "/duet/record")
    .option(
      "--min-frames <n>",
      "ros: an episode cut at a gap in the inputs is kept if it has at least n frames (default: one second of frames)",
      intArg(1),
    )
    .action(async (args: RecordArgs) => {
      if (args.source === "ros") {
        const r = await recordRos(args);
        const summary = {
          out: args.out,
          recorded: r.recorded.length,
          discarded: r.discarded,
          skipped_steps: r.skippedTotal,
          episodes: r.datasetEpisodes,
          frames: r.datasetFrames,
        };
        if (args.json) process.stdout.write(JSON.stringify(summary) + "\n");
        else
          process.stdout.write(
            `recorded ${summary.recorded} episodes (${summary.discarded} discarded) → ${args.out}` +
              ` (now ${summary.episodes} episodes, ${summary.frames} frames)\n`,
          );
        return;
      }
      if (args.queue !== undefined) {
        printQueued(await recordQueued(args), args);
        return;
      }
      const r = await record(args);
      const successes = r.recorded.filter((e) => e.success).length;
      const summary = {
        out: r.out,
        recorded: r.recorded.length,
        successes,
        aborted: r.aborted,
        episodes: r.datasetEpisodes,
        frames: r.datasetFrames,
      };
      if (args.json) process.stdout.write(JSON.stringify(summary) + "\n");
      else {
        process.stdout.write(
          `recorded ${summary.recorded} episodes (${successes} successful)${r.aborted ? ", stopped early" : ""} → ${r.out}` +
            ` (now ${summary.episodes} episodes, ${summary.frames} frames)\n`,
        );
      }
    });
}
