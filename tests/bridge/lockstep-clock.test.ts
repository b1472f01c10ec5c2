// The virtual clock the lockstep end-to-end tests drive the deploy loop and the recorder with.
import { describe, expect, it } from "vitest";
import { LockstepClock } from "./lockstep-clock.ts";

describe("LockstepClock", () => {
  it("fires due timers in time order with now() at their due time, including timers set while firing", () => {
    const clock = new LockstepClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    const late = clock.setTimeout(() => fired.push("never"), 30);
    clock.clearTimeout(late);
    expect(clock.nextDue()).toBe(10);
    expect(clock.advanceTo(15)).toBe(2);
    expect(fired).toEqual(["a@10", "c@15"]);
    expect(clock.now()).toBe(15);
    expect(clock.wallSeconds()).toBeCloseTo(1000.015, 9);
    expect(clock.advanceTo(20, { inclusive: false })).toBe(0);
    expect(clock.now()).toBe(20);
    expect(clock.pending).toBe(1);
    expect(clock.advanceTo(20)).toBe(1);
    expect(fired).toEqual(["a@10", "c@15", "b@20"]);
    expect(clock.advanceTo(5)).toBe(0);
    expect(clock.now()).toBe(20);
    expect(clock.nextDue()).toBe(Infinity);
  });
});
