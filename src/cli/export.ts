// duet export zarr: a dataset → diffusion_policy's zarr replay-buffer layout; duet export policy: a model directory's
// graphs rewritten with this version's graph code.
import type { Command } from "commander";
import { Dataset, exportZarr } from "../data/index.ts";
import { reexportPolicy, type RunSettings } from "../policy/index.ts";
import { intArg, numberArg } from "./args.ts";
import { progressBar } from "./progress.ts";
import { documented } from "./help.ts";

export function registerExport(program: Command): void {
  const exp = documented(program.command("export"), {
    summary: "Export a dataset to diffusion_policy's zarr layout, or rewrite a model's graphs (zarr, policy)",
    example: "duet export zarr datasets/demo runs/demo.zarr",
  });
  documented(exp.command("zarr"), {
    summary: "Write a dataset as diffusion_policy's replay buffer (zarr v2)",
    details:
      "data/state, data/action, data/timestamp, data/<camera> concatenated along time, meta/episode_ends (int64).\n" +
      "Chunks are uncompressed.",
    example: "duet export zarr datasets/demo runs/demo.zarr",
  })
    .argument("<dir>", "dataset folder")
    .argument("<out>", "output folder, e.g. demos.zarr (must not exist)")
    .action(async (dir: string, out: string) => {
      const ds = await Dataset.open(dir);
      const bar = progressBar("export", ds.episodes.length);
      try {
        const r = await exportZarr(ds, out, { onEpisode: (done) => bar.update(done) });
        bar.stop();
        process.stdout.write(
          `${r.out}: ${r.episodes} episodes, ${r.frames} frames; ` +
            Object.entries(r.arrays)
              .map(([k, s]) => `${k} ${JSON.stringify(s)}`)
              .join(", ") +
            "\n",
        );
      } finally {
        bar.stop();
      }
    });
  documented(exp.command("policy"), {
    summary:
      "Rewrite a trained policy's graphs with this version's code, optionally changing Ta, ensembling or guidance",
    example: "duet export policy models/bottle-cap-unet runs/unet-ta5 --action-steps 5 --ensemble 0",
    details:
      "Rewrite a trained policy's ONNX graphs with this version's graph code (faster graphs reach the models in " +
      "models/, which ship without training checkpoints), optionally changing how its chunks are executed. The " +
      "weights are read back out of the model's own graphs and keep their precision; the chunks it computes change " +
      "only with --guidance. model.json is written last; its provenance says what changed, and when.",
  })
    .argument("<dir>", "model directory, e.g. models/bottle-cap-unet")
    .argument("[out]", "where to write the model (default: in place)")
    .option("--action-steps <n>", "set inference.actionSteps, Ta: actions executed per chunk", intArg(1))
    .option(
      "--ensemble <beta>",
      "set inference.ensemble: each chunk blended with the previous one's plan for the same steps, weight beta on the previous",
      numberArg(0, 0.95),
    )
    .option(
      "--guidance <w>",
      "set inference.guidance (language-conditioned policies): classifier-free guidance on the instruction, which the unrolled sampler graph is then written with",
      numberArg(0, 20),
    )
    .action((dir: string, out: string | undefined, opts: RunSettings) => {
      const to = out ?? dir;
      const t0 = performance.now();
      const m = reexportPolicy(dir, to, opts);
      const { actionSteps, ensemble, guidance } = m.config.inference;
      process.stdout.write(
        `${to}: graphs rewritten in ${((performance.now() - t0) / 1000).toFixed(1)} s; Ta ${actionSteps}, ensemble ${ensemble}${guidance === undefined ? "" : `, guidance ${guidance}`}\n`,
      );
    });
}
