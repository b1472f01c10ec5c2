// duet export zarr: a dataset → diffusion_policy's zarr replay-buffer layout.
import type { Command } from "commander";
import { Dataset, exportZarr } from "../data/index.ts";
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
}
