// Optional `chunks` of a replay: the action chunks a policy considered while the episode ran, for the viewer to draw
// as gripper-tip paths. Additive to replay-file.ts's format: replays without chunks stay valid, and loadReplay (which strips
// unknown keys) still reads replays that carry them.
import { z } from "zod";
import { ACTION_DIM, DuetError, loadJsonFile } from "../../core/index.ts";
import { POSE_STRIDE } from "../../sim/index.ts";
import { replaySchema } from "./replay-file.ts";

/**
 * One planning step. `candidates: K × (Tp·Da)` joint targets, row-major `Tp,Da` (Da = 16): every denoised sample the
 * policy drew at this step (K = 1 when it drew one). `executed` is the index of the candidate that was carried out.
 *
 *   step:    s                       (the control step at which the chunk was planned = index into poses/states)
 *   chunk:   a[s] … a[s+Tp-1]        (targets of the next Tp control steps)
 */
export const replayChunkSchema = z.object({
  step: z.int().nonnegative(),
  /** Tp: steps per candidate. */
  horizon: z.int().positive(),
  candidates: z.array(z.array(z.number())).min(1),
  executed: z.int().nonnegative().default(0),
});
export type ReplayChunk = z.output<typeof replayChunkSchema>;

export const replayWithChunksSchema = replaySchema.extend({ chunks: z.array(replayChunkSchema).optional() });
export type ReplayWithChunks = z.output<typeof replayWithChunksSchema>;

/** Load a replay with its optional chunks: pose frames checked against the bodies, chunks against their horizon. */
export function loadReplayWithChunks(file: string): ReplayWithChunks {
  const replay = loadJsonFile(file, replayWithChunksSchema);
  const bad: string[] = [];
  const n = replay.bodies.length * POSE_STRIDE;
  replay.poses.forEach((p, i) => {
    if (p.length !== n) bad.push(`poses.${i}: expected ${n} numbers (bodies·${POSE_STRIDE}), received ${p.length}`);
  });
  const { chunks } = replay;
  chunks?.forEach((c, i) => {
    const m = c.horizon * ACTION_DIM;
    c.candidates.forEach((cand, k) => {
      if (cand.length !== m)
        bad.push(`chunks.${i}.candidates.${k}: expected ${m} numbers (horizon·${ACTION_DIM}), received ${cand.length}`);
    });
    if (c.executed >= c.candidates.length)
      bad.push(`chunks.${i}.executed: expected < ${c.candidates.length}, received ${c.executed}`);
  });
  if (bad.length > 0)
    throw new DuetError(`${file}: ${bad.slice(0, 5).join("; ")}${bad.length > 5 ? ` (+${bad.length - 5} more)` : ""}`);
  return replay;
}
