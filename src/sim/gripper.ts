// Parallel grippers: fingers servo toward the commanded opening and stop when both touch the same object; the grip
// holds by friction bounded by μ·grip force, or by a weld on two-finger contact that may be compliant.
import * as CANNON from "cannon-es";
import type { RobotDescription } from "../core/index.ts";

/** Squeeze (m of commanded closing beyond contact) at which the grip force saturates at max_force. */
const FULL_FORCE_SQUEEZE = 0.005;
/** Physics steps without any finger contact after which a grasp counts as lost. */
const LOST_STEPS = 12;

/**
 * A weld grasp's compliance: spring constants of the lock between hand and held object (cannon-es SPOOK equations,
 * damped over `WELD_RELAXATION` physics steps). `Infinity` keeps cannon-es's near-rigid default (1e7).
 */
export interface WeldOptions {
  /** N/m, on the held object's position in the hand. */
  stiffness: number;
  /** N·m/rad, on its orientation in the hand. */
  angularStiffness: number;
  /** Physics step (s). */
  dt: number;
}

/** Damping of a compliant weld: SPOOK relaxation in physics steps (cannon-es's default). */
const WELD_RELAXATION = 3;

/** One arm's gripper state. `opening` is per finger (m), 0 = closed, robot.gripper.max_opening = open. */
export class Gripper {
  opening: number;
  target: number;
  /** The object held between both fingers, or null. */
  holding: CANNON.Body | null = null;
  /** Current grip force per finger (N). */
  force = 0;
  /** The dynamic body each finger touched in the last physics step. */
  touchA: CANNON.Body | null = null;
  touchB: CANNON.Body | null = null;
  private weld: CANNON.LockConstraint | null = null;
  private lostSteps = 0;
  private readonly maxOpening: number;
  private readonly speed: number;
  private readonly maxForce: number;

  constructor(
    robot: RobotDescription,
    readonly hand: CANNON.Body,
    readonly fingerA: CANNON.Body,
    readonly fingerB: CANNON.Body,
    /** Weld grasp options; null for the friction grasp. */
    private readonly weldOptions: WeldOptions | null = null,
  ) {
    this.maxOpening = robot.gripper.max_opening;
    this.speed = robot.gripper.velocity;
    this.maxForce = robot.gripper.max_force;
    this.opening = this.maxOpening;
    this.target = this.maxOpening;
  }

  /** Advance the fingers by one physics step of `dt` seconds. */
  servo(dt: number): void {
    const both = this.touchA !== null && this.touchA === this.touchB ? this.touchA : null;
    const either = this.holding !== null && (this.touchA === this.holding || this.touchB === this.holding);
    // contact points flicker between steps: keep a grasp while either finger touches, drop it after LOST_STEPS
    this.lostSteps = either || both ? 0 : this.lostSteps + 1;
    if (this.target >= this.opening) {
      this.opening = Math.min(this.target, this.opening + this.speed * dt);
      this.holding = null;
    } else if (both) {
      this.holding = both;
    } else if (this.holding && (this.weld !== null || this.lostSteps < LOST_STEPS)) {
      // hold position: the object is still between the fingers (a weld holds until the gripper opens: a compliant
      // weld lets the object shift off the pads without letting go, as a firm grip on soft pads would)
    } else {
      this.holding = null;
      this.opening = Math.max(this.target, this.opening - this.speed * dt);
    }
    this.force = this.holding ? this.maxForce * Math.min(1, (this.opening - this.target) / FULL_FORCE_SQUEEZE) : 0;
    this.opening = Math.min(this.maxOpening, Math.max(0, this.opening));
  }

  /** With the weld grasp model (else nothing): lock the held object to the hand while held, unlock on release. */
  updateWeld(world: CANNON.World): void {
    const options = this.weldOptions;
    if (!options) return;
    if (this.holding && !this.weld) {
      this.weld = new CANNON.LockConstraint(this.hand, this.holding);
      // a LockConstraint's equations: three point-to-point (position), then three rotational
      this.weld.equations.forEach((eq, i) => {
        const k = i < 3 ? options.stiffness : options.angularStiffness;
        if (Number.isFinite(k)) eq.setSpookParams(k, WELD_RELAXATION, options.dt);
      });
      world.addConstraint(this.weld);
    } else if (!this.holding && this.weld) {
      world.removeConstraint(this.weld);
      this.weld = null;
    }
  }
}

/**
 * A constraint without equations whose `update()` (run by cannon-es after contact generation, before solving) bounds
 * the friction of every finger contact with a held object by μ·grip force, split over that finger's contacts.
 * cannon-es bounds friction as an impulse per step, hence ·dt.
 */
export class GripFriction extends CANNON.Constraint {
  private readonly fingerOwner = new Map<number, Gripper>();
  private readonly counts = new Map<number, number>();

  constructor(
    private readonly world: CANNON.World,
    grippers: readonly Gripper[],
    private readonly friction: number,
    private readonly dt: number,
  ) {
    super(grippers[0]!.hand, grippers[0]!.fingerA, { collideConnected: true, wakeUpBodies: false });
    for (const g of grippers) {
      this.fingerOwner.set(g.fingerA.id, g);
      this.fingerOwner.set(g.fingerB.id, g);
    }
  }

  override update(): void {
    const eqs = this.world.frictionEquations;
    this.counts.clear();
    for (const eq of eqs) {
      const finger = this.fingerOwner.has(eq.bi.id) ? eq.bi : this.fingerOwner.has(eq.bj.id) ? eq.bj : null;
      if (finger) this.counts.set(finger.id, (this.counts.get(finger.id) ?? 0) + 1);
    }
    for (const eq of eqs) {
      const finger = this.fingerOwner.has(eq.bi.id) ? eq.bi : this.fingerOwner.has(eq.bj.id) ? eq.bj : null;
      if (!finger) continue;
      const g = this.fingerOwner.get(finger.id)!;
      const other = finger === eq.bi ? eq.bj : eq.bi;
      if (g.holding !== other) continue;
      // two friction equations per contact point share the finger's bound
      const bound = (this.friction * g.force * this.dt * 2) / (this.counts.get(finger.id) ?? 1);
      eq.maxForce = bound;
      eq.minForce = -bound;
    }
  }
}
