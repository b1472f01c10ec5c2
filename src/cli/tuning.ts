// Run-time overrides of a trained policy's sampling (`duet sim` and `duet eval`): DDIM steps, the initial noise's
// scale, Ta, temporal ensembling and the instruction's guidance scale. Defaults are what the model's model.json says.
import type { Command } from "commander";
import type { PolicyTuning } from "../runner/deploy/index.ts";
import { intArg, numberArg } from "./args.ts";

export interface TuningArgs {
  ddimSteps?: number;
  noiseScale?: number;
  actionSteps?: number;
  ensemble?: number;
  guidance?: number;
  episodeNoise?: boolean;
}

/** --guidance's help (duet sim, duet eval). */
const GUIDANCE_HELP =
  "language-conditioned policies: classifier-free guidance on the instruction, w in [0, 20]: each denoising step takes u + w·(c − u) from the predictions with (c) and without (u) the instruction, so above 1 weighs the instruction more and 0 ignores it, at twice the denoiser work (default: the model's inference.guidance, else 1: none). Meaningful only for a model trained with train.augment.dropInstruction > 0; other policies refuse the flag";

export function addTuningOptions(command: Command): Command {
  return command
    .option("--ddim-steps <n>", "trained policies: DDIM steps per chunk (default: the model's)", intArg(1))
    .option(
      "--noise-scale <s>",
      "trained policies: standard deviation of the noise each chunk starts from (default: the model's inference.noiseScale, else 1; below 1 samples nearer the modes)",
      numberArg(0, 10),
    )
    .option("--action-steps <n>", "trained policies: Ta, actions executed per chunk (default: the model's)", intArg(1))
    .option(
      "--ensemble <beta>",
      "trained policies: temporal ensembling, each chunk blended with the previous one's actions for the same steps, weight beta on the previous (default: the model's inference.ensemble, else 0: off)",
      numberArg(0, 0.95),
    )
    .option("--guidance <w>", GUIDANCE_HELP, numberArg(0, 20))
    .option(
      "--episode-noise",
      "trained policies: start every chunk of an episode from the same noise (consecutive chunks keep to one mode)",
    );
}

export function tuningOf(args: TuningArgs): PolicyTuning {
  return {
    ...(args.ddimSteps !== undefined && { inferenceSteps: args.ddimSteps }),
    ...(args.noiseScale !== undefined && { noiseScale: args.noiseScale }),
    ...(args.actionSteps !== undefined && { actionSteps: args.actionSteps }),
    ...(args.ensemble !== undefined && { ensemble: args.ensemble }),
    ...(args.guidance !== undefined && { guidance: args.guidance }),
    ...(args.episodeNoise !== undefined && { episodeNoise: args.episodeNoise }),
  };
}
