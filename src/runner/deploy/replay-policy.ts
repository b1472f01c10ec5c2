// A policy that replays recorded action chunks in order, ignoring observations; after the last chunk it keeps
// returning the last chunk's final step (hold). File format (JSON):
//   {"chunks": [[[16 numbers] × Tp] × N], "actionSteps"?: Ta}
// Ta: how many steps of each chunk are executed before the next chunk is taken (default: all of them, so the file is
// replayed step for step; a smaller Ta skips the rest of each chunk, as a policy replanning every Ta steps would).
import { z } from "zod";
import { ACTION_DIM, loadJsonFile, type ActionChunk, type Observation, type Policy } from "../../core/index.ts";

export const replayFileSchema = z.strictObject({
  /** N chunks, each Tp steps of Da = 16 absolute joint targets. */
  chunks: z.array(z.array(z.array(z.number()).length(ACTION_DIM)).min(1)).min(1),
  /** Ta: steps of each chunk executed before the next one (default: every step of each chunk). */
  actionSteps: z.int().positive().optional(),
});

export class ReplayPolicy implements Policy {
  private next = 0;
  private readonly chunks: ActionChunk[];

  constructor(chunks: readonly (readonly (readonly number[])[])[]) {
    this.chunks = chunks.map((c) => ({ actions: Float32Array.from(c.flat()), horizon: c.length, dim: ACTION_DIM }));
  }

  /** The longest chunk's length: Ta that executes every step of every chunk. */
  get longestChunk(): number {
    return Math.max(...this.chunks.map((c) => c.horizon));
  }

  static fromFile(file: string): ReplayPolicy {
    return ReplayPolicy.readFile(file).policy;
  }

  /** The replay policy of a file and its Ta (the file's `actionSteps`, else every step of each chunk). */
  static readFile(file: string): { policy: ReplayPolicy; actionSteps: number } {
    const f = loadJsonFile(file, replayFileSchema);
    const policy = new ReplayPolicy(f.chunks);
    return { policy, actionSteps: f.actionSteps ?? policy.longestChunk };
  }

  predictChunk(_history: readonly Observation[]): Promise<ActionChunk> {
    const i = this.next++;
    const chunk = this.chunks[i];
    if (chunk) return Promise.resolve(chunk);
    const last = this.chunks[this.chunks.length - 1] as ActionChunk;
    const final = last.actions.subarray((last.horizon - 1) * ACTION_DIM);
    const actions = new Float32Array(last.horizon * ACTION_DIM);
    for (let t = 0; t < last.horizon; t++) actions.set(final, t * ACTION_DIM);
    return Promise.resolve({ actions, horizon: last.horizon, dim: ACTION_DIM });
  }

  /** Replays restart from the first chunk. */
  reset(): void {
    this.next = 0;
  }
}
