// duet clip: CLIP-style text–image training on a multi-task dataset, then text↔image retrieval on held-out episodes.
// duet bind-audio: an audio encoder bound to a clip run's frozen image space, then audio→image retrieval.
import type { Command } from "commander";
import { DuetError, type Arm } from "../core/index.ts";
import { loadScenario, longestPhrasingBytes, rephrase } from "../sim/index.ts";
import {
  DEFAULT_CLIP_TEXT,
  trainAudioImage,
  trainTextImage,
  type InstructionMeaning,
  type TextImageOptions,
} from "../train/index.ts";
import { intArg, numberArg } from "./args.ts";
import { progressBar } from "./progress.ts";
import { documented } from "./help.ts";

interface ClipArgs {
  dataset: string;
  scenario: string;
  out: string;
  camera?: string;
  steps: number;
  batch: number;
  lastFrames: number;
  lr: number;
  seed: number;
  paraphrase: number;
  textMaxTokens: number;
  json: boolean;
}

/**
 * `--paraphrase P` → the grammar's rephrasing with probability P (undefined at 0); refused, naming both flags, when
 * the grammar's longest phrasing is more than a text encoder of `maxTokens` reads.
 */
function grammarParaphrase(probability: number, maxTokens: number): TextImageOptions["paraphrase"] {
  if (probability === 0) return undefined;
  const longest = longestPhrasingBytes();
  if (longest > maxTokens - 2) {
    throw new DuetError(
      `--paraphrase ${probability}: the paraphrase grammar's longest phrasing is ${longest} UTF-8 bytes, and a text ` +
        `encoder of --text-max-tokens ${maxTokens} reads at most ${maxTokens - 2}; pass --text-max-tokens ${longest + 2} or more`,
    );
  }
  return { probability, rephrase };
}

/** Every phrasing of a multi-task scenario → the task it asks for and the hand it names. */
export function instructionMeanings(scenarioFile: string): Map<string, InstructionMeaning> {
  const scenario = loadScenario(scenarioFile);
  if (!scenario.tasks) {
    throw new DuetError(
      `${scenarioFile} has no task list: text–image training needs a multi-task scenario (e.g. scenarios/multi-task.json)`,
    );
  }
  const meanings = new Map<string, InstructionMeaning>();
  for (const t of scenario.tasks) {
    for (const [key, phrasings] of Object.entries(t.instructions)) {
      for (const p of phrasings ?? []) meanings.set(p, { task: t.task, hand: key === "any" ? null : (key as Arm) });
    }
  }
  return meanings;
}

export function registerClip(program: Command): void {
  documented(program.command("clip"), {
    summary: "Train a text and an image encoder into one embedding space on a multi-task recording",
    example: "duet clip --dataset datasets/multi-task --scenario scenarios/multi-task.json --out runs/clip --steps 300",
    details:
      "Symmetric InfoNCE with a learned temperature, " +
      "on the last frames of each episode of a multi-task dataset paired with its instruction, then report\n" +
      "text→image and image→text Recall@1 on held-out episodes against chance. Writes image.onnx, text.onnx,\n" +
      "text.safetensors (the text encoder's weights, for duet train --text-from) and result.json to --out.",
  })
    .requiredOption("--dataset <dir>", "dataset recorded from a multi-task scenario (duet record --scenario …)")
    .option("--scenario <file>", "the multi-task scenario it was recorded from", "scenarios/multi-task.json")
    .requiredOption("--out <dir>", "output folder")
    .option("--camera <name>", "camera whose frames are paired (default: the dataset's first)")
    .option("--steps <n>", "optimizer steps", intArg(1), 300)
    .option("--batch <n>", "pairs per batch", intArg(2), 32)
    .option("--last-frames <n>", "frames from each episode's end paired with its instruction", intArg(1), 5)
    .option("--lr <x>", "peak learning rate", numberArg(1e-6, 1), 5e-4)
    .option("--seed <s>", "seed (parameters, batches, held-out split, paraphrases)", intArg(0), 0)
    .option(
      "--paraphrase <p>",
      "share of training pairs whose instruction is another phrasing of its task and hand, drawn from the paraphrase grammar that train.augment.paraphrase uses",
      numberArg(0, 1, "open"),
      0,
    )
    .option(
      "--text-max-tokens <n>",
      "tokens per instruction of the text encoder, BOS and EOS included (a policy's policy.language.maxTokens, for duet train --text-from)",
      intArg(3, 512),
      DEFAULT_CLIP_TEXT.maxTokens,
    )
    .option("--json", "print one JSON result object on stdout", false)
    .action(async (args: ClipArgs) => {
      const meanings = instructionMeanings(args.scenario);
      const paraphrase = grammarParaphrase(args.paraphrase, args.textMaxTokens);
      const bar = progressBar("clip", args.steps);
      const result = await trainTextImage({
        dataset: args.dataset,
        meanings,
        out: args.out,
        ...(args.camera !== undefined && { camera: args.camera }),
        steps: args.steps,
        batch: args.batch,
        lastFrames: args.lastFrames,
        lr: args.lr,
        seed: args.seed,
        text: { maxTokens: args.textMaxTokens },
        ...(paraphrase && { paraphrase }),
        onStep: (step, loss) => bar.update(step, `loss ${loss.toFixed(3)}`),
      });
      bar.stop();
      if (args.json) {
        console.log(JSON.stringify(result));
        return;
      }
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      console.log(
        `text→image Recall@1 ${pct(result.text_to_image_recall_at_1)} (chance ${pct(result.text_to_image_chance)}, ` +
          `${result.queries} queries over ${result.gallery} held-out episodes); image→text Recall@1 ` +
          `${pct(result.image_to_text_recall_at_1)} (chance ${pct(result.image_to_text_chance)}); ` +
          `final loss ${result.final_loss.toFixed(3)}, temperature ${result.temperature.toFixed(3)}, ${result.wall_s.toFixed(0)} s`,
      );
    });
}

interface BindArgs {
  dataset: string;
  clip: string;
  out: string;
  steps: number;
  batch: number;
  windowSteps: number;
  lr: number;
  seed: number;
  json: boolean;
}

export function registerBindAudio(program: Command): void {
  documented(program.command("bind-audio"), {
    summary: "Bind an audio encoder to a clip run's frozen image embedding space",
    example: "duet bind-audio --dataset datasets/audio --clip runs/clip --out runs/audio",
    details:
      "Train an audio encoder (spectrogram transformer) so the sound of the last second before each frame lands on\n" +
      "that frame's embedding by a duet clip run's frozen image encoder (no audio–text pairs), then report\n" +
      "audio→image Recall@1/@5 and the median rank on held-out episodes against chance. Writes audio.onnx and\n" +
      "result.json to --out.",
  })
    .requiredOption("--dataset <dir>", "dataset recorded with duet record --audio")
    .requiredOption("--clip <dir>", "a duet clip output folder (image.onnx, result.json)")
    .requiredOption("--out <dir>", "output folder")
    .option("--steps <n>", "optimizer steps", intArg(1), 400)
    .option("--batch <n>", "pairs per batch", intArg(2), 32)
    .option("--window-steps <n>", "control periods of sound before each frame", intArg(1), 10)
    .option("--lr <x>", "peak learning rate", numberArg(1e-6, 1), 5e-4)
    .option("--seed <s>", "seed (parameters, batches, held-out split, gallery)", intArg(0), 0)
    .option("--json", "print one JSON result object on stdout", false)
    .action(async (args: BindArgs) => {
      const bar = progressBar("bind-audio", args.steps);
      const r = await trainAudioImage({
        dataset: args.dataset,
        clip: args.clip,
        out: args.out,
        steps: args.steps,
        batch: args.batch,
        windowSteps: args.windowSteps,
        lr: args.lr,
        seed: args.seed,
        onStep: (step, loss) => bar.update(step, `loss ${loss.toFixed(3)}`),
      });
      bar.stop();
      if (args.json) {
        console.log(JSON.stringify(r));
        return;
      }
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      console.log(
        `audio→image over ${r.gallery} held-out frames: Recall@1 ${pct(r.audio_to_image_recall_at_1)} (chance ` +
          `${pct(r.chance_at_1)}), Recall@5 ${pct(r.audio_to_image_recall_at_5)} (chance ${pct(r.chance_at_5)}), ` +
          `median rank ${r.median_rank} (chance ${r.chance_median_rank}); ${r.wall_s.toFixed(0)} s`,
      );
    });
}
