// The safety layer between any policy and the publisher. Per command (Da = 16 targets):
//   1. NaN/Inf anywhere → reject (never clamped).
//   2. Position limits (less a margin): a target beyond a limit by at most the tolerance is clamped to it and counted
//      (a position controller stops there anyway; the shipped models ask for a few mm below a closed gripper); further
//      beyond → reject, or clamp if `limits` is "clamp". The verdict names the slots.
//   3. Ramp: after start, a hold or a reconnect, commands move from the MEASURED pose toward the policy's target at
//      the ramp speed until they meet it.
//   4. Jump: a change from the previous command beyond max_step (rad; grippers m) → reject, or clamp if "clamp".
//   5. Speed: a change beyond velocity limit · scale · period is rate-limited to it and counted as clamped, in either
//      mode. A position-controlled joint could not follow a faster target anyway (and a real arm's controller may
//      stop with a velocity fault instead); holding would stop a policy that moves near the limits, as the shipped
//      ones do with the wrist (≈3.5 rad/s asked, 2.61 allowed), where following at the limit is what the simulator
//      they were trained in does. A jump far beyond what one period allows is what step 4 is for.
// Non-reentrant: one instance per controller; `filter` writes into the caller's `out` and allocates only on a violation.
import { ACTION_DIM, SLOT_NAMES } from "../core/index.ts";
import type { SlotLimits } from "./limits.ts";
import type { RobotInterface } from "./robot-interface.ts";

export type SafetyOptions = RobotInterface["safety"];

/** Result of filtering one command. */
export interface SafetyVerdict {
  /** false: the command must not be sent. */
  ok: boolean;
  /** Why it was rejected (empty when ok); each entry starts with the slot name. */
  rejected: string[];
  /** Slots moved inside a limit, a jump bound or the speed bound; each entry starts with the slot name. */
  clamped: string[];
  /** The command is a ramp step (not yet the policy's target). */
  ramping: boolean;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/** Limits, step bounds and the ramp. */
export class SafetyLayer {
  private readonly last = new Float64Array(ACTION_DIM);
  private hasLast = false;
  private ramping = true;
  /** Per slot: the jump bound (max_step), the speed bound per command, the ramp step, limits and tolerance. */
  private readonly jumpBound = new Float64Array(ACTION_DIM);
  private readonly speedBound = new Float64Array(ACTION_DIM);
  private readonly rampStep = new Float64Array(ACTION_DIM);
  private readonly lo = new Float64Array(ACTION_DIM);
  private readonly hi = new Float64Array(ACTION_DIM);
  private readonly tolerance = new Float64Array(ACTION_DIM);

  constructor(
    limits: SlotLimits,
    private readonly options: SafetyOptions,
    controlHz: number,
  ) {
    const dt = 1 / controlHz;
    for (let i = 0; i < ACTION_DIM; i++) {
      const g = limits.gripper[i] === true;
      const margin = g ? 0 : options.limit_margin_rad;
      this.lo[i] = (limits.lower[i] as number) + margin;
      this.hi[i] = (limits.upper[i] as number) - margin;
      this.tolerance[i] = g ? options.gripper_limit_tolerance_m : options.limit_tolerance_rad;
      this.jumpBound[i] = g ? options.max_gripper_step_m : options.max_step_rad;
      this.speedBound[i] = (limits.velocity[i] as number) * options.velocity_scale * dt;
      this.rampStep[i] = Math.min(
        (g ? options.ramp_rad_per_s / 10 : options.ramp_rad_per_s) * dt,
        this.speedBound[i] as number,
      );
    }
  }

  /** Start over: the next command ramps from the measured pose (after start, hold, stop or reconnect). */
  reset(): void {
    this.hasLast = false;
    this.ramping = true;
  }

  get isRamping(): boolean {
    return this.ramping;
  }

  /**
   * Filter `target` (Da = 16) given the `measured` state (Ds = 16); the command to send is written to `out`.
   * On rejection `out` is untouched and the previous command stays the reference.
   */
  filter(target: Float32Array, measured: Float32Array, out: Float32Array): SafetyVerdict {
    let rejected: string[] | undefined;
    let clamped: string[] | undefined;
    for (let i = 0; i < ACTION_DIM; i++) {
      if (!Number.isFinite(target[i])) (rejected ??= []).push(`${SLOT_NAMES[i]} is ${String(target[i])}`);
    }
    if (rejected) return { ok: false, rejected, clamped: [], ramping: this.ramping };
    const clamp = this.options.limits === "clamp";
    // Work in `out` as scratch: limits first.
    for (let i = 0; i < ACTION_DIM; i++) {
      let t = target[i] as number;
      const lo = this.lo[i] as number;
      const hi = this.hi[i] as number;
      if (t < lo || t > hi) {
        const tol = this.tolerance[i] as number;
        const beyond = t < lo ? lo - t : t - hi;
        const where = `${SLOT_NAMES[i]} ${fmt(t)} outside [${fmt(lo)}, ${fmt(hi)}]`;
        if (beyond <= tol) {
          (clamped ??= []).push(`${where}, within the tolerance ${fmt(tol)}`);
          t = Math.min(Math.max(t, lo), hi);
        } else if (clamp) {
          (clamped ??= []).push(`${where} by more than the tolerance ${fmt(tol)}`);
          t = Math.min(Math.max(t, lo), hi);
        } else (rejected ??= []).push(`${where} by more than the tolerance ${fmt(tol)}`);
      }
      out[i] = t;
    }
    if (rejected) return { ok: false, rejected, clamped: clamped ?? [], ramping: this.ramping };
    const ramping = this.ramping;
    let reached = true;
    for (let i = 0; i < ACTION_DIM; i++) {
      const ref = this.hasLast ? (this.last[i] as number) : (measured[i] as number);
      const t = out[i] as number;
      const d0 = t - ref;
      let d = d0;
      if (ramping) {
        const s = this.rampStep[i] as number;
        if (Math.abs(d0) > s) {
          reached = false;
          out[i] = ref + Math.sign(d0) * s;
        }
        continue;
      }
      const jump = this.jumpBound[i] as number;
      if (Math.abs(d) > jump + 1e-9) {
        const msg = `${SLOT_NAMES[i]} step ${fmt(d)} exceeds ${fmt(jump)}`;
        if (!clamp) {
          (rejected ??= []).push(msg);
          continue;
        }
        (clamped ??= []).push(msg);
        d = Math.sign(d) * jump;
      }
      const speed = this.speedBound[i] as number;
      if (Math.abs(d) > speed + 1e-9) {
        (clamped ??= []).push(`${SLOT_NAMES[i]} step ${fmt(d)} rate-limited to ${fmt(speed)} (velocity limit)`);
        d = Math.sign(d) * speed;
      }
      if (d !== d0) out[i] = ref + d;
    }
    if (rejected) return { ok: false, rejected, clamped: clamped ?? [], ramping };
    for (let i = 0; i < ACTION_DIM; i++) this.last[i] = out[i] as number;
    this.hasLast = true;
    if (ramping && reached) this.ramping = false;
    return { ok: true, rejected: [], clamped: clamped ?? [], ramping };
  }
}
