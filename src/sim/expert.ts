// The scripted expert: one arm holds the bottle, the other unscrews the cap in twist–regrasp cycles, then lifts it
// away; or, in multi-task scenarios, lifts the bottle or hands it from one hand to the other (the env's episode task,
// whose instruction may name the hand). It reads the simulator's state (bottle and cap poses, thread turns, grasps):
// privileged, closed loop.
// Over 400 lines because it is one state machine (approach, grasp, twist–regrasp, lift, hand-over) whose phases share
// the grasp and pose bookkeeping.
import {
  ACTION_DIM,
  ARMS,
  ARM_DOF,
  Rng,
  armOffset,
  otherArm,
  type ActionChunk,
  type Arm,
  type Observation,
  type Policy,
} from "../core/index.ts";
import { capSeatHeight } from "./bodies.ts";
import type { SimEnv } from "./env.ts";
import { type Pose, newPose, poseFromAxes, rotationError } from "./pose.ts";

/** Options for `ScriptedExpert`. */
export interface ExpertOptions {
  /** Which arm holds the bottle; default: the scenario's `expert.mode` ("random" draws per episode). */
  mode?: "random" | Arm;
  /** Waypoint noise std (m); default: the scenario's `expert.noise`. */
  noise?: number;
  /**
   * Take over an episode already under way (after another policy drove the arms, see `duet record --lead-policy`):
   * on `reset` the arm whose hand is nearer its grasp point on the bottle holds (`mode` is ignored). A holding hand
   * that already grasps the bottle keeps it, and then an unscrewing hand that grasps the cap keeps it and twists on;
   * the first actions open every other gripper that is not open.
   */
  takeover?: boolean;
  /**
   * Std (m) of a sideways offset (along the fingers' closing direction) held on the final approach to the bottle until
   * `SQUARE_UP_STANDOFF` out, where the hand squares up before closing in (default 0: none). Learned policies arrive
   * there 1–3 cm sideways and knock the bottle over; this records the correction. Clipped at ±2.5σ.
   */
  approachOffset?: number;
}

/** One control step of the script: yield, then the commands in `cmd` are sent. */
type Script = Generator<void, void, void>;

const TWIST_START = 2.7; // rad, joint 7 at the start of a twist (loosening turns joint 7 negative: tool points down)
const TWIST_END = -2.6;
const TWIST_RATE = 1.6; // rad/s while twisting
const RETURN_RATE = 2.4; // rad/s swinging the open hand back
const LINEAR_SPEED = 0.25; // m/s for free motion
const APPROACH_SPEED = 0.1; // m/s near objects
const ANGULAR_SPEED = 1.5; // rad/s tool orientation change
const GRIP_SETTLE_STEPS = 4;
/**
 * TCP height over the cap centre for the cap grasp (m). The fingertips reach 15 mm past the TCP: at 9 mm they stop
 * 7 mm above the bottle's shoulder (at 6 mm, 4 mm: a few mm of tracking error put the pads on the bottle, not the cap).
 */
const CAP_GRASP_ABOVE = 0.009;
const SQUARE_UP_STANDOFF = 0.06; // m from the bottle's axis to the TCP: the fingertips are still clear of its surface
const LIFT_HEIGHT = 0.12; // m the lift and handover tasks raise the bottle
const HANDOVER_GAP = 0.05; // m the taking hand grasps below the giving one

/**
 * Scripted expert policy for `SimEnv`. Each `predictChunk` returns one step (Tp = 1) of 16 joint targets.
 * Closed loop: repeats twist cycles until the thread releases, regrasps when a cycle made no progress, and re-grasps
 * the bottle if the holding grasp was lost.
 */
export class ScriptedExpert implements Policy {
  /** The arm holding the bottle in this episode. */
  holder: Arm = "left";
  private rng = new Rng(0);
  private script: Script | null = null;
  private readonly cmd = new Float64Array(ACTION_DIM);
  private readonly pose = newPose();
  private readonly err = new Float64Array(6);
  private readonly dt: number;

  constructor(
    private readonly env: SimEnv,
    private readonly options: ExpertOptions = {},
  ) {
    this.dt = 1 / env.controlHz;
  }

  reset(seed: number): void {
    this.rng = new Rng(seed ^ 0x5eed);
    const mode = this.options.mode ?? this.env.scenario.expert.mode;
    this.holder = mode === "random" ? (this.rng.next() < 0.5 ? "left" : "right") : mode;
    const named = this.env.task.hand;
    if (named) this.holder = named;
    if (this.options.takeover)
      this.holder = this.distanceToGrasp("left") <= this.distanceToGrasp("right") ? "left" : "right";
    this.script = null;
  }

  /** How far (m) an arm's hand is from the point where it grasps the bottle. */
  private distanceToGrasp(arm: Arm): number {
    const g = this.bottleGraspPose(arm, 0);
    const h = this.env.world.arms[arm].moving[ARM_DOF]!.position;
    return Math.hypot(h.x - g[9]!, h.y - g[10]!, h.z - g[11]!);
  }

  async predictChunk(_history: readonly Observation[]): Promise<ActionChunk> {
    return { actions: Float32Array.from(this.nextAction()), horizon: 1, dim: ACTION_DIM };
  }

  /** Synchronous core of `predictChunk`: the next 16 joint targets. */
  nextAction(): Float64Array {
    if (!this.script) {
      // start from the measured configuration
      const w = this.env.world;
      for (const arm of ARMS) {
        const o = armOffset(arm);
        this.cmd.set(w.arms[arm].q, o);
        const g = w.arms[arm].gripper;
        this.cmd[o + ARM_DOF] = g.holding ? 0 : g.opening; // a grip is kept by commanding it closed (0), as it was made
      }
      this.script = this.run();
    }
    this.script.next();
    return this.cmd;
  }

  // ---------------------------------------------------------------- the task

  private *run(): Script {
    const task = this.env.task.task;
    if (task === "lift") yield* this.lift(this.holder);
    else if (task === "handover") yield* this.handover(this.holder);
    else yield* this.unscrew(this.holder);
  }

  private *unscrew(H: Arm): Script {
    const T = otherArm(H);
    const w = this.env.world;
    // A takeover keeps what the lead got right: the holding hand's grasp of the bottle and the other's of the cap.
    const holdsBottle = this.options.takeover === true && w.arms[H].gripper.holding === w.bottle;
    const holdsCap = holdsBottle && w.arms[T].gripper.holding === w.cap;
    if (this.options.takeover) {
      const open = this.maxOpening();
      const keep = (arm: Arm): boolean => (arm === H ? holdsBottle : holdsCap);
      const closed = ARMS.filter((arm) => !keep(arm) && w.arms[arm].gripper.opening < open - 1e-3);
      const [a, b] = closed.map((arm) => this.setGripper(arm, open));
      if (a) yield* b ? this.both(a, b) : a;
    }
    if (holdsCap) yield* this.turnAndRelease(T);
    else if (holdsBottle) yield* this.toAboveCap(T, TWIST_START);
    else {
      yield* this.both(this.toPreGrasp(H), this.toAboveCap(T, TWIST_START));
      yield* this.graspBottle(H);
    }
    for (;;) {
      if (w.thread.released) break;
      if (w.arms[H].gripper.holding !== w.bottle) {
        yield* this.setGripper(H, this.maxOpening());
        yield* this.toPreGrasp(H);
        yield* this.graspBottle(H);
      }
      yield* this.twistCycle(T);
    }
    // lift the cap away, then keep holding
    yield* this.moveLinear(T, this.capPose(0.12), APPROACH_SPEED, this.cmd[armOffset(T) + ARM_DOF - 1]!);
    for (;;) yield;
  }

  /** Grasp the bottle and lift it LIFT_HEIGHT, then hold it there. */
  private *lift(H: Arm): Script {
    yield* this.toPreGrasp(H);
    yield* this.graspBottle(H);
    yield* this.raise(H);
    for (;;) yield;
  }

  /**
   * Grasp and lift the bottle with H; the other hand takes it lower down from its own side (the hands stay
   * HANDOVER_GAP apart in height), closes, then H opens and backs away.
   */
  private *handover(H: Arm): Script {
    const T = otherArm(H);
    yield* this.toPreGrasp(H);
    yield* this.graspBottle(H);
    yield* this.raise(H);
    const w = this.env.world;
    const z = (): number => w.bottle.position.z + this.graspHeight() - HANDOVER_GAP;
    const pre = this.bottleGraspPose(T, 0.14, z());
    pre[9]! += this.noise();
    yield* this.moveLinear(T, pre, LINEAR_SPEED);
    yield* this.moveLinear(T, this.bottleGraspPose(T, 0, z()), APPROACH_SPEED);
    yield* this.setGripper(T, 0);
    yield* this.setGripper(H, this.maxOpening());
    const away = this.bottleGraspPose(H, 0.14, w.bottle.position.z + this.graspHeight());
    yield* this.moveLinear(H, away, APPROACH_SPEED);
    for (;;) yield;
  }

  /** Move the hand holding the bottle LIFT_HEIGHT straight up. */
  private *raise(H: Arm): Script {
    const kin = this.env.world.arms[H].kin;
    const o = armOffset(H);
    kin.forward(this.cmd.subarray(o, o + ARM_DOF));
    const up = Float64Array.from(kin.tcp);
    up[11]! += LIFT_HEIGHT;
    yield* this.moveLinear(H, up, APPROACH_SPEED);
  }

  private *graspBottle(H: Arm): Script {
    const sigma = this.options.approachOffset ?? 0;
    if (sigma > 0) {
      const side = sigma * Math.max(-2.5, Math.min(2.5, this.rng.normal()));
      const off = this.bottleGraspPose(H, SQUARE_UP_STANDOFF);
      off[9]! += side;
      yield* this.moveLinear(H, off, APPROACH_SPEED);
      yield* this.moveLinear(H, this.bottleGraspPose(H, SQUARE_UP_STANDOFF), APPROACH_SPEED);
    }
    yield* this.moveLinear(H, this.bottleGraspPose(H, 0), APPROACH_SPEED);
    yield* this.setGripper(H, 0);
  }

  /** Descend on the cap with joint 7 at `TWIST_START`, close, twist to `TWIST_END`, open, swing back. */
  private *twistCycle(T: Arm): Script {
    yield* this.setGripper(T, this.maxOpening());
    yield* this.rotateWrist(T, TWIST_START, RETURN_RATE);
    yield* this.moveLinear(T, this.capPose(CAP_GRASP_ABOVE), APPROACH_SPEED, TWIST_START);
    yield* this.setGripper(T, 0);
    const w = this.env.world;
    if (w.arms[T].gripper.holding !== w.cap) return; // missed: the loop regrasps
    yield* this.turnAndRelease(T);
  }

  /** With the cap grasped: twist, then (unless the thread released) open; back off when it made no progress. */
  private *turnAndRelease(T: Arm): Script {
    const w = this.env.world;
    const before = w.thread.turns;
    yield* this.twist(T);
    if (w.thread.released) return;
    yield* this.setGripper(T, this.maxOpening());
    if (w.thread.turns - before < 0.1) {
      // no progress: back off and come down again
      yield* this.moveLinear(T, this.capPose(0.05), LINEAR_SPEED, this.cmd[armOffset(T) + ARM_DOF - 1]!);
    }
  }

  // ---------------------------------------------------------------- targets

  private maxOpening(): number {
    return this.env.scenario.robotDescription.gripper.max_opening;
  }

  private noise(): number {
    const sigma = this.options.noise ?? this.env.scenario.expert.noise;
    return sigma * this.rng.normal();
  }

  /** Height of the side grasp above the bottle's base (m). */
  private graspHeight(): number {
    return Math.min(0.1, this.env.scenario.bottle.height * 0.5);
  }

  /**
   * Side grasp of the bottle body from the arm's side; `back` (m) stands off along the approach; `z` (m, world)
   * defaults to graspHeight above the table (the bottle standing).
   */
  private bottleGraspPose(H: Arm, back: number, z = this.graspHeight()): Pose {
    const w = this.env.world;
    const s = H === "left" ? 1 : -1; // left arm stands at +y: approach toward −y
    const b = w.bottle.position;
    return poseFromAxes(newPose(), 0, -s, 0, s, 0, 0, b.x, b.y + s * back, z);
  }

  private *toPreGrasp(H: Arm): Script {
    const p = this.bottleGraspPose(H, 0.14);
    p[9]! += this.noise();
    p[11]! += this.noise();
    yield* this.moveLinear(H, p, LINEAR_SPEED);
  }

  /** Tool pointing down over the cap, TCP `above` (m) over the cap centre (yaw set by joint 7, see moveLinear). */
  private capPose(above: number): Pose {
    const w = this.env.world;
    const c = w.cap.position;
    const seatZ = w.thread.released ? c.z : w.bottle.position.z + capSeatHeight(this.env.scenario);
    const z = Math.max(c.z, seatZ) + above;
    return poseFromAxes(newPose(), 0, 0, -1, 1, 0, 0, c.x, c.y, z);
  }

  private *toAboveCap(T: Arm, q7: number): Script {
    const p = this.capPose(0.1);
    p[9]! += this.noise();
    p[10]! += this.noise();
    yield* this.moveLinear(T, p, LINEAR_SPEED, q7);
  }

  // ---------------------------------------------------------------- motion primitives

  /** Run two scripts side by side until both finish. */
  private *both(a: Script, b: Script): Script {
    let doneA = false;
    let doneB = false;
    while (!doneA || !doneB) {
      if (!doneA) doneA = a.next().done === true;
      if (!doneB) doneB = b.next().done === true;
      if (!doneA || !doneB) yield;
    }
  }

  /**
   * Move the TCP on a straight line toward `target` at `speed`, orientation following, by IK from the last command.
   * A target with `q7` fixes joint 7 (the tool axis is joint 7's axis, so position and approach are unaffected).
   */
  private *moveLinear(arm: Arm, target: Pose, speed: number, q7?: number): Script {
    const kin = this.env.world.arms[arm].kin;
    const o = armOffset(arm);
    const q = this.cmd.subarray(o, o + ARM_DOF);
    const maxStep = speed * this.dt;
    const maxRot = ANGULAR_SPEED * this.dt;
    for (let guard = 0; guard < 400; guard++) {
      kin.forward(q);
      if (q7 !== undefined) {
        // joint 7 sets the yaw about the tool axis: aim only the tool axis, keep the current yaw
        const t = kin.tcp;
        poseFromAxes(
          target,
          target[2]!,
          target[5]!,
          target[8]!,
          t[1]!,
          t[4]!,
          t[7]!,
          target[9]!,
          target[10]!,
          target[11]!,
        );
      }
      const e = this.err;
      e[0] = target[9]! - kin.tcp[9]!;
      e[1] = target[10]! - kin.tcp[10]!;
      e[2] = target[11]! - kin.tcp[11]!;
      rotationError(target, kin.tcp, e, 3);
      const dist = Math.hypot(e[0], e[1], e[2]);
      const rot = q7 === undefined ? Math.hypot(e[3]!, e[4]!, e[5]!) : 0;
      const q7Gap = q7 === undefined ? 0 : Math.abs(q7 - q[6]!);
      if (dist < 5e-4 && rot < 5e-3 && q7Gap < 1e-3) return;
      const f = Math.min(1, maxStep / Math.max(dist, 1e-9), q7 === undefined ? maxRot / Math.max(rot, 1e-9) : 1);
      // intermediate pose: position by f, rotation by f of the rotation vector (about the world frame)
      interpolatePose(this.pose, kin.tcp, target, f, e);
      const q7Before = q[6]!;
      const result = kin.solveIk(this.pose, q, { iterations: 60, rest: this.restPosture(arm) });
      q.set(result.q);
      if (q7 !== undefined) {
        // the IK's own joint-7 correction and the swing toward q7 share one step of at most RETURN_RATE·dt, so the
        // command never outruns joint 7's velocity limit
        const step = RETURN_RATE * this.dt;
        q[6] = q7Before + Math.max(-step, Math.min(step, q7 - q7Before));
      }
      yield;
    }
  }

  /**
   * Turn the grasped cap counter-clockwise (seen from above) about its own axis, rising with the thread, until joint 7
   * reaches `TWIST_END`. Twisting about the cap's axis rather than joint 7's keeps a slightly off-centre grasp from
   * fighting the thread and the holding arm.
   */
  private *twist(T: Arm): Script {
    const w = this.env.world;
    const kin = w.arms[T].kin;
    const o = armOffset(T);
    const q = this.cmd.subarray(o, o + ARM_DOF);
    kin.forward(q);
    const start = Float64Array.from(kin.tcp);
    const cx = w.cap.position.x;
    const cy = w.cap.position.y;
    const pitch = this.env.scenario.cap.pitch;
    const target = newPose();
    for (let angle = 0; q[6]! > TWIST_END && !w.thread.released;) {
      angle += TWIST_RATE * this.dt;
      const c = Math.cos(angle),
        sn = Math.sin(angle);
      // target = RotZ(angle) about the cap axis ∘ start
      for (let col = 0; col < 3; col++) {
        const x = start[col]!,
          y = start[3 + col]!;
        target[col] = c * x - sn * y;
        target[3 + col] = sn * x + c * y;
        target[6 + col] = start[6 + col]!;
      }
      const dx = start[9]! - cx,
        dy = start[10]! - cy;
      target[9] = cx + c * dx - sn * dy;
      target[10] = cy + sn * dx + c * dy;
      target[11] = start[11]! + (pitch * angle) / (2 * Math.PI);
      const result = kin.solveIk(target, q, { iterations: 30, rest: this.restPosture(T) });
      q.set(result.q);
      yield;
    }
  }

  private *rotateWrist(arm: Arm, q7: number, rate: number): Script {
    const i = armOffset(arm) + ARM_DOF - 1;
    while (Math.abs(this.cmd[i]! - q7) > 1e-6) {
      const step = rate * this.dt;
      this.cmd[i] = this.cmd[i]! + Math.max(-step, Math.min(step, q7 - this.cmd[i]!));
      yield;
    }
  }

  /** Wait until the arm's measured joints reach the commanded ones (the servo lags fast commands). */
  private *settle(arm: Arm): Script {
    const a = this.env.world.arms[arm];
    const o = armOffset(arm);
    for (let guard = 0; guard < 20; guard++) {
      let gap = 0;
      for (let j = 0; j < ARM_DOF; j++) gap = Math.max(gap, Math.abs(a.q[j]! - this.cmd[o + j]!));
      if (gap < 2e-3) return;
      yield;
    }
  }

  /** Command the gripper once the arm has arrived, and wait until the fingers stop (contact or target reached). */
  private *setGripper(arm: Arm, opening: number): Script {
    yield* this.settle(arm);
    const g = this.env.world.arms[arm].gripper;
    this.cmd[armOffset(arm) + ARM_DOF] = opening;
    let still = 0;
    let last = g.opening;
    for (let guard = 0; guard < 30 && still < GRIP_SETTLE_STEPS; guard++) {
      yield;
      still = Math.abs(g.opening - last) < 1e-5 ? still + 1 : 0;
      last = g.opening;
    }
  }

  private restPosture(arm: Arm): ArrayLike<number> {
    return this.env.scenario.robotDescription.arms[arm].home;
  }
}

/** out = pose a fraction `f` of the way from `from` to `to` (position linear, rotation along the error vector). */
function interpolatePose(out: Pose, from: Pose, to: Pose, f: number, err: Float64Array): void {
  out[9] = from[9]! + f * (to[9]! - from[9]!);
  out[10] = from[10]! + f * (to[10]! - from[10]!);
  out[11] = from[11]! + f * (to[11]! - from[11]!);
  const rx = err[3]! * f,
    ry = err[4]! * f,
    rz = err[5]! * f;
  const angle = Math.hypot(rx, ry, rz);
  if (angle < 1e-12) {
    for (let i = 0; i < 9; i++) out[i] = from[i]!;
    return;
  }
  // Rodrigues: R = I + sinθ K + (1 − cosθ) K², applied before `from`
  const kx = rx / angle,
    ky = ry / angle,
    kz = rz / angle;
  const s = Math.sin(angle),
    c = 1 - Math.cos(angle);
  const r00 = 1 + c * (-ky * ky - kz * kz),
    r01 = -s * kz + c * kx * ky,
    r02 = s * ky + c * kx * kz;
  const r10 = s * kz + c * kx * ky,
    r11 = 1 + c * (-kx * kx - kz * kz),
    r12 = -s * kx + c * ky * kz;
  const r20 = -s * ky + c * kx * kz,
    r21 = s * kx + c * ky * kz,
    r22 = 1 + c * (-kx * kx - ky * ky);
  for (let col = 0; col < 3; col++) {
    const a = from[col]!,
      b = from[3 + col]!,
      d = from[6 + col]!;
    out[col] = r00 * a + r01 * b + r02 * d;
    out[3 + col] = r10 * a + r11 * b + r12 * d;
    out[6 + col] = r20 * a + r21 * b + r22 * d;
  }
}
