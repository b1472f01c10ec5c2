// Time behind an interface so the controller's timing logic can be driven by a manual clock in tests.

/** Monotonic milliseconds and timers. */
export interface Clock {
  /** Monotonic time (ms). */
  now(): number;
  /** Wall-clock time (s since the Unix epoch), for ROS stamps. */
  wallSeconds(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: performance.now() and Node timers. */
export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }
  wallSeconds(): number {
    return Date.now() / 1000;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    return setTimeout(fn, ms);
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
}

/** The clock the product uses. */
export function createClock(): Clock {
  return new SystemClock();
}
