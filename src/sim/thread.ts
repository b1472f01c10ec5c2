// The screw thread between bottle and cap: a hinge on the bottle axis whose pivot rises with the unwrapped twist,
// with friction torque as asymmetric motor bounds, released after a configured number of turns.
import * as CANNON from "cannon-es";

/** Options for `ScrewThread`, all in SI units. */
export interface ThreadOptions {
  /** Height of the cap centre above the bottle origin when fully screwed on (m). */
  seatHeight: number;
  /** Lift per turn (m). */
  pitch: number;
  /** Turns after which the thread lets go. */
  releaseTurns: number;
  /** Friction torque resisting rotation in either direction (N·m). */
  frictionTorque: number;
  /** Physics step (s): cannon-es bounds motor impulses per step, so torque limits are written as torque·dt. */
  dt: number;
}

/** Torque that stops tightening past the seat (N·m): effectively rigid. */
const SEATED_TORQUE = 1e3;
/**
 * Fastest believable cap-vs-bottle twist (rad/s): both wrists turning opposite ways at the Panda's joint-7 limit
 * (2.61 rad/s) is 5.2. A faster step is the solver blowing up (a bottle jammed into the table by an arm spun 0.85
 * turns in 0.1 s and "released" the cap in a policy rollout); such steps move the cap but add no thread turns.
 */
export const MAX_TWIST_RATE = 10;

/**
 * Loosening is counter-clockwise seen from above: positive rotation of the cap about the bottle's +z.
 * Call `update()` before every physics step.
 */
export class ScrewThread {
  /** Loosening turns so far (unwrapped; 0 = seated). */
  turns = 0;
  released = false;
  /** Physics steps whose twist exceeded MAX_TWIST_RATE and was not counted. */
  glitches = 0;
  readonly hinge: CANNON.HingeConstraint;
  private lastAngle = 0;
  private unwrapped = 0;

  constructor(
    private readonly world: CANNON.World,
    private readonly bottle: CANNON.Body,
    private readonly cap: CANNON.Body,
    private readonly options: ThreadOptions,
  ) {
    this.hinge = new CANNON.HingeConstraint(bottle, cap, {
      pivotA: new CANNON.Vec3(0, 0, options.seatHeight),
      axisA: new CANNON.Vec3(0, 0, 1),
      pivotB: new CANNON.Vec3(0, 0, 0),
      axisB: new CANNON.Vec3(0, 0, 1),
      collideConnected: false,
    });
    this.hinge.enableMotor();
    this.hinge.setMotorSpeed(0);
    world.addConstraint(this.hinge);
    this.lastAngle = twistAngle(bottle.quaternion, cap.quaternion);
    this.setBounds();
  }

  /** Track the twist, move the pivot up the thread, release at the configured turns. */
  update(): void {
    if (this.released) return;
    const angle = twistAngle(this.bottle.quaternion, this.cap.quaternion);
    let delta = angle - this.lastAngle;
    if (delta > Math.PI) delta -= 2 * Math.PI;
    else if (delta < -Math.PI) delta += 2 * Math.PI;
    this.lastAngle = angle;
    if (Math.abs(delta) > MAX_TWIST_RATE * this.options.dt) {
      this.glitches++;
      return;
    }
    this.unwrapped += delta;
    this.turns = this.unwrapped / (2 * Math.PI);
    if (this.turns >= this.options.releaseTurns) {
      this.world.removeConstraint(this.hinge);
      this.released = true;
      return;
    }
    this.hinge.pivotA.z = this.options.seatHeight + this.options.pitch * Math.max(0, this.turns);
    this.setBounds();
  }

  private setBounds(): void {
    // λ > 0 applies −z torque to the cap (resists loosening); λ < 0 resists tightening.
    const dt = this.options.dt;
    const m = this.hinge.motorEquation;
    m.maxForce = this.options.frictionTorque * dt;
    m.minForce = -(this.turns <= 0 ? SEATED_TORQUE : this.options.frictionTorque) * dt;
  }
}

/** Rotation of `b` relative to `a` about a's z axis (rad, in [−π, π]). */
export function twistAngle(a: CANNON.Quaternion, b: CANNON.Quaternion): number {
  // q = conj(a) · b
  const w = a.w * b.w + a.x * b.x + a.y * b.y + a.z * b.z;
  const z = a.w * b.z - a.z * b.w - a.x * b.y + a.y * b.x;
  // q and −q are the same rotation: take w ≥ 0 so the angle lands in [−π, π]
  return w < 0 ? 2 * Math.atan2(-z, -w) : 2 * Math.atan2(z, w);
}
