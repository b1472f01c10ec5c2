// A virtual Clock for lockstep end-to-end runs: time moves only when the test driver advances it, and timers set
// through it (the deploy loop's and the recorder's control ticks, the link's reconnect timer) fire in time order
// when the driver says so. Everything else stays real: websockets, roslib, JSON, the rosbridge test server.
import type { Clock } from "../../src/bridge/index.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Virtual milliseconds behind the bridge's Clock interface. */
export class LockstepClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  /** `wallEpochS`: the wall time (s since the Unix epoch) at virtual time 0, for ROS stamps. */
  constructor(private readonly wallEpochS = 1_700_000_000) {}

  now(): number {
    return this.t;
  }

  wallSeconds(): number {
    return this.wallEpochS + this.t / 1000;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === "number") this.timers.delete(handle);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }

  /** Time of the earliest pending timer (Infinity if none). */
  nextDue(): number {
    let at = Infinity;
    for (const tm of this.timers.values()) at = Math.min(at, tm.at);
    return at;
  }

  /**
   * Move time forward to `until`, firing every timer due at or before it (`inclusive: false`: strictly before it) in
   * (time, creation) order — timers set while firing included — with `now()` equal to each timer's due time while it
   * runs. Time never goes backwards. Returns how many timers fired.
   */
  advanceTo(until: number, options: { inclusive?: boolean } = {}): number {
    const inclusive = options.inclusive ?? true;
    let fired = 0;
    for (;;) {
      let next: Timer | undefined;
      let nextId = 0;
      for (const [id, tm] of this.timers)
        if (
          (inclusive ? tm.at <= until : tm.at < until) &&
          (!next || tm.at < next.at || (tm.at === next.at && tm.seq < next.seq))
        ) {
          next = tm;
          nextId = id;
        }
      if (!next) break;
      this.timers.delete(nextId);
      this.t = Math.max(this.t, next.at);
      next.fn();
      fired++;
    }
    this.t = Math.max(this.t, until);
    return fired;
  }
}
