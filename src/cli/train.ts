// duet train: train a policy on a dataset with a config file; optional periodic evaluation in simulation.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Option, type Command } from "commander";
import type { WeightPrecision } from "../nn/index.ts";
import { readPolicyModel } from "../policy/index.ts";
import { runEpisodes } from "../runner/rollout/index.ts";
import { rephrase } from "../sim/index.ts";
import { FEATURES_FILE, loadTrainConfig, train, type Evaluator, type TrainEvent } from "../train/index.ts";
import { capWorkers, intArg } from "./args.ts";
import { progressBar } from "./progress.ts";
import { documented } from "./help.ts";
import { warnIfUnfinished } from "./sim.ts";

interface TrainArgs {
  dataset: string;
  config: string;
  out: string;
  resume: boolean;
  initFrom?: string;
  observerFrom?: string;
  teacher?: string;
  clip?: string;
  textFrom?: string;
  weights: WeightPrecision;
  evalScenario?: string;
  evalEpisodes: number;
  evalWorkers: number;
  evalSeed: number;
}

/** Success rate of a model directory over fixed seeds (the same seeds at every evaluation, so points compare). */
function simEvaluator(args: TrainArgs, scenario: string, cameras: boolean): Evaluator {
  const seeds = Array.from({ length: args.evalEpisodes }, (_, i) => args.evalSeed + i);
  const workers = capWorkers(args.evalWorkers, (line) => process.stderr.write(`duet: --eval-${line.slice(2)}\n`));
  return async (policyDir) => {
    const outcomes = await runEpisodes({ scenario, policy: policyDir, cameras }, seeds, { workers });
    return { success_rate: outcomes.filter((o) => o.success).length / outcomes.length };
  };
}

/** A resumed, warm-restarted, frozen-observer or distilled run keeps the commands that made it so far (model.json
 * provenance.earlier_commands, oldest first): those of the run in --out (resume), of the run it starts from
 * (--init-from), of the run whose observer it freezes (--observer-from) or of the teacher it distills (--teacher). */
function earlierCommands(args: TrainArgs): { earlier_commands?: string[] } {
  const resumed = args.resume && existsSync(join(args.out, "model.json"));
  const from = resumed ? args.out : (args.initFrom ?? args.observerFrom ?? args.teacher);
  if (from === undefined || !existsSync(join(from, "model.json"))) return {};
  const prov = readPolicyModel(from).provenance as { command?: string; earlier_commands?: string[] };
  return { earlier_commands: [...(prov.earlier_commands ?? []), ...(prov.command ? [prov.command] : [])] };
}

export async function trainCommand(args: TrainArgs): Promise<void> {
  const config = loadTrainConfig(args.config);
  if (args.initFrom !== undefined) warnIfUnfinished(args.initFrom, "--init-from");
  if (args.observerFrom !== undefined) warnIfUnfinished(args.observerFrom, "--observer-from");
  if (args.teacher !== undefined) warnIfUnfinished(args.teacher, "--teacher");
  const cameras = config.policy.encoder !== null;
  // created when training starts: a frozen observer's features are computed first, with their own bar
  let bar: ReturnType<typeof progressBar> | undefined;
  let status = "";
  let featureBar: ReturnType<typeof progressBar> | undefined;
  let targetBar: ReturnType<typeof progressBar> | undefined;
  let targetTwentieths = 0;
  const log = (line: string): void => {
    process.stderr.write(`${process.stderr.isTTY ? "\r\x1b[K" : ""}${line}\n`);
  };
  const onEvent = (e: TrainEvent): void => {
    switch (e.kind) {
      case "start":
        bar = progressBar("train", config.train.steps);
        log(
          `${e.params} parameters; ${e.trainWindows} training windows, ${e.valWindows} validation; from step ${e.step}`,
        );
        break;
      case "step":
        status = `loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} ${e.samplesPerSecond.toFixed(0)} samples/s`;
        bar?.update(e.step, status);
        if (!process.stderr.isTTY) log(`step ${e.step}: ${status}`);
        break;
      case "features":
        featureBar ??= progressBar("observer features", e.total);
        featureBar.update(e.done);
        if (e.done === e.total) {
          featureBar.stop();
          const file = join(args.out, "train", `${FEATURES_FILE}.f32`);
          log(
            e.readBack === e.total
              ? `observer features of ${e.total} camera frames read back from ${file}`
              : `observer features of ${e.total} camera frames computed` +
                  (e.readBack > 0 ? ` (${e.readBack} of them read back from ${file})` : "") +
                  `, kept in ${file}`,
          );
        }
        break;
      case "targets":
        targetBar ??= progressBar("teacher samples", e.total);
        targetBar.update(e.done);
        if (e.done === e.total) {
          targetBar.stop();
          targetBar = undefined;
          log(`teacher samples of ${e.total} windows computed`);
          targetTwentieths = 0;
        } else if (!process.stderr.isTTY && Math.floor((20 * e.done) / e.total) > targetTwentieths) {
          targetTwentieths = Math.floor((20 * e.done) / e.total);
          log(`teacher samples: ${e.done} of ${e.total} windows`);
        }
        break;
      case "val":
        log(
          `step ${e.step}: validation loss ${e.loss.toFixed(4)}` +
            (e.sceneLoss !== undefined ? `, scene loss ${e.sceneLoss.toFixed(4)}` : ""),
        );
        break;
      case "eval":
        log(`step ${e.step}: success rate ${(100 * e.successRate).toFixed(1)}%`);
        break;
      case "checkpoint":
        if (!process.stderr.isTTY) log(`step ${e.step}: checkpoint ${e.path}`);
        break;
      case "done":
        break;
    }
  };
  const result = await train({
    dataset: args.dataset,
    config,
    configSource: args.config,
    out: args.out,
    resume: args.resume,
    ...(args.initFrom !== undefined && { initFrom: args.initFrom }),
    ...(args.observerFrom !== undefined && { observerFrom: args.observerFrom }),
    ...(args.teacher !== undefined && { teacher: args.teacher }),
    ...(args.clip !== undefined && { clip: args.clip }),
    ...(args.textFrom !== undefined && { textFrom: args.textFrom }),
    weights: args.weights,
    onEvent,
    rephrase,
    ...(args.evalScenario ? { evaluate: simEvaluator(args, resolve(args.evalScenario), cameras) } : {}),
    provenance: { command: `duet ${process.argv.slice(2).join(" ")}`, ...earlierCommands(args) },
  });
  bar?.stop();
  if (result.trainedSteps === 0) {
    console.log(`nothing left to train (step ${result.step} of ${config.train.steps}); re-exported ${result.modelDir}`);
    return;
  }
  console.log(
    `trained ${result.step} steps in ${result.wallSeconds.toFixed(0)} s (${result.samplesPerSecond.toFixed(0)} samples/s); ` +
      `loss ${result.loss.toFixed(4)}` +
      (result.valLoss !== null ? `, validation ${result.valLoss.toFixed(4)}` : "") +
      (result.successRate !== null ? `, success ${(100 * result.successRate).toFixed(1)}%` : "") +
      `; model in ${result.modelDir}`,
  );
}

export function registerTrain(program: Command): void {
  documented(program.command("train"), {
    summary: "Train a policy on a recorded dataset; writes a model directory (ONNX graphs, model.json, train/)",
    details:
      "Progress bar, validation loss, checkpoints every few hundred steps with exact resume, a loss plot in\n" +
      "train/curves.png. Configs are JSON files (configs/, fields in docs/training.md).",
    example: "duet train --dataset datasets/demo --config configs/tiny.json --out runs/tiny",
  })
    .requiredOption("--dataset <dir>", "LeRobot v3.0 dataset directory")
    .requiredOption("--config <file>", "training config JSON (see configs/)")
    .requiredOption("--out <dir>", "model directory to write, e.g. models/NAME")
    .option("--resume", "continue the run in --out from its checkpoint", false)
    .option(
      "--init-from <dir>",
      "start a new run from the weights of the run in <dir> (same network; its train/checkpoint.safetensors): a warm restart with a fresh schedule, to train a finished model longer or fine-tune it",
    )
    .option(
      "--observer-from <dir>",
      "train on the frozen camera encoders of <dir> (same policy.encoder): a training run (its train/checkpoint.safetensors, EMA weights) or an exported model such as models/bottle-cap-unet (its encoder.onnx); each frame's features are computed once (kept in --out's train/features.f32, read back on --resume) and only the rest of the policy trains, at about state-only speed, without image shifts or the scene loss",
    )
    .option(
      "--teacher <dir>",
      "distill the model in <dir> (a DDIM diffusion policy): the config's train.distill.ddimSteps-step sampler learns to give the teacher's sample from the same noise and observation, on the teacher's frozen observer; its samples are computed first, into --out (resumable)",
    )
    .option(
      "--clip <dir>",
      'goal-embedding policies (policy.goal {"camera", "embedding": "clip"}): a duet clip output folder; its image encoder embeds each episode\'s last frame of that camera (the clip run\'s) as the episode\'s goal, and is exported with the model (goal-image.onnx); required for such a config, refused for others (docs/multimodal.md)',
    )
    .option(
      "--text-from <dir>",
      "language-conditioned policies: start a new run's instruction encoder (policy.language) from the text encoder of a duet clip output folder (its text.safetensors, of the same config; duet clip --text-max-tokens); the rest of the policy starts as without it (docs/multimodal.md)",
    )
    .addOption(
      new Option(
        "--weights <precision>",
        "how the exported .onnx graphs store weights: float16 halves the files (the shipped models), inference runs in float32 either way; resume a finished run to re-export it",
      )
        .choices(["float32", "float16"])
        .default("float32"),
    )
    .option("--eval-scenario <file>", "evaluate in simulation at train.evalEvery steps and at the end")
    .option("--eval-episodes <n>", "episodes per evaluation", intArg(1), 10)
    .option("--eval-workers <k>", "worker threads for evaluation", intArg(1), 1)
    // validation seeds (docs/training.md, "Evaluation protocol"): never the test seeds from 2 000 000, and apart
    // from the 1 000 000–1 000 099 that `duet eval` compares finished runs on
    .option("--eval-seed <s>", "first seed of the evaluation episodes (validation seeds)", intArg(0), 1_500_000)
    .action(async (opts: TrainArgs) => {
      await trainCommand(opts);
    });
}
