// duet record: record demonstrations from a source (the scripted expert in simulation) into a LeRobot v3.0 dataset.
// Every episode is committed when complete; Ctrl-C discards only the episode in progress; --resume appends.
import type { Command } from "commander";
import { DuetError, type Env, type Policy } from "../core/index.ts";
import { recordEpisodes, type RecordResult } from "../runner/record.ts";
import { createEnv, createExpert, loadScenario } from "../sim/index.ts";
import { choiceArg, intArg } from "./args.ts";
import { progressBar } from "./progress.ts";

/** Where demonstrations come from. Teleoperation and real robots are added here as they arrive. */
export const SOURCES = ["expert"] as const;
export type Source = (typeof SOURCES)[number];

interface RecordArgs {
  scenario: string;
  source: Source;
  episodes: number;
  seed: number;
  out: string;
  workers: number;
  resume: boolean;
  mode: "random" | "left" | "right";
  task: string;
  json: boolean;
}

/** Env and policy factories for a source. */
function sourceFactories(args: RecordArgs): { makeEnv: () => Env; makePolicy: (env: Env) => Policy } {
  switch (args.source) {
    case "expert": {
      const scenario = loadScenario(args.scenario); // validated before anything is written: one clear error
      const env = createEnv(scenario);
      return { makeEnv: () => env, makePolicy: () => createExpert(env, { mode: args.mode }) };
    }
  }
}

export async function record(args: RecordArgs): Promise<RecordResult> {
  if (args.workers !== 1) {
    throw new DuetError(`--workers ${args.workers}: recording runs in one process for now; use --workers 1`);
  }
  const { makeEnv, makePolicy } = sourceFactories(args);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130); // second Ctrl-C: committed episodes are safe on disk
    process.stderr.write("\nstopping: the episode in progress is discarded, committed episodes are kept\n");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  const bar = progressBar("record", args.episodes);
  let ok = 0;
  try {
    return await recordEpisodes({
      makeEnv,
      makePolicy,
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

export function registerRecord(program: Command): void {
  program
    .command("record")
    .description(
      "Record demonstrations into a LeRobot v3.0 dataset (meta/, data/ parquet with PNG frames).\n" +
        "Each episode is committed atomically when it ends: a crash or Ctrl-C loses at most the episode in progress.\n" +
        "Episode k of the dataset is reset with seed S + k, so --resume continues the same sequence.",
    )
    .requiredOption("--scenario <file>", "scenario JSON (e.g. scenarios/bottle-cap.json)")
    .option("--source <source>", `where demonstrations come from: ${SOURCES.join(", ")}`, choiceArg(SOURCES), "expert")
    .requiredOption("--episodes <n>", "episodes to record in this run", intArg(1))
    .option("--seed <s>", "base seed", intArg(0), 0)
    .requiredOption("--out <dir>", "dataset folder (new or empty; existing only with --resume)")
    .option("--workers <k>", "worker processes (1 for now)", intArg(1), 1)
    .option("--resume", "append to an existing dataset at --out", false)
    .option(
      "--mode <mode>",
      "expert: which arm holds the bottle (random, left, right)",
      choiceArg(["random", "left", "right"] as const),
      "random",
    )
    .option("--task <text>", "task description stored with each episode", "unscrew the bottle cap")
    .option("--json", "print the summary as JSON on stdout", false)
    .action(async (args: RecordArgs) => {
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
