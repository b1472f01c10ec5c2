// Rigid transforms as plain Float64Arrays: rotation R (3×3 row-major) then translation p. Layout: [R00..R22, px, py, pz].
// Functions write into an `out` argument and allocate nothing, so they can run in the physics and control loops.

/** A rigid transform: 12 numbers, R row-major in [0, 9), translation in [9, 12). */
export type Pose = Float64Array;

export function newPose(): Pose {
  const p = new Float64Array(12);
  p[0] = p[4] = p[8] = 1;
  return p;
}

export function setIdentity(out: Pose): Pose {
  out.fill(0);
  out[0] = out[4] = out[8] = 1;
  return out;
}

export function copyPose(out: Pose, a: Pose): Pose {
  out.set(a);
  return out;
}

/** out = a · b (out may alias a or b). */
export function mulPose(out: Pose, a: Pose, b: Pose): Pose {
  const a0 = a[0]!,
    a1 = a[1]!,
    a2 = a[2]!,
    a3 = a[3]!,
    a4 = a[4]!,
    a5 = a[5]!,
    a6 = a[6]!,
    a7 = a[7]!,
    a8 = a[8]!;
  const ax = a[9]!,
    ay = a[10]!,
    az = a[11]!;
  const b0 = b[0]!,
    b1 = b[1]!,
    b2 = b[2]!,
    b3 = b[3]!,
    b4 = b[4]!,
    b5 = b[5]!,
    b6 = b[6]!,
    b7 = b[7]!,
    b8 = b[8]!;
  const bx = b[9]!,
    by = b[10]!,
    bz = b[11]!;
  out[0] = a0 * b0 + a1 * b3 + a2 * b6;
  out[1] = a0 * b1 + a1 * b4 + a2 * b7;
  out[2] = a0 * b2 + a1 * b5 + a2 * b8;
  out[3] = a3 * b0 + a4 * b3 + a5 * b6;
  out[4] = a3 * b1 + a4 * b4 + a5 * b7;
  out[5] = a3 * b2 + a4 * b5 + a5 * b8;
  out[6] = a6 * b0 + a7 * b3 + a8 * b6;
  out[7] = a6 * b1 + a7 * b4 + a8 * b7;
  out[8] = a6 * b2 + a7 * b5 + a8 * b8;
  out[9] = a0 * bx + a1 * by + a2 * bz + ax;
  out[10] = a3 * bx + a4 * by + a5 * bz + ay;
  out[11] = a6 * bx + a7 * by + a8 * bz + az;
  return out;
}

/** Modified DH link transform RotX(alpha)·TransX(a)·RotZ(theta)·TransZ(d). */
export function dhPose(out: Pose, a: number, alpha: number, d: number, theta: number): Pose {
  const ct = Math.cos(theta),
    st = Math.sin(theta),
    ca = Math.cos(alpha),
    sa = Math.sin(alpha);
  out[0] = ct;
  out[1] = -st;
  out[2] = 0;
  out[3] = st * ca;
  out[4] = ct * ca;
  out[5] = -sa;
  out[6] = st * sa;
  out[7] = ct * sa;
  out[8] = ca;
  out[9] = a;
  out[10] = -sa * d;
  out[11] = ca * d;
  return out;
}

/** Translation then rotation about z: Trans(x, y, z)·RotZ(yaw). */
export function yawPose(out: Pose, x: number, y: number, z: number, yaw: number): Pose {
  setIdentity(out);
  const c = Math.cos(yaw),
    s = Math.sin(yaw);
  out[0] = c;
  out[1] = -s;
  out[3] = s;
  out[4] = c;
  out[9] = x;
  out[10] = y;
  out[11] = z;
  return out;
}

/** Rotation matrix → quaternion [x, y, z, w] written into out at offset. */
export function poseQuaternion(pose: Pose, out: Float64Array | Float32Array | number[], offset = 0): void {
  const m00 = pose[0]!,
    m01 = pose[1]!,
    m02 = pose[2]!,
    m10 = pose[3]!,
    m11 = pose[4]!,
    m12 = pose[5]!;
  const m20 = pose[6]!,
    m21 = pose[7]!,
    m22 = pose[8]!;
  const tr = m00 + m11 + m22;
  let x: number, y: number, z: number, w: number;
  if (tr > 0) {
    const s = 0.5 / Math.sqrt(tr + 1);
    w = 0.25 / s;
    x = (m21 - m12) * s;
    y = (m02 - m20) * s;
    z = (m10 - m01) * s;
  } else if (m00 > m11 && m00 > m22) {
    const s = 2 * Math.sqrt(1 + m00 - m11 - m22);
    w = (m21 - m12) / s;
    x = 0.25 * s;
    y = (m01 + m10) / s;
    z = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = 2 * Math.sqrt(1 + m11 - m00 - m22);
    w = (m02 - m20) / s;
    x = (m01 + m10) / s;
    y = 0.25 * s;
    z = (m12 + m21) / s;
  } else {
    const s = 2 * Math.sqrt(1 + m22 - m00 - m11);
    w = (m10 - m01) / s;
    x = (m02 + m20) / s;
    y = (m12 + m21) / s;
    z = 0.25 * s;
  }
  out[offset] = x;
  out[offset + 1] = y;
  out[offset + 2] = z;
  out[offset + 3] = w;
}

/** Quaternion [x, y, z, w] + position → pose. */
export function poseFromQuaternion(
  out: Pose,
  x: number,
  y: number,
  z: number,
  w: number,
  px: number,
  py: number,
  pz: number,
): Pose {
  out[0] = 1 - 2 * (y * y + z * z);
  out[1] = 2 * (x * y - z * w);
  out[2] = 2 * (x * z + y * w);
  out[3] = 2 * (x * y + z * w);
  out[4] = 1 - 2 * (x * x + z * z);
  out[5] = 2 * (y * z - x * w);
  out[6] = 2 * (x * z - y * w);
  out[7] = 2 * (y * z + x * w);
  out[8] = 1 - 2 * (x * x + y * y);
  out[9] = px;
  out[10] = py;
  out[11] = pz;
  return out;
}

/**
 * Orientation error as a rotation vector (axis·angle) taking `current` to `target`, both world rotations:
 * R_err = R_target · R_currentᵀ. Written into out[o..o+3).
 */
export function rotationError(target: Pose, current: Pose, out: Float64Array, o: number): void {
  // R_err = T Cᵀ
  const t = target,
    c = current;
  const r00 = t[0]! * c[0]! + t[1]! * c[1]! + t[2]! * c[2]!;
  const r01 = t[0]! * c[3]! + t[1]! * c[4]! + t[2]! * c[5]!;
  const r02 = t[0]! * c[6]! + t[1]! * c[7]! + t[2]! * c[8]!;
  const r10 = t[3]! * c[0]! + t[4]! * c[1]! + t[5]! * c[2]!;
  const r11 = t[3]! * c[3]! + t[4]! * c[4]! + t[5]! * c[5]!;
  const r12 = t[3]! * c[6]! + t[4]! * c[7]! + t[5]! * c[8]!;
  const r20 = t[6]! * c[0]! + t[7]! * c[1]! + t[8]! * c[2]!;
  const r21 = t[6]! * c[3]! + t[7]! * c[4]! + t[8]! * c[5]!;
  const r22 = t[6]! * c[6]! + t[7]! * c[7]! + t[8]! * c[8]!;
  const cos = Math.min(1, Math.max(-1, (r00 + r11 + r22 - 1) / 2));
  const angle = Math.acos(cos);
  let x = r21 - r12,
    y = r02 - r20,
    z = r10 - r01;
  const n = Math.hypot(x, y, z);
  if (n < 1e-9) {
    if (angle < 1e-6) {
      out[o] = out[o + 1] = out[o + 2] = 0;
      return;
    }
    // angle ≈ π: axis from the diagonal
    x = Math.sqrt(Math.max(0, (r00 + 1) / 2));
    y = Math.sqrt(Math.max(0, (r11 + 1) / 2)) * (r01 >= 0 ? 1 : -1);
    z = Math.sqrt(Math.max(0, (r22 + 1) / 2)) * (r02 >= 0 ? 1 : -1);
    out[o] = x * angle;
    out[o + 1] = y * angle;
    out[o + 2] = z * angle;
    return;
  }
  const k = angle / n;
  out[o] = x * k;
  out[o + 1] = y * k;
  out[o + 2] = z * k;
}

/** Pose from a tool z axis (approach direction) and a tool y axis (finger closing direction), at position p. */
export function poseFromAxes(
  out: Pose,
  zx: number,
  zy: number,
  zz: number,
  yx: number,
  yy: number,
  yz: number,
  px: number,
  py: number,
  pz: number,
): Pose {
  let n = Math.hypot(zx, zy, zz);
  zx /= n;
  zy /= n;
  zz /= n;
  // make y orthogonal to z
  const d = yx * zx + yy * zy + yz * zz;
  yx -= d * zx;
  yy -= d * zy;
  yz -= d * zz;
  n = Math.hypot(yx, yy, yz);
  yx /= n;
  yy /= n;
  yz /= n;
  // x = y × z
  const xx = yy * zz - yz * zy,
    xy = yz * zx - yx * zz,
    xz = yx * zy - yy * zx;
  out[0] = xx;
  out[1] = yx;
  out[2] = zx;
  out[3] = xy;
  out[4] = yy;
  out[5] = zy;
  out[6] = xz;
  out[7] = yz;
  out[8] = zz;
  out[9] = px;
  out[10] = py;
  out[11] = pz;
  return out;
}
