// A tiny deterministic env and policy for recording tests: 16-dim state, one 4x4 camera, episodes of 3–8 steps.
import type { ActionChunk, Env, Observation, Policy, StepResult } from "../../src/core/index.ts";

export const FAKE_HZ = 20;

/** Episode length for a seed. */
export function fakeLength(seed: number, base = 3): number {
  return base + (seed % 6);
}

export class FakeEnv implements Env {
  readonly controlHz = FAKE_HZ;
  readonly cameras = ["top"] as const;
  private seed = 0;
  private t = 0;
  constructor(private readonly base = 3) {}

  private observe(): Observation {
    const state = Float32Array.from({ length: 16 }, (_, j) => this.seed + this.t * 0.5 + j);
    const data = new Uint8Array(4 * 4 * 3).map((_, i) => (i + this.t * 11 + this.seed * 3) & 255);
    return { time: this.t / FAKE_HZ, state, images: { top: { width: 4, height: 4, data } } };
  }

  reset(seed: number): Observation {
    this.seed = seed;
    this.t = 0;
    return this.observe();
  }

  step(action: Float32Array): StepResult {
    if (action.length !== 16) throw new RangeError(`fake env: action of ${action.length}`);
    this.t++;
    const done = this.t >= fakeLength(this.seed, this.base);
    const success = done && this.seed % 2 === 0;
    return { observation: this.observe(), done, success, info: { mode: this.seed % 2 === 0 ? "left" : "right" } };
  }
}

/** Chunks of 4 actions: action j at step t of the chunk = state[j] + t (reads only the newest observation). */
export class FakePolicy implements Policy {
  constructor(private readonly delayMs = 0) {}
  reset(): void {}
  async predictChunk(history: readonly Observation[]): Promise<ActionChunk> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const last = history[history.length - 1] as Observation;
    const actions = new Float32Array(4 * 16);
    for (let t = 0; t < 4; t++) for (let j = 0; j < 16; j++) actions[t * 16 + j] = (last.state[j] as number) + t;
    return { actions, horizon: 4, dim: 16 };
  }
}
