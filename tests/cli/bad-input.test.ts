// The bad-input suite (issue 41): every command, given input a new user might give it, exits with a status below 128
// (never an abort) and one message naming what was wrong, never a stack trace. Each row: the command line, the exit
// status expected, and a fragment of the message. Rows marked "worked before" keep earlier fixes working.
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { recordEpisodes } from "../../src/runner/record/index.ts";

interface Case {
  /** What the row checks (issue item in brackets). */
  name: string;
  /** Arguments after `duet`; a function when they need the fixtures. */
  args: () => string[];
  /** Exit status expected. */
  status: number;
  /** A fragment of stderr (or, with `stdout`, of stdout). */
  message: string | RegExp;
  stdout?: boolean;
  /** A command that waits (deploy): send SIGINT to its process group once stderr shows this, and expect it to end. */
  interruptWhen?: string;
}

/** The aborts of issue 41 happened only with worker threads: two episodes on two workers. */
const TWO_WORKERS = ["--episodes", "2", "--workers", "2"];

/** `duet train` with the tiny config. */
const trainTiny = (dataset: string, out: string): string[] => [
  "train",
  "--dataset",
  dataset,
  "--config",
  "configs/tiny.json",
  "--out",
  out,
];

let tmp = "";
const at = (...parts: string[]): string => join(tmp, ...parts);

/** A copy of the shipped model with one graph cut short, as a failed download leaves it. */
function truncatedModel(name: string, graph: string, bytes: number): string {
  const dir = at(name);
  cpSync("models/bottle-cap-unet", dir, { recursive: true });
  truncateSync(join(dir, graph), bytes);
  return dir;
}

/** A copy of the recorded dataset with meta/info.json edited. */
function editedDataset(name: string, edit: (info: Record<string, unknown>) => void): void {
  cpSync(at("dataset"), at(name), { recursive: true });
  const file = at(name, "meta", "info.json");
  const info = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(info);
  writeFileSync(file, JSON.stringify(info, null, 4));
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "duet-bad-input-"));
  await recordEpisodes({ job: { scenario: "scenarios/bottle-cap.json" }, out: at("dataset"), episodes: 1, seed: 0 });
  editedDataset("fps30", (info) => (info.fps = 30)); // 10 Hz timestamps
  editedDataset("action14", (info) => {
    (info.features as Record<string, { shape: number[] }>).action!.shape = [14];
  });
  truncatedModel("cut-sampler", "sampler.onnx", 1_763_885);
  truncatedModel("cut-encoder", "encoder.onnx", 300_000);
  // a multi-task scenario one of whose phrasings is longer than the language policy's text encoder takes
  const scenario = JSON.parse(readFileSync("scenarios/multi-task.json", "utf8")) as {
    robot: string;
    tasks: { instructions: { any: string[] } }[];
  };
  scenario.robot = resolve("robots/panda-pair.json");
  scenario.tasks[1]!.instructions.any.push(
    "lift the bottle slowly and carefully with whichever hand is closest to it right now",
  );
  writeFileSync(at("long-instruction.json"), JSON.stringify(scenario));
  writeFileSync(at("file.txt"), "not a folder\n");
  cpSync("models/bottle-cap-unet", at("shipped-copy"), { recursive: true });
  cpSync("models/bottle-cap-unet", at("unfinished"), { recursive: true });
  const model = JSON.parse(readFileSync(at("unfinished", "model.json"), "utf8")) as {
    provenance: Record<string, unknown>;
  };
  Object.assign(model.provenance, { steps: 300, total_steps: 500, unfinished: true });
  writeFileSync(at("unfinished", "model.json"), JSON.stringify(model));
  const noRobot = JSON.parse(readFileSync("scenarios/bottle-cap.json", "utf8")) as { robot: string };
  noRobot.robot = "robots/no-such-robot.json";
  writeFileSync(at("no-robot.json"), JSON.stringify(noRobot));
  // the shipped ROS 1 interface without its instruction topic
  const noTopic = JSON.parse(readFileSync("robot-interfaces/panda-pair-ros1.json", "utf8")) as Record<string, unknown>;
  noTopic.robot = resolve("robots/panda-pair.json");
  delete noTopic.instruction_topic;
  writeFileSync(at("no-instruction-topic.json"), JSON.stringify(noTopic));
  mkdirSync(at("unrelated"));
  writeFileSync(at("unrelated", "notes.txt"), "mine\n");
  mkdirSync(at("empty"));
  writeFileSync(at("bad-model.json"), "{");
  mkdirSync(at("bad-model"));
  writeFileSync(at("bad-model", "model.json"), '{"format": 1}');
});

const cases: Case[] = [
  // [1] no abort with two workers: problems every episode shares are found once, before any worker starts
  {
    name: "[A1] eval, a truncated sampler graph, 2 workers",
    args: () => ["eval", "--policy", at("cut-sampler"), ...TWO_WORKERS],
    status: 1,
    message: /cut-sampler\/sampler\.onnx: onnxruntime could not load the model/,
  },
  {
    name: "[A1] eval, a truncated encoder graph, 2 workers",
    args: () => ["eval", "--policy", at("cut-encoder"), ...TWO_WORKERS],
    status: 1,
    message: /cut-encoder\/encoder\.onnx: onnxruntime could not load the model/,
  },
  {
    name: "[A2] eval, a scenario phrasing longer than the text encoder takes, 2 workers",
    args: () => [
      "eval",
      "--policy",
      "models/multi-task-unet",
      "--scenario",
      at("long-instruction.json"),
      ...TWO_WORKERS,
    ],
    status: 1,
    message: "the text encoder takes at most 62",
  },
  {
    name: "[issue 38] eval, any text scored with --task, longer than the model's text encoder takes, 2 workers",
    args: () => [
      ...["eval", "--policy", "models/multi-task-unet", "--scenario", "scenarios/multi-task.json", "--task", "unscrew"],
      ...[
        "--hand",
        "right",
        "--instruction",
        "the right arm should hold the bottle while the left one removes the cap",
      ],
      ...TWO_WORKERS,
    ],
    status: 1,
    message:
      "is 71 UTF-8 bytes; the text encoder takes at most 62 (maxTokens 64, BOS and EOS included): the limit of " +
      "models/multi-task-unet's text encoder, fixed by its training (config.language.maxTokens); shorten the " +
      "instruction, or retrain with a larger policy.language.maxTokens",
  },
  {
    name: "[A2] sim, the same scenario, 2 workers",
    args: () => [
      "sim",
      "--policy",
      "models/multi-task-unet",
      "--scenario",
      at("long-instruction.json"),
      ...TWO_WORKERS,
    ],
    status: 1,
    message: "(tasks[].instructions): instruction",
  },
  {
    name: "[A3] sim --frames naming a file, 2 workers",
    args: () => ["sim", "--policy", "models/bottle-cap-unet", ...TWO_WORKERS, "--frames", at("file.txt")],
    status: 1,
    message: "--frames",
  },
  {
    name: "[A4] sim --replay naming a file, 2 workers",
    args: () => ["sim", "--policy", "models/bottle-cap-unet", ...TWO_WORKERS, "--replay", at("file.txt")],
    status: 1,
    message: "--replay",
  },
  {
    name: "[1] record with a lead policy whose graph does not load, 2 workers: refused before the dataset is made",
    args: () => [
      "record",
      "--scenario",
      "scenarios/bottle-cap.json",
      ...TWO_WORKERS,
      "--lead-policy",
      at("cut-sampler"),
      "--out",
      at("lead-dataset"),
    ],
    status: 1,
    message: /cut-sampler\/sampler\.onnx: onnxruntime could not load the model/,
  },
  // [6] raw traces that became named errors
  {
    name: "[6] sim --frames naming a file, 1 worker",
    args: () => ["sim", "--episodes", "1", "--frames", at("file.txt")],
    status: 1,
    message: /--frames .*file\.txt: cannot be created as a folder/,
  },
  {
    name: "[6] record --out naming a regular file",
    args: () => ["record", "--scenario", "scenarios/bottle-cap.json", "--episodes", "1", "--out", at("file.txt")],
    status: 1,
    message: "is a file, not a folder",
  },
  {
    name: "[6] view --port out of range",
    args: () => ["view", "--port", "99999"],
    status: 1,
    message: "expected a port number in [0, 65535]",
  },
  {
    name: "[6] view on a folder that does not exist",
    args: () => ["view", at("no-such-run"), "--port", "0"],
    status: 1,
    message: "no such file or folder",
  },
  {
    name: "[6] view on a file that is not a replay",
    args: () => ["view", at("file.txt"), "--port", "0"],
    status: 1,
    message: "invalid JSON",
  },
  // [5] sane limits
  {
    name: "[D5] sim --workers above the core count is capped with a warning",
    args: () => ["sim", "--no-cameras", "--episodes", "1", "--workers", "99"],
    status: 0,
    message: /--workers 99 is more than this machine's \d+ cores; using \d+/,
  },
  // [2] outputs are never overwritten by accident
  {
    name: "[D1] train --out a copy of a shipped model",
    args: () => trainTiny(at("no-dataset"), at("shipped-copy")),
    status: 1,
    message: "already holds a model (model.json)",
  },
  {
    name: "[D1] train --out an unrelated non-empty folder",
    args: () => trainTiny(at("no-dataset"), at("unrelated")),
    status: 1,
    message: "not empty (notes.txt) and not a training run",
  },
  {
    name: "[D1] train --out a regular file",
    args: () => trainTiny(at("no-dataset"), at("file.txt")),
    status: 1,
    message: "is a file, not a folder",
  },
  // [3] train refuses a dataset that validate rejects, with validate's problems
  {
    name: "[D3] train on a dataset whose fps does not match its timestamps",
    args: () => trainTiny(at("fps30"), at("m-fps30")),
    status: 1,
    message: /fps30: INVALID, \d+ problems — training refused[^]*row 1\.timestamp: expected 0\.0333/,
  },
  {
    name: "[6] train on a dataset whose info.json has a wrong action shape: the dataset is blamed, not the config",
    args: () => trainTiny(at("action14"), at("m-action14")),
    status: 1,
    message: /action14: INVALID[^]*action\.min: expected 14 numbers, received 16 numbers/,
  },
  {
    name: "[D3] dataset validate on the same dataset (the message train repeats)",
    args: () => ["dataset", "validate", at("fps30")],
    status: 1,
    message: /row 1\.timestamp: expected 0\.0333/,
    stdout: true,
  },
  {
    name: "[D2] dataset info shows the scenario recorded in, with the hash of its content",
    args: () => ["dataset", "info", at("dataset")],
    status: 0,
    message: /\n {2}scenario bottle-cap \(sha256 [0-9a-f]{64}\)\n/,
    stdout: true,
  },
  {
    name: "[D2] record --resume in another scenario than the dataset was recorded in",
    args: () => [
      "record",
      "--scenario",
      "scenarios/bottle-cap-easy.json",
      "--episodes",
      "1",
      "--out",
      at("dataset"),
      "--resume",
    ],
    status: 1,
    message: /recorded in scenario "bottle-cap" \(sha256 [0-9a-f]{12}…\); resuming it with scenario "bottle-cap-easy"/,
  },
  {
    name: "[D4] eval warns about a model exported before its run's last step (here: then stops at --replay)",
    args: () => ["eval", "--policy", at("unfinished"), "--episodes", "1", "--replay", at("file.txt")],
    status: 1,
    message: /warning: .*unfinished is unfinished: exported at step 300 of 500[^]*--replay/,
  },
  {
    name: "[D4] record --lead-policy warns about an unfinished model (here: then stops at --out)",
    args: () => [
      "record",
      "--scenario",
      "scenarios/bottle-cap.json",
      "--episodes",
      "1",
      "--lead-policy",
      at("unfinished"),
      "--out",
      at("file.txt"),
    ],
    status: 1,
    message:
      /warning: --lead-policy .*unfinished is unfinished: exported at step 300 of 500[^]*is a file, not a folder/,
  },
  {
    name: "[D4] train --init-from and --observer-from warn about an unfinished model (here: then stop: no checkpoint)",
    args: () => [
      "train",
      "--dataset",
      at("fps30"),
      "--config",
      "configs/tiny.json",
      "--out",
      at("m-from-unfinished"),
      "--init-from",
      at("unfinished"),
      "--observer-from",
      at("unfinished"),
    ],
    status: 1,
    message:
      /warning: --init-from .*unfinished is unfinished: exported at step 300 of 500 .*\n.*warning: --observer-from .*unfinished is unfinished: exported at step 300 of 500[^]*cannot start from it/,
  },
  {
    name: "[6] a scenario whose robot file does not exist names the scenario's robot field",
    args: () => ["sim", "--scenario", at("no-robot.json"), "--episodes", "1"],
    status: 1,
    message:
      /no-robot\.json: 1 invalid field\n {2}- robot: expected a robot description file[^]*no-such-robot\.json does not exist/,
  },
  {
    name: "[D4] deploy refuses an unfinished model unless --allow-unfinished",
    args: () => [
      "deploy",
      "--robot-interface",
      "robot-interfaces/panda-pair-ros1.json",
      "--policy",
      at("unfinished"),
      "--dry-run",
    ],
    status: 1,
    message: /unfinished is unfinished: exported at step 300 of 500 [^]*pass --allow-unfinished/,
  },
  {
    name: "[6] deploy with nothing listening at --url: says so and how to stop, keeps retrying; SIGINT ends it",
    args: () => [
      "deploy",
      "--robot-interface",
      "robot-interfaces/panda-pair-ros1.json",
      "--policy",
      "hold",
      "--url",
      "ws://127.0.0.1:9",
      "--dry-run",
    ],
    interruptWhen: "cannot connect",
    status: 0,
    message:
      /cannot connect to ws:\/\/127\.0\.0\.1:9: connection refused \(ECONNREFUSED\) \(attempt 1\); retrying in 200 ms, then every 5 s at most, until it answers — is rosbridge running there\? Ctrl-C stops\nclosed: quit \(SIGINT\); never connected to ws:\/\/127\.0\.0\.1:9, so nothing was sent/,
  },
  // issue 38, item 5: a language-conditioned policy on a robot, refused before connecting (nothing listens at --url)
  {
    name: "[38.5] deploy, a language-conditioned model with neither --instruction nor an instruction topic",
    args: () => [
      ...["deploy", "--robot-interface", at("no-instruction-topic.json"), "--policy", "models/multi-task-unet"],
      ...["--url", "ws://127.0.0.1:9"],
    ],
    status: 1,
    message:
      /models\/multi-task-unet is language-conditioned \(config\.language\): it is not run without an instruction\. Give the first episode's task with --instruction "TEXT", or add "instruction_topic": \{"topic": "\/duet\/instruction"\} to .*no-instruction-topic\.json/,
  },
  {
    name: "[38.5] deploy --instruction longer than the model's text encoder takes",
    args: () => [
      ...["deploy", "--robot-interface", "robot-interfaces/panda-pair-ros1.json", "--policy", "models/multi-task-unet"],
      ...[
        "--url",
        "ws://127.0.0.1:9",
        "--instruction",
        "hold the bottle in your left hand and unscrew the cap very slowly",
      ],
    ],
    status: 1,
    message:
      '--instruction: instruction "hold the bottle in your left hand and..." is 65 UTF-8 bytes; the text encoder ' +
      "takes at most 62 (maxTokens 64, BOS and EOS included): the limit of models/multi-task-unet's text encoder",
  },
  {
    name: "[38.5] deploy --instruction to a model that reads none",
    args: () => [
      ...["deploy", "--robot-interface", "robot-interfaces/panda-pair-ros1.json", "--policy", "models/bottle-cap-unet"],
      ...["--url", "ws://127.0.0.1:9", "--instruction", "unscrew the cap"],
    ],
    status: 1,
    message: "--instruction: models/bottle-cap-unet does not read instructions (its policy.language is null",
  },
  // issue 40: the queue and merging
  {
    name: "[40] sim --queue without redis://",
    args: () => ["sim", "--episodes", "1", "--queue", "localhost:6379"],
    status: 1,
    message: '--queue: expected redis://HOST:PORT (e.g. redis://127.0.0.1:6379), received "localhost:6379"',
  },
  {
    name: "[40] sim --queue with --workers and --replay: every problem at once",
    args: () => ["sim", "--episodes", "1", "--queue", "redis://127.0.0.1:9", "--workers", "2", "--replay", at("r")],
    status: 1,
    message:
      /--queue redis:\/\/127\.0\.0\.1:9:\n {2}--workers 2: the queue's workers play the episodes \(duet worker --concurrency\)\n {2}--replay: written where an episode runs, on a worker's machine; run without --queue/,
  },
  {
    name: "[40] record --queue --resume",
    args: () => [
      "record",
      "--scenario",
      "scenarios/bottle-cap.json",
      "--episodes",
      "1",
      "--out",
      at("dataset"),
      "--resume",
      "--queue",
      "redis://127.0.0.1:9",
    ],
    status: 1,
    message: "--resume: a queue recording is merged into a new dataset; record into a new --out",
  },
  {
    name: "[40] worker --queue with another scheme",
    args: () => ["worker", "--queue", "http://127.0.0.1:6379"],
    status: 1,
    message: '--queue: expected redis://HOST:PORT (e.g. redis://127.0.0.1:6379), received "http://127.0.0.1:6379"',
  },
  {
    name: "[40] dataset merge of datasets recorded at other rates: each shard and field named, nothing written",
    args: () => ["dataset", "merge", at("merged"), at("dataset"), at("fps30")],
    status: 1,
    message: /fps30\/meta\/info\.json: fps: expected 10, received 30/,
  },
  // worked before
  {
    name: "eval --policy a folder that does not exist",
    args: () => ["eval", "--policy", at("no-such-model"), "--episodes", "1"],
    status: 1,
    message: "no such model directory",
  },
  {
    name: "eval --policy a folder whose model.json is invalid",
    args: () => ["eval", "--policy", at("bad-model"), "--episodes", "1"],
    status: 1,
    message: "model.json",
  },
  {
    name: "sim --episodes 0",
    args: () => ["sim", "--episodes", "0"],
    status: 1,
    message: 'expected an integer >= 1, received "0"',
  },
  {
    name: "[38.3] eval --guidance for a model that reads no instruction",
    args: () => ["eval", "--policy", "models/bottle-cap-unet", "--guidance", "2"],
    status: 1,
    message: "--guidance 2: models/bottle-cap-unet reads no instruction",
  },
  {
    name: "[38.3] sim --guidance for the scripted expert",
    args: () => ["sim", "--guidance", "2"],
    status: 1,
    message: "--guidance 2: expert reads no instruction",
  },
  {
    name: "[38.3] sim --guidance below 0",
    args: () => ["sim", "--policy", "models/multi-task-unet", "--guidance", "-1"],
    status: 1,
    message: 'expected a number in [0, 20], received "-1"',
  },
  {
    name: "[38.3] bench language --guidance above 20: the message, not a stack trace",
    args: () => ["--bench", "language", "--guidance", "30"],
    status: 1,
    message: 'bench language: --guidance: expected a number in [0, 20], received "30"',
  },
  {
    name: "sim --mode not an arm",
    args: () => ["sim", "--mode", "bogus"],
    status: 1,
    message: "expected one of random, left, right",
  },
  {
    name: "sim --scenario a file that does not exist",
    args: () => ["sim", "--scenario", at("no-such.json"), "--episodes", "1"],
    status: 1,
    message: "cannot read file (ENOENT)",
  },
  {
    name: "sim --scenario a file that is not JSON",
    args: () => ["sim", "--scenario", at("bad-model.json"), "--episodes", "1"],
    status: 1,
    message: "invalid JSON",
  },
  {
    name: "train --config a file that does not exist",
    args: () => ["train", "--dataset", at("no-dataset"), "--config", at("no-such.json"), "--out", at("o1")],
    status: 1,
    message: "cannot read file (ENOENT)",
  },
  {
    name: "train --resume on an empty folder",
    args: () => [
      "train",
      "--dataset",
      at("no-dataset"),
      "--config",
      "configs/tiny.json",
      "--out",
      at("empty"),
      "--resume",
    ],
    status: 1,
    message: "nothing to resume",
  },
  {
    name: "record --resume into a folder that is not a dataset",
    args: () => [
      "record",
      "--scenario",
      "scenarios/bottle-cap.json",
      "--episodes",
      "1",
      "--out",
      at("unrelated"),
      "--resume",
    ],
    status: 1,
    message: "not a dataset (no meta/info.json) and not empty",
  },
  {
    name: "record --source expert without a scenario",
    args: () => ["record", "--episodes", "1", "--out", at("ds")],
    status: 1,
    message: "--scenario <file> is required with --source expert",
  },
  {
    name: "dataset validate a folder that does not exist",
    args: () => ["dataset", "validate", at("no-dataset")],
    status: 1,
    message: "INVALID",
    stdout: true,
  },
  {
    name: "deploy without a robot interface",
    args: () => ["deploy", "--policy", "hold"],
    status: 1,
    message: "required option '--robot-interface <file>' not specified",
  },
];

/**
 * Run `duet ...args` to its end; with `interruptWhen`, SIGINT its process group (as Ctrl-C does) once stderr shows
 * that fragment, and SIGKILL it if it has not ended 20 s later (the row then fails on the signal).
 */
function duet(
  args: string[],
  interruptWhen?: string,
): Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["bin/duet.js", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: interruptWhen !== undefined,
    });
    let stdout = "";
    let stderr = "";
    let interrupted = false;
    let killer: NodeJS.Timeout | undefined;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (interruptWhen === undefined || interrupted || !stderr.includes(interruptWhen)) return;
      interrupted = true;
      process.kill(-(child.pid as number), "SIGINT");
      killer = setTimeout(() => process.kill(-(child.pid as number), "SIGKILL"), 20_000);
    });
    child.on("close", (status, signal) => {
      clearTimeout(killer);
      done({ status, signal, stdout, stderr });
    });
  });
}

describe("bad input: a named error and a plain exit status, never an abort or a stack trace", () => {
  it.each(cases)(
    "$name",
    async (c) => {
      const r = await duet(c.args(), c.interruptWhen);
      expect(r.signal).toBeNull();
      expect(r.status).toBe(c.status);
      expect(r.status).toBeLessThan(128);
      expect(c.stdout ? r.stdout : r.stderr).toMatch(c.message);
      const all = r.stdout + r.stderr;
      expect(all).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m); // a stack frame
      expect(all).not.toContain("terminate called");
      expect(all).not.toMatch(/\b[A-Za-z]*Error(\s\[[A-Z_]+\])?: /); // node's own "RangeError [ERR_…]: ", "Error: ENOTDIR"
    },
    60_000,
  );
});
