// A policy that replays recorded action chunks in order, ignoring observations; after the last chunk it keeps
// returning the last chunk's final step (hold). File format (JSON): {"chunks": [[[16 numbers] × Tp] × N]}.
import { z } from "zod";
import { ACTION_DIM, loadJsonFile, type ActionChunk, type Observation, type Policy } from "../core/index.ts";

export const replayFileSchema = z.strictObject({
  /** N chunks, each Tp steps of Da = 16 absolute joint targets. */
  chunks: z.array(z.array(z.array(z.number()).length(ACTION_DIM)).min(1)).min(1),
});

export class ReplayPolicy implements Policy {
  private next = 0;
  private readonly chunks: ActionChunk[];

  constructor(chunks: readonly (readonly (readonly number[])[])[]) {
    this.chunks = chunks.map((c) => ({ actions: Float32Array.from(c.flat()), horizon: c.length, dim: ACTION_DIM }));
  }

  static fromFile(file: string): ReplayPolicy {
    return new ReplayPolicy(loadJsonFile(file, replayFileSchema).chunks);
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
