// duet prior: a diffusion prior from a clip run's text embeddings to its image embeddings of goal frames, then its
// held-out scores against CLIP's own text→image retrieval and chance.
import type { Command } from "commander";
import { trainPrior } from "../train/index.ts";
import { intArg, numberArg } from "./args.ts";
import { instructionMeanings } from "./clip.ts";
import { documented } from "./help.ts";
import { progressBar } from "./progress.ts";

interface PriorArgs {
  clip: string;
  dataset: string;
  scenario: string;
  out: string;
  steps: number;
  batch: number;
  lr: number;
  lastFrames: number;
  samplingSteps: number;
  seed: number;
  json: boolean;
}

export function registerPrior(program: Command): void {
  documented(program.command("prior"), {
    summary: "Train a diffusion prior from a clip run's instruction embeddings to its goal-frame embeddings",
    example: "duet prior --clip runs/clip --dataset datasets/multi-task --out runs/prior --steps 2000",
    details:
      "DALL-E 2's prior, small: an MLP denoiser, conditioned on the CLIP text embedding of an episode's instruction,\n" +
      "learns to sample the CLIP image embedding of its last frames (both through the clip run's frozen encoders).\n" +
      "On the clip run's held-out episodes it reports the mean cosine of a sample with the true goal, and how often\n" +
      "the held-out goal nearest to the sample did what the instruction asks, against the text embedding itself\n" +
      "(CLIP's text→image retrieval) and chance. Writes prior.onnx (text embedding, noise → image embedding: the\n" +
      "unrolled DDIM sampler), text.onnx (the clip run's text encoder, copied), result.json (with the SHA-256 of the\n" +
      "clip run's image.onnx) and log.jsonl to --out: a folder that duet sim|eval --prior gives a goal-embedding\n" +
      "policy (trained with duet train --clip on the same clip run) as its source of goals from instructions.",
  })
    .requiredOption("--clip <dir>", "a duet clip output folder (image.onnx, text.onnx, result.json)")
    .requiredOption("--dataset <dir>", "the multi-task recording the clip run was trained on")
    .option("--scenario <file>", "the multi-task scenario it was recorded from", "scenarios/multi-task.json")
    .requiredOption("--out <dir>", "output folder")
    .option("--steps <n>", "optimizer steps", intArg(1), 2000)
    .option("--batch <n>", "pairs per batch", intArg(1), 64)
    .option("--lr <x>", "peak learning rate", numberArg(1e-6, 1), 1e-3)
    .option("--last-frames <n>", "frames from each episode's end taken as its goal", intArg(1), 5)
    .option("--sampling-steps <n>", "DDIM steps of the exported sampler (of 100 trained)", intArg(1, 100), 10)
    .option("--seed <s>", "seed (parameters, batches, noise; the split is the clip run's)", intArg(0), 0)
    .option("--json", "print one JSON result object on stdout", false)
    .action(async (args: PriorArgs) => {
      const meanings = instructionMeanings(args.scenario);
      const bar = progressBar("prior", args.steps);
      const r = await trainPrior({
        clip: args.clip,
        dataset: args.dataset,
        meanings,
        out: args.out,
        steps: args.steps,
        batch: args.batch,
        lr: args.lr,
        lastFrames: args.lastFrames,
        config: { samplingSteps: args.samplingSteps },
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
        `over ${r.queries} held-out instructions: the goal nearest the prior's sample did what was asked in ` +
          `${pct(r.prior_recall_at_1)}, nearest the text embedding in ${pct(r.text_recall_at_1)} (chance ` +
          `${pct(r.chance_at_1)}); naming a hand (${r.named_hand_queries}): ${pct(r.prior_named_hand_recall_at_1)}, ` +
          `${pct(r.text_named_hand_recall_at_1)} (chance ${pct(r.named_hand_chance_at_1)}). Mean cosine with the ` +
          `true goal: prior ${r.prior_cosine.toFixed(3)}, text ${r.text_cosine.toFixed(3)} (other goals of the same ` +
          `meaning ${r.same_meaning_cosine.toFixed(3)}, of others ${r.other_meaning_cosine.toFixed(3)}); final loss ${r.final_loss.toFixed(4)}, ${r.wall_s.toFixed(0)} s`,
      );
    });
}
