// cannon-es's Gauss–Seidel solver with its inner loop over packed arrays: the same arithmetic in the same order, so
// the same bits, about 8× faster (docs/experiments/simulator.md, "A faster simulator").
import * as CANNON from "cannon-es";
import { DuetError } from "../core/index.ts";

/**
 * `CANNON.GSSolver`, whose `solve` spent 60% of an expert episode in method calls on `Vec3`s (each equation's
 * Jacobian times both bodies' velocity corrections, 50 iterations of ≈ 35 equations per physics step). This one
 * copies what stays fixed during the iterations into typed arrays once per step — each equation's Jacobian, bodies'
 * inverse masses, and inv(I)·G_rotational, which cannon-es recomputes (to the same bits) every iteration — and keeps
 * the bodies' velocity corrections (`vlambda`, `wlambda`) packed while it iterates, writing them back before the
 * result is added to the velocities as cannon-es does. Every floating-point operation is cannon-es's, in its order
 * (`Equation.computeGWlambda`, `addToWlambda`; `Vec3.dot`, `addScaledVector`; `Mat3.vmult`): trajectories are
 * bit-identical (scripts/expert-digest.ts). Scratch arrays belong to the instance: one solver per world.
 */
export class GaussSeidelSolver extends CANNON.GSSolver {
  /** Per equation: B, 1/C, ε, force bounds, λ. */
  private b = new Float64Array(0);
  private invC = new Float64Array(0);
  private eps = new Float64Array(0);
  private minForce = new Float64Array(0);
  private maxForce = new Float64Array(0);
  private lambda = new Float64Array(0);
  /** Per equation: offsets (body index · 3) of its bodies i and j into `vl` and `wl`. */
  private bodyI = new Int32Array(0);
  private bodyJ = new Int32Array(0);
  /** Per equation: the Jacobian of body i and of body j, spatial xyz then rotational xyz (`Neq·6`). */
  private gi = new Float64Array(0);
  private gj = new Float64Array(0);
  /** Per equation: inv(I_world)·G_rotational of body i and of body j (`Neq·3`). */
  private ti = new Float64Array(0);
  private tj = new Float64Array(0);
  /** Per equation: the inverse masses of body i and body j during the solve. */
  private mi = new Float64Array(0);
  private mj = new Float64Array(0);
  /**
   * Per equation: 1 where body i (j) is fixed in the solve — zero inverse mass and inertia, a finite Jacobian — so its
   * corrections stay +0 (+0 plus ±0 is +0) and its part of G·W is the constant ±0 in `zeroI` (`zeroJ`).
   */
  private fixedI = new Uint8Array(0);
  private fixedJ = new Uint8Array(0);
  private zeroI = new Float64Array(0);
  private zeroJ = new Float64Array(0);
  /** All zeros: no shortcuts. */
  private noneFixed = new Uint8Array(0);
  /** Per body: the velocity corrections vlambda and wlambda (`Nbodies·3`). */
  private vl = new Float64Array(0);
  private wl = new Float64Array(0);

  override solve(dt: number, world: CANNON.World): number {
    const equations = this.equations;
    const n = equations.length;
    if (n === 0) return 0;
    const bodies = world.bodies;
    for (const body of bodies) body.updateSolveMassProperties();
    this.reserve(n, bodies.length);
    const { b, invC, eps, minForce, maxForce, bodyI, bodyJ, gi, gj, ti, tj, mi, mj, vl, wl } = this;
    for (let k = 0; k !== n; k++) {
      const c = equations[k]!;
      b[k] = (c as SolvedEquation).computeB(dt);
      invC[k] = 1.0 / c.computeC();
      eps[k] = c.eps;
      minForce[k] = c.minForce;
      maxForce[k] = c.maxForce;
      bodyI[k] = bodyOffset(bodies, c.bi);
      bodyJ[k] = bodyOffset(bodies, c.bj);
      this.fixedI[k] = pack(c.jacobianElementA, c.bi, k, gi, ti, mi, this.zeroI);
      this.fixedJ[k] = pack(c.jacobianElementB, c.bj, k, gj, tj, mj, this.zeroJ);
    }
    // a fixed body's corrections stay +0 while every Δλ is finite; else redo the iterations the long way round
    let iter = this.iterate(n, true);
    if (iter < 0) iter = this.iterate(n, false);
    // what GSSolver does after its iterations: add the corrections to the velocities, set the multipliers
    for (let k = 0; k !== bodies.length; k++) {
      const body = bodies[k]!;
      body.vlambda.set(vl[k * 3]!, vl[k * 3 + 1]!, vl[k * 3 + 2]!);
      body.wlambda.set(wl[k * 3]!, wl[k * 3 + 1]!, wl[k * 3 + 2]!);
      body.vlambda.vmul(body.linearFactor, body.vlambda);
      body.velocity.vadd(body.vlambda, body.velocity);
      body.wlambda.vmul(body.angularFactor, body.wlambda);
      body.angularVelocity.vadd(body.wlambda, body.angularVelocity);
    }
    const invDt = 1 / dt;
    for (let k = n - 1; k >= 0; k--) equations[k]!.multiplier = this.lambda[k]! * invDt;
    return iter;
  }

  /**
   * GSSolver's iterations over the packed equations; with `shortcuts`, a fixed body's terms are its constant ±0
   * (`fixedI`, `zeroI`, …) and its corrections are not updated. Returns the iterations done, or −1 when a shortcut was
   * taken and some Δλ was not finite (a fixed body's corrections would then have become NaN): call again without.
   */
  private iterate(n: number, shortcuts: boolean): number {
    const { b, invC, eps, minForce, maxForce, lambda, bodyI, bodyJ, gi, gj, ti, tj, mi, mj, vl, wl } = this;
    const fixedI = shortcuts ? this.fixedI : this.noneFixed;
    const fixedJ = shortcuts ? this.fixedJ : this.noneFixed;
    const { zeroI, zeroJ } = this;
    lambda.fill(0, 0, n);
    vl.fill(0);
    wl.fill(0);
    const maxIter = this.iterations;
    const tolSquared = this.tolerance * this.tolerance;
    let iter: number;
    for (iter = 0; iter !== maxIter; iter++) {
      let total = 0.0;
      for (let k = 0; k !== n; k++) {
        const i = bodyI[k]!;
        const j = bodyJ[k]!;
        const g = k * 6;
        const t = k * 3;
        const fi = fixedI[k] === 1;
        const fj = fixedJ[k] === 1;
        // Equation.computeGWlambda: GA·(vi, wi) + GB·(vj, wj), each spatial·v + rotational·w
        const gwi = fi
          ? zeroI[k]!
          : vl[i]! * gi[g]! +
            vl[i + 1]! * gi[g + 1]! +
            vl[i + 2]! * gi[g + 2]! +
            (wl[i]! * gi[g + 3]! + wl[i + 1]! * gi[g + 4]! + wl[i + 2]! * gi[g + 5]!);
        const gwj = fj
          ? zeroJ[k]!
          : vl[j]! * gj[g]! +
            vl[j + 1]! * gj[g + 1]! +
            vl[j + 2]! * gj[g + 2]! +
            (wl[j]! * gj[g + 3]! + wl[j + 1]! * gj[g + 4]! + wl[j + 2]! * gj[g + 5]!);
        const lk = lambda[k]!;
        let dl = invC[k]! * (b[k]! - (gwi + gwj) - eps[k]! * lk);
        if (lk + dl < minForce[k]!) dl = minForce[k]! - lk;
        else if (lk + dl > maxForce[k]!) dl = maxForce[k]! - lk;
        lambda[k] = lk + dl;
        total += dl > 0.0 ? dl : -dl;
        // Equation.addToWlambda: v += (m⁻¹·Δλ)·G_spatial for body i then j, then w += Δλ·(I⁻¹·G_rotational)
        if (!fi) {
          const si = mi[k]! * dl;
          vl[i] = vl[i]! + si * gi[g]!;
          vl[i + 1] = vl[i + 1]! + si * gi[g + 1]!;
          vl[i + 2] = vl[i + 2]! + si * gi[g + 2]!;
        }
        if (!fj) {
          const sj = mj[k]! * dl;
          vl[j] = vl[j]! + sj * gj[g]!;
          vl[j + 1] = vl[j + 1]! + sj * gj[g + 1]!;
          vl[j + 2] = vl[j + 2]! + sj * gj[g + 2]!;
        }
        if (!fi) {
          wl[i] = wl[i]! + dl * ti[t]!;
          wl[i + 1] = wl[i + 1]! + dl * ti[t + 1]!;
          wl[i + 2] = wl[i + 2]! + dl * ti[t + 2]!;
        }
        if (!fj) {
          wl[j] = wl[j]! + dl * tj[t]!;
          wl[j + 1] = wl[j + 1]! + dl * tj[t + 1]!;
          wl[j + 2] = wl[j + 2]! + dl * tj[t + 2]!;
        }
      }
      if (shortcuts && !Number.isFinite(total)) return -1;
      if (total * total < tolSquared) break;
    }
    return iter;
  }

  /** Grow the scratch arrays to hold `n` equations and `bodies` bodies (doubling, so a run settles at no allocation). */
  private reserve(n: number, bodies: number): void {
    if (n > this.b.length) {
      const size = Math.max(n, 2 * this.b.length);
      for (const key of ["b", "invC", "eps", "minForce", "maxForce", "lambda", "mi", "mj", "zeroI", "zeroJ"] as const) {
        this[key] = new Float64Array(size);
      }
      this.fixedI = new Uint8Array(size);
      this.fixedJ = new Uint8Array(size);
      this.noneFixed = new Uint8Array(size);
      this.bodyI = new Int32Array(size);
      this.bodyJ = new Int32Array(size);
      this.gi = new Float64Array(size * 6);
      this.gj = new Float64Array(size * 6);
      this.ti = new Float64Array(size * 3);
      this.tj = new Float64Array(size * 3);
    }
    if (bodies * 3 > this.vl.length) {
      this.vl = new Float64Array(bodies * 3);
      this.wl = new Float64Array(bodies * 3);
    }
  }
}

/** cannon-es's types declare the base class's computeB(a, b, h); every equation the solver meets has computeB(h). */
type SolvedEquation = CANNON.Equation & { computeB(h: number): number };

/** A body's offset (index · 3) into the packed velocity corrections. */
function bodyOffset(bodies: readonly CANNON.Body[], body: CANNON.Body): number {
  if (bodies[body.index] !== body) {
    throw new DuetError(`GaussSeidelSolver: an equation's body (id ${body.id}) is not in the world it solves`);
  }
  return body.index * 3;
}

/**
 * Pack equation `k`'s Jacobian element for `body`, inv(I_world)·G_rotational (as `Mat3.vmult`) and its inverse mass;
 * return 1 when the body is fixed in the solve, with its constant part of G·W (G·0, as computeGWlambda sums it) in
 * `zero[k]`, else 0.
 */
function pack(
  el: CANNON.JacobianElement,
  body: CANNON.Body,
  k: number,
  g: Float64Array,
  t: Float64Array,
  m: Float64Array,
  zero: Float64Array,
): number {
  const s = el.spatial;
  const r = el.rotational;
  const o = k * 6;
  g[o] = s.x;
  g[o + 1] = s.y;
  g[o + 2] = s.z;
  g[o + 3] = r.x;
  g[o + 4] = r.y;
  g[o + 5] = r.z;
  const e = body.invInertiaWorldSolve.elements;
  t[k * 3] = e[0]! * r.x + e[1]! * r.y + e[2]! * r.z;
  t[k * 3 + 1] = e[3]! * r.x + e[4]! * r.y + e[5]! * r.z;
  t[k * 3 + 2] = e[6]! * r.x + e[7]! * r.y + e[8]! * r.z;
  m[k] = body.invMassSolve;
  if (body.invMassSolve !== 0) return 0;
  for (let q = 0; q < 9; q++) if (e[q] !== 0) return 0;
  for (let q = o; q < o + 6; q++) if (!Number.isFinite(g[q]!)) return 0;
  zero[k] = 0 * s.x + 0 * s.y + 0 * s.z + (0 * r.x + 0 * r.y + 0 * r.z);
  return 1;
}
