// Forward kinematics, Jacobian and damped-least-squares inverse kinematics of one 7-DOF arm (modified DH).
import { ARM_DOF, type JointSpec, type RobotDescription } from "../core/index.ts";
import { type Pose, dhPose, mulPose, newPose, rotationError, yawPose, copyPose } from "./pose.ts";

/** Options for `ArmKinematics.solveIk`. */
export interface IkOptions {
  /** Iterations at most (default 100). */
  iterations?: number;
  /** Position tolerance (m, default 2e-4). */
  positionTolerance?: number;
  /** Orientation tolerance (rad, default 2e-3). */
  rotationTolerance?: number;
  /** Damping λ of the least-squares step (default 0.05). */
  damping?: number;
  /** Gain of the null-space pull toward `rest` (default 0.2). */
  postureGain?: number;
  /** Posture the null space is pulled toward (default: the middle of each joint's range). */
  rest?: ArrayLike<number>;
}

/** Result of an IK solve. `q` is a fresh array. */
export interface IkResult {
  q: Float64Array;
  positionError: number;
  rotationError: number;
  converged: boolean;
}

/**
 * Kinematics of one arm: world base transform + 7 modified-DH joints + flange + tool centre point (TCP, between the
 * fingertips). Frames: `frames[i]` (i = 0..6) is joint i+1's frame in world coordinates; `flange` and `tcp` follow.
 * Methods reuse internal scratch buffers: an instance is not re-entrant.
 */
export class ArmKinematics {
  readonly joints: readonly JointSpec[];
  readonly base: Pose;
  readonly frames: Pose[] = Array.from({ length: ARM_DOF }, newPose);
  readonly flange: Pose = newPose();
  readonly tcp: Pose = newPose();
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  private readonly flangeD: number;
  private readonly tcpOffset: number;
  private readonly link = newPose();
  private readonly jac = new Float64Array(6 * ARM_DOF);
  private readonly err = new Float64Array(6);
  private readonly target = newPose();

  constructor(robot: RobotDescription, arm: "left" | "right") {
    const mount = robot.arms[arm];
    this.joints = robot.joints;
    this.base = yawPose(newPose(), mount.position[0], mount.position[1], mount.position[2], mount.yaw);
    this.flangeD = robot.flange_d;
    this.tcpOffset = robot.gripper.tcp_offset;
    this.lower = Float64Array.from(robot.joints, (j) => j.lower);
    this.upper = Float64Array.from(robot.joints, (j) => j.upper);
  }

  /** Update `frames`, `flange` and `tcp` for joint angles q (length 7). */
  forward(q: ArrayLike<number>): void {
    let prev: Pose = this.base;
    for (let i = 0; i < ARM_DOF; i++) {
      const j = this.joints[i]!;
      dhPose(this.link, j.a, j.alpha, j.d, q[i]!);
      mulPose(this.frames[i]!, prev, this.link);
      prev = this.frames[i]!;
    }
    dhPose(this.link, 0, 0, this.flangeD, 0);
    mulPose(this.flange, prev, this.link);
    dhPose(this.link, 0, 0, this.tcpOffset, 0);
    mulPose(this.tcp, this.flange, this.link);
  }

  /** Geometric Jacobian of the TCP (6×7 row-major: rows vx, vy, vz, wx, wy, wz), for the last `forward` call. */
  jacobian(): Float64Array {
    const J = this.jac;
    const px = this.tcp[9]!,
      py = this.tcp[10]!,
      pz = this.tcp[11]!;
    for (let i = 0; i < ARM_DOF; i++) {
      const f = this.frames[i]!;
      const zx = f[2]!,
        zy = f[5]!,
        zz = f[8]!;
      const rx = px - f[9]!,
        ry = py - f[10]!,
        rz = pz - f[11]!;
      J[i] = zy * rz - zz * ry;
      J[ARM_DOF + i] = zz * rx - zx * rz;
      J[2 * ARM_DOF + i] = zx * ry - zy * rx;
      J[3 * ARM_DOF + i] = zx;
      J[4 * ARM_DOF + i] = zy;
      J[5 * ARM_DOF + i] = zz;
    }
    return J;
  }

  /**
   * Damped least squares toward a TCP pose with a null-space pull toward a rest posture; joint limits respected.
   * `seed`: starting joint angles (the current configuration, for continuity).
   */
  solveIk(target: Pose, seed: ArrayLike<number>, options: IkOptions = {}): IkResult {
    const iterations = options.iterations ?? 100;
    const posTol = options.positionTolerance ?? 2e-4;
    const rotTol = options.rotationTolerance ?? 2e-3;
    const lambda = options.damping ?? 0.05;
    const gain = options.postureGain ?? 0.2;
    const q = Float64Array.from({ length: ARM_DOF }, (_, i) => seed[i]!);
    const rest = options.rest;
    copyPose(this.target, target);
    const e = this.err;
    let posErr = Infinity;
    let rotErr = Infinity;
    for (let it = 0; it <= iterations; it++) {
      this.forward(q);
      e[0] = this.target[9]! - this.tcp[9]!;
      e[1] = this.target[10]! - this.tcp[10]!;
      e[2] = this.target[11]! - this.tcp[11]!;
      rotationError(this.target, this.tcp, e, 3);
      posErr = Math.hypot(e[0], e[1], e[2]);
      rotErr = Math.hypot(e[3]!, e[4]!, e[5]!);
      if ((posErr < posTol && rotErr < rotTol) || it === iterations) break;
      // limit the step so DLS stays in its linear region
      const scale = Math.min(1, 0.1 / Math.max(posErr, 1e-12), 0.3 / Math.max(rotErr, 1e-12));
      for (let k = 0; k < 6; k++) e[k]! *= scale;
      // Near the goal, shrink damping and the posture pull: the damped projector leaks into the task space.
      const near = Math.min(1, Math.max(0.02, (posErr + 0.1 * rotErr) / 0.02));
      dlsStep(this.jacobian(), e, lambda * near, q, rest, gain * near, this.lower, this.upper);
    }
    return { q, positionError: posErr, rotationError: rotErr, converged: posErr < posTol && rotErr < rotTol };
  }
}

const A = new Float64Array(36);
const Ainv = new Float64Array(36);
const Jp = new Float64Array(6 * ARM_DOF); // J⁺ = Jᵀ (J Jᵀ + λ²I)⁻¹, stored 7×6
const dq = new Float64Array(ARM_DOF);
const qn = new Float64Array(ARM_DOF);

/** One DLS update of q in place (module scratch: not re-entrant). */
function dlsStep(
  J: Float64Array,
  e: Float64Array,
  lambda: number,
  q: Float64Array,
  rest: ArrayLike<number> | undefined,
  gain: number,
  lower: Float64Array,
  upper: Float64Array,
): void {
  const n = ARM_DOF;
  for (let r = 0; r < 6; r++) {
    for (let c = 0; c < 6; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += J[r * n + k]! * J[c * n + k]!;
      A[r * 6 + c] = s + (r === c ? lambda * lambda : 0);
    }
  }
  invert6(A, Ainv);
  for (let k = 0; k < n; k++) {
    for (let c = 0; c < 6; c++) {
      let s = 0;
      for (let r = 0; r < 6; r++) s += J[r * n + k]! * Ainv[r * 6 + c]!;
      Jp[k * 6 + c] = s;
    }
  }
  for (let k = 0; k < n; k++) {
    let s = 0;
    for (let c = 0; c < 6; c++) s += Jp[k * 6 + c]! * e[c]!;
    dq[k] = s;
    const mid = rest ? rest[k]! : (lower[k]! + upper[k]!) / 2;
    qn[k] = gain * (mid - q[k]!);
  }
  // null-space projection: (I − J⁺J) qn
  for (let k = 0; k < n; k++) {
    let s = qn[k]!;
    for (let m = 0; m < n; m++) {
      let jpj = 0;
      for (let c = 0; c < 6; c++) jpj += Jp[k * 6 + c]! * J[c * n + m]!;
      s -= jpj * qn[m]!;
    }
    const next = q[k]! + dq[k]! + s;
    q[k] = Math.min(upper[k]!, Math.max(lower[k]!, next));
  }
}

/** Gauss–Jordan inverse of a 6×6 symmetric positive-definite matrix (partial pivoting). */
function invert6(m: Float64Array, out: Float64Array): void {
  const a = scratch6;
  a.set(m);
  out.fill(0);
  for (let i = 0; i < 6; i++) out[i * 6 + i] = 1;
  for (let col = 0; col < 6; col++) {
    let piv = col;
    for (let r = col + 1; r < 6; r++) if (Math.abs(a[r * 6 + col]!) > Math.abs(a[piv * 6 + col]!)) piv = r;
    if (piv !== col) {
      for (let c = 0; c < 6; c++) {
        let t = a[col * 6 + c]!;
        a[col * 6 + c] = a[piv * 6 + c]!;
        a[piv * 6 + c] = t;
        t = out[col * 6 + c]!;
        out[col * 6 + c] = out[piv * 6 + c]!;
        out[piv * 6 + c] = t;
      }
    }
    const d = 1 / a[col * 6 + col]!;
    for (let c = 0; c < 6; c++) {
      a[col * 6 + c]! *= d;
      out[col * 6 + c]! *= d;
    }
    for (let r = 0; r < 6; r++) {
      if (r === col) continue;
      const f = a[r * 6 + col]!;
      if (f === 0) continue;
      for (let c = 0; c < 6; c++) {
        a[r * 6 + c]! -= f * a[col * 6 + c]!;
        out[r * 6 + c]! -= f * out[col * 6 + c]!;
      }
    }
  }
}
const scratch6 = new Float64Array(36);
