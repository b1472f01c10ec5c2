// A policy that holds the measured pose: every step of its chunk is the newest observed state.
// Used to bring up a robot interface safely (`duet deploy --policy hold`).
import { ACTION_DIM, DuetError, type ActionChunk, type Observation, type Policy } from "../../core/index.ts";

export class HoldPolicy implements Policy {
  /** `horizon`: Tp steps per chunk. */
  constructor(readonly horizon = 10) {}

  predictChunk(history: readonly Observation[]): Promise<ActionChunk> {
    const newest = history[history.length - 1];
    if (!newest) return Promise.reject(new DuetError("hold policy: empty observation history"));
    const actions = new Float32Array(this.horizon * ACTION_DIM);
    for (let t = 0; t < this.horizon; t++) actions.set(newest.state, t * ACTION_DIM);
    return Promise.resolve({ actions, horizon: this.horizon, dim: ACTION_DIM });
  }

  reset(): void {}
}
