// duet export zarr: a dataset → diffusion_policy's zarr replay-buffer layout; duet export policy: a model directory's
// graphs rewritten with this version's graph code.
import type { Command } from "commander";
import { Dataset, exportZarr } from "../data/index.ts";
import { reexportPolicy, type RunSettings } from "../policy/index.ts";
import { intArg, numberArg } from "./args.ts";
import { progressBar } from "./progress.ts";

export function registerExport(program: Command): void {
  const exp = program.command("export").description("Export a dataset to other layouts");
  exp
    .command("zarr")
    .description(
      "Write the diffusion_policy replay buffer (zarr v2): data/state, data/action, data/timestamp, data/<camera>\n" +
        "concatenated along time, meta/episode_ends (int64). Chunks are uncompressed.",
    )
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
  exp
    .command("policy")
    .description(
      "Rewrite a trained policy's ONNX graphs with this version's graph code (faster graphs reach the models in " +
        "models/, which ship without training checkpoints), optionally changing how its chunks are executed. The " +
        "weights are read back out of the model's own graphs and keep their precision; the chunks it computes do not " +
        "change. model.json is written last; its provenance says what changed, and when.",
    )
    .argument("<dir>", "model directory, e.g. models/bottle-cap-unet")
    .argument("[out]", "where to write the model (default: in place)")
    .option("--action-steps <n>", "set config.actionSteps, Ta: actions executed per chunk", intArg(1))
    .option(
      "--ensemble <beta>",
      "set config.ensemble: each chunk blended with the previous one's plan for the same steps, weight beta on the previous",
      numberArg(0, 0.95),
    )
    .action((dir: string, out: string | undefined, opts: RunSettings) => {
      const to = out ?? dir;
      const t0 = performance.now();
      const m = reexportPolicy(dir, to, opts);
      process.stdout.write(
        `${to}: graphs rewritten in ${((performance.now() - t0) / 1000).toFixed(1)} s; Ta ${m.config.actionSteps}, ensemble ${m.config.ensemble}\n`,
      );
    });
}
