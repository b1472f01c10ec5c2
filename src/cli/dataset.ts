// duet dataset info|validate|merge: summarize a dataset, check every file of it (exit 0 only when valid), or merge
// datasets (a queue recording's shards) into one.
import type { Command } from "commander";
import { wilson95 } from "../core/index.ts";
import {
  Dataset,
  formatProblem,
  mergeDatasets,
  validateDataset,
  type MergeResult,
  type ValidationReport,
} from "../data/index.ts";
import { documented } from "./help.ts";
import { progressBar } from "./progress.ts";

/** `duet dataset info --json` output. */
export interface DatasetSummary {
  root: string;
  codebase_version: string;
  robot_type: string | null;
  /** The simulated scenario recorded in, with the SHA-256 of its content (null: a robot, or an older dataset). */
  scenario: { name: string; sha256: string } | null;
  episodes: number;
  frames: number;
  fps: number;
  features: Record<string, { dtype: string; shape: number[] }>;
  tasks: string[];
  /** Task (a multi-task recording's instruction) → episodes that did it. */
  episodes_per_task: Record<string, number>;
  successes: number;
  success_rate: number;
  wilson95: [number, number];
  /** Mode (which arm held the bottle) → episodes. */
  modes: Record<string, number>;
  episode_lengths: { min: number; mean: number; max: number };
}

export async function datasetInfo(dir: string): Promise<DatasetSummary> {
  const ds = await Dataset.open(dir);
  const n = ds.episodes.length;
  const successes = ds.episodes.filter((e) => e.success).length;
  const modes: Record<string, number> = {};
  const perTask: Record<string, number> = {};
  for (const e of ds.episodes) {
    modes[e.mode || "unknown"] = (modes[e.mode || "unknown"] ?? 0) + 1;
    for (const t of e.tasks) perTask[t] = (perTask[t] ?? 0) + 1;
  }
  const lengths = ds.episodes.map((e) => e.length);
  return {
    root: dir,
    codebase_version: ds.info.codebase_version,
    robot_type: ds.info.robot_type,
    scenario: ds.info.scenario ?? null,
    episodes: n,
    frames: ds.totalFrames,
    fps: ds.info.fps,
    features: Object.fromEntries(
      Object.entries(ds.info.features).map(([k, f]) => [k, { dtype: f.dtype, shape: f.shape }]),
    ),
    tasks: [...ds.tasks],
    episodes_per_task: perTask,
    successes,
    success_rate: n ? successes / n : 0,
    wilson95: wilson95(successes, n),
    modes,
    episode_lengths: {
      min: n ? Math.min(...lengths) : 0,
      mean: n ? ds.totalFrames / n : 0,
      max: n ? Math.max(...lengths) : 0,
    },
  };
}

export function formatInfo(s: DatasetSummary): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `${s.root}: LeRobot ${s.codebase_version} dataset, robot ${s.robot_type ?? "unknown"}`,
    `  scenario ${s.scenario ? `${s.scenario.name} (sha256 ${s.scenario.sha256})` : "not recorded (a robot or teleoperation recording, or an older dataset)"}`,
    `  episodes ${s.episodes}, frames ${s.frames}, fps ${s.fps} (${(s.frames / s.fps / 60).toFixed(1)} min)`,
    `  episode length min ${s.episode_lengths.min} / mean ${s.episode_lengths.mean.toFixed(1)} / max ${s.episode_lengths.max}`,
    `  success ${s.successes}/${s.episodes} = ${pct(s.success_rate)} (95% CI ${pct(s.wilson95[0])}–${pct(s.wilson95[1])})`,
    `  modes ${
      Object.entries(s.modes)
        .map(([m, k]) => `${m} ${k}`)
        .join(", ") || "(none)"
    }`,
    `  tasks ${s.tasks.map((t) => `${JSON.stringify(t)} ${s.episodes_per_task[t] ?? 0}`).join(", ") || "(none)"}`,
    "  features:",
    ...Object.entries(s.features).map(
      ([k, f]) => `    ${k.padEnd(32)} ${f.dtype.padEnd(8)} ${JSON.stringify(f.shape)}`,
    ),
  ];
  return lines.join("\n") + "\n";
}

export function formatReport(r: ValidationReport): string {
  const lines = r.ok
    ? [
        `${r.root}: valid LeRobot v3.0 dataset, ${r.episodes} episodes, ${r.frames} frames${r.finishedCommit ? " (finished an interrupted commit)" : ""}`,
      ]
    : [
        `${r.root}: INVALID, ${r.problems.length} problem${r.problems.length === 1 ? "" : "s"}`,
        ...r.problems.map(formatProblem),
      ];
  // A data file loads as a whole: the sound episodes that share one with a damaged episode cannot be loaded either.
  for (const f of r.damagedFiles) {
    const also =
      f.sound.length === 0
        ? ""
        : `; ${f.sound.length === 1 ? "episode" : "episodes"} ${f.sound.join(", ")} in the same file cannot be loaded ` +
          "either until it is repaired (a data file loads as a whole)";
    lines.push(
      `  damaged ${f.damaged.length === 1 ? "episode" : "episodes"} ${f.damaged.join(", ")} (${f.file})${also}`,
    );
  }
  const sound = r.dataFiles - r.damagedFiles.length;
  if (r.damagedFiles.length > 0 && sound > 0)
    lines.push(`  the episodes in the other ${sound} data file${sound === 1 ? "" : "s"} remain readable`);
  // warnings do not make a dataset invalid (say, joint-state jumps beyond the robot's velocity limits)
  if (r.warnings.length > 0)
    lines.push(`warning${r.warnings.length === 1 ? "" : "s"}:`, ...r.warnings.map(formatProblem));
  return lines.join("\n") + "\n";
}

export function registerDataset(program: Command): void {
  const dataset = documented(program.command("dataset"), {
    summary: "Inspect, check and merge LeRobot v3.0 datasets (info, validate, merge)",
    example: "duet dataset info datasets/demo",
  });
  documented(dataset.command("info"), {
    summary: "Summary of a dataset: episodes, frames, fps, features, tasks, success rate, modes",
    example: "duet dataset info datasets/demo --json",
  })
    .argument("<dir>", "dataset folder")
    .option("--json", 'print JSON {"episodes", "frames", "fps", "features", ...} on stdout', false)
    .action(async (dir: string, opts: { json: boolean }) => {
      const s = await datasetInfo(dir);
      process.stdout.write(opts.json ? JSON.stringify(s) + "\n" : formatInfo(s));
    });
  documented(dataset.command("validate"), {
    summary: "Check a dataset against the LeRobot v3.0 layout; exits 0 only when it is valid",
    details:
      "Checks every file against the layout and against each other (totals, indices, timestamps, column types,\n" +
      "PNG frames, statistics). Finishes a commit a crash interrupted.",
    example: "duet dataset validate datasets/demo",
  })
    .argument("<dir>", "dataset folder")
    .option("--json", "print the report as JSON on stdout", false)
    .action(async (dir: string, opts: { json: boolean }) => {
      const r = await validateDataset(dir);
      process.stdout.write(opts.json ? JSON.stringify(r) + "\n" : formatReport(r));
      if (!r.ok) process.exitCode = 1;
    });
  documented(dataset.command("merge"), {
    summary: "Merge datasets (the shards of a queue recording) into one LeRobot v3.0 dataset",
    details:
      "Episode and frame indices are renumbered, tasks unified, and the statistics aggregated exactly from the\n" +
      "episodes' (as for a recording of the same episodes); camera frames are copied as stored. The datasets must\n" +
      "record the same features at the same fps for the same robot type: others are refused, each difference named.\n" +
      "--by-seed orders the episodes by seed and takes a seed found in several shards once (a queue job retried after\n" +
      "its worker committed the episode): the shards of `duet record --queue` then give the dataset a local recording\n" +
      "of the same seeds gives. The merged dataset names the scenario only when every dataset names the same one.",
    example: "duet dataset merge datasets/demo shards/run-1/host-a shards/run-1/host-b --by-seed",
  })
    .argument("<out>", "new dataset folder")
    .argument("<shards...>", "datasets to merge, in this order")
    .option("--by-seed", "order episodes by seed; a seed found in several datasets is taken once", false)
    .option("--json", "print the result as JSON on stdout", false)
    .action(async (out: string, shards: string[], opts: { bySeed: boolean; json: boolean }) => {
      let bar = null as ReturnType<typeof progressBar> | null; // made at the first episode, when the total is known
      let r: MergeResult;
      try {
        r = await mergeDatasets(out, shards, {
          order: opts.bySeed ? "seed" : "shards",
          onEpisode: (done, total) => (bar ??= progressBar("merge", total)).update(done),
        });
      } finally {
        bar?.stop();
      }
      if (r.scenarios.length > 0) {
        process.stderr.write(
          `duet: the datasets name different scenarios (${r.scenarios.map((sc) => `"${sc.name}"`).join(", ")}); ` +
            `${out} names none\n`,
        );
      }
      if (opts.json) process.stdout.write(JSON.stringify(r) + "\n");
      else
        process.stdout.write(
          `merged ${r.shards.length} datasets → ${out}: ${r.episodes} episodes, ${r.frames} frames` +
            (r.duplicates > 0 ? ` (${r.duplicates} copies of a seed left out)` : "") +
            "\n",
        );
    });
}
