// cannon-es's Gauss–Seidel solver with its inner loop over packed arrays: the same arithmetic in the same order, so
// the same bits, in about a third of the time (docs/experiments/simulator.md, "A faster simulator").
import * as CANNON from "cannon-es";
import { DuetError } from "../core/index.ts";

/**
 * Doubles per equation in `GaussSeidelSolver.eqs`: B, 1/C, ε, min and max force, inverse masses of bodies i and j,
 * their constant parts of G·W when fixed (see `pack`), the Jacobians of i and j (spatial xyz, rotational xyz),
 * inv(I_world)·G_rotational of i and j, and λ.
 */
const EQ = 28;
const B = 0;
const INV_C = 1;
const EPS = 2;
const MIN_F = 3;
const MAX_F = 4;
const M_I = 5;
const M_J = 6;
const Z_I = 7;
const Z_J = 8;
const G_I = 9;
const G_J = 15;
const T_I = 21;
const T_J = 24;
const LAMBDA = 27;
/** Int32s per equation in `GaussSeidelSolver.refs`: offsets of bodies i and j into `vw`, then the fixed flags. */
const REF = 3;
/** Flags: body i, body j fixed in the solve. */
const FIXED_I = 1;
const FIXED_J = 2;

/**
 * `CANNON.GSSolver`, whose `solve` spent 60% of an expert episode in method calls on `Vec3`s (each equation's
 * Jacobian times both bodies' velocity corrections, 50 iterations of ≈ 35 equations per physics step). This one
 * copies what stays fixed during the iterations into one record per equation once per step — its Jacobians, the
 * bodies' inverse masses, and inv(I)·G_rotational, which cannon-es recomputes (to the same bits) every iteration —
 * and keeps the bodies' velocity corrections (`vlambda`, `wlambda`) packed while it iterates, writing them back
 * before they are added to the velocities as cannon-es does. Every floating-point operation is cannon-es's, in its
 * order (`Equation.computeGWlambda`, `addToWlambda`; `Vec3.dot`, `addScaledVector`; `Mat3.vmult`): trajectories are
 * bit-identical (tests/sim/solver.test.ts, scripts/expert-digest.ts).
 *
 * A body fixed in the solve (zero inverse mass and inertia: static, kinematic) keeps corrections of +0 while every
 * Δλ is finite (+0 plus ±0 is +0), so its terms are skipped, its part of G·W being a constant ±0; should a Δλ not be
 * finite, the iterations are done again without skipping. Scratch arrays belong to the instance: one solver per
 * world.
 */
export class GaussSeidelSolver extends CANNON.GSSolver {
  /** `Neq,EQ` equation records. */
  private eqs = new Float64Array(0);
  /** `Neq,REF` body offsets and flags. */
  private refs = new Int32Array(0);
  /** `Nbodies,6`: each body's vlambda xyz, wlambda xyz. */
  private vw = new Float64Array(0);

  override solve(dt: number, world: CANNON.World): number {
    const equations = this.equations;
    const n = equations.length;
    if (n === 0) return 0;
    const bodies = world.bodies;
    for (const body of bodies) body.updateSolveMassProperties();
    this.reserve(n, bodies.length);
    const { eqs, refs, vw } = this;
    for (let k = 0; k !== n; k++) {
      const c = equations[k]!;
      const o = k * EQ;
      eqs[o + B] = (c as SolvedEquation).computeB(dt);
      eqs[o + INV_C] = 1.0 / c.computeC();
      eqs[o + EPS] = c.eps;
      eqs[o + MIN_F] = c.minForce;
      eqs[o + MAX_F] = c.maxForce;
      const fixedI = pack(c.jacobianElementA, c.bi, eqs, o, M_I, Z_I, G_I, T_I);
      const fixedJ = pack(c.jacobianElementB, c.bj, eqs, o, M_J, Z_J, G_J, T_J);
      refs[k * REF] = bodyOffset(bodies, c.bi);
      refs[k * REF + 1] = bodyOffset(bodies, c.bj);
      refs[k * REF + 2] = (fixedI ? FIXED_I : 0) | (fixedJ ? FIXED_J : 0);
    }
    let iter = this.iterate(n, FIXED_I | FIXED_J);
    if (iter < 0) iter = this.iterate(n, 0);
    // what GSSolver does after its iterations: add the corrections to the velocities, set the multipliers
    for (let k = 0; k !== bodies.length; k++) {
      const body = bodies[k]!;
      const o = k * 6;
      body.vlambda.set(vw[o]!, vw[o + 1]!, vw[o + 2]!);
      body.wlambda.set(vw[o + 3]!, vw[o + 4]!, vw[o + 5]!);
      body.vlambda.vmul(body.linearFactor, body.vlambda);
      body.velocity.vadd(body.vlambda, body.velocity);
      body.wlambda.vmul(body.angularFactor, body.wlambda);
      body.angularVelocity.vadd(body.wlambda, body.angularVelocity);
    }
    const invDt = 1 / dt;
    for (let k = n - 1; k >= 0; k--) equations[k]!.multiplier = eqs[k * EQ + LAMBDA]! * invDt;
    return iter;
  }

  /**
   * GSSolver's iterations over the packed equations, skipping the terms of fixed bodies whose flag is in `skip`.
   * Returns the iterations done, or −1 when a term was skipped and some Δλ was not finite (a fixed body's corrections
   * would then have become NaN): then call again with `skip` 0.
   */
  private iterate(n: number, skip: number): number {
    const { eqs, refs, vw } = this;
    for (let k = 0; k !== n; k++) eqs[k * EQ + LAMBDA] = 0.0;
    vw.fill(0);
    const maxIter = this.iterations;
    const tolSquared = this.tolerance * this.tolerance;
    let iter: number;
    for (iter = 0; iter !== maxIter; iter++) {
      let total = 0.0;
      for (let k = 0, o = 0, r = 0; k !== n; k++, o += EQ, r += REF) {
        const i = refs[r]!;
        const j = refs[r + 1]!;
        const fixed = refs[r + 2]! & skip;
        const fi = (fixed & FIXED_I) !== 0;
        const fj = (fixed & FIXED_J) !== 0;
        // Equation.computeGWlambda: GA·(vi, wi) + GB·(vj, wj), each spatial·v + rotational·w
        const gwi = fi
          ? eqs[o + Z_I]!
          : vw[i]! * eqs[o + G_I]! +
            vw[i + 1]! * eqs[o + G_I + 1]! +
            vw[i + 2]! * eqs[o + G_I + 2]! +
            (vw[i + 3]! * eqs[o + G_I + 3]! + vw[i + 4]! * eqs[o + G_I + 4]! + vw[i + 5]! * eqs[o + G_I + 5]!);
        const gwj = fj
          ? eqs[o + Z_J]!
          : vw[j]! * eqs[o + G_J]! +
            vw[j + 1]! * eqs[o + G_J + 1]! +
            vw[j + 2]! * eqs[o + G_J + 2]! +
            (vw[j + 3]! * eqs[o + G_J + 3]! + vw[j + 4]! * eqs[o + G_J + 4]! + vw[j + 5]! * eqs[o + G_J + 5]!);
        const lk = eqs[o + LAMBDA]!;
        let dl = eqs[o + INV_C]! * (eqs[o + B]! - (gwi + gwj) - eqs[o + EPS]! * lk);
        if (lk + dl < eqs[o + MIN_F]!) dl = eqs[o + MIN_F]! - lk;
        else if (lk + dl > eqs[o + MAX_F]!) dl = eqs[o + MAX_F]! - lk;
        eqs[o + LAMBDA] = lk + dl;
        total += dl > 0.0 ? dl : -dl;
        // Equation.addToWlambda: v += (m⁻¹·Δλ)·G_spatial for body i then j, then w += Δλ·(I⁻¹·G_rotational)
        if (!fi) {
          const s = eqs[o + M_I]! * dl;
          vw[i] = vw[i]! + s * eqs[o + G_I]!;
          vw[i + 1] = vw[i + 1]! + s * eqs[o + G_I + 1]!;
          vw[i + 2] = vw[i + 2]! + s * eqs[o + G_I + 2]!;
        }
        if (!fj) {
          const s = eqs[o + M_J]! * dl;
          vw[j] = vw[j]! + s * eqs[o + G_J]!;
          vw[j + 1] = vw[j + 1]! + s * eqs[o + G_J + 1]!;
          vw[j + 2] = vw[j + 2]! + s * eqs[o + G_J + 2]!;
        }
        if (!fi) {
          vw[i + 3] = vw[i + 3]! + dl * eqs[o + T_I]!;
          vw[i + 4] = vw[i + 4]! + dl * eqs[o + T_I + 1]!;
          vw[i + 5] = vw[i + 5]! + dl * eqs[o + T_I + 2]!;
        }
        if (!fj) {
          vw[j + 3] = vw[j + 3]! + dl * eqs[o + T_J]!;
          vw[j + 4] = vw[j + 4]! + dl * eqs[o + T_J + 1]!;
          vw[j + 5] = vw[j + 5]! + dl * eqs[o + T_J + 2]!;
        }
      }
      if (skip !== 0 && !Number.isFinite(total)) return -1;
      if (total * total < tolSquared) break;
    }
    return iter;
  }

  /** Grow the scratch arrays to hold `n` equations and `bodies` bodies (doubling, so a run settles at no allocation). */
  private reserve(n: number, bodies: number): void {
    if (n * EQ > this.eqs.length) {
      const size = Math.max(n, (2 * this.eqs.length) / EQ);
      this.eqs = new Float64Array(size * EQ);
      this.refs = new Int32Array(size * REF);
    }
    if (bodies * 6 > this.vw.length) this.vw = new Float64Array(bodies * 6);
  }
}

/** cannon-es's types declare the base class's computeB(a, b, h); every equation the solver meets has computeB(h). */
type SolvedEquation = CANNON.Equation & { computeB(h: number): number };

/** A body's offset (index · 6) into the packed velocity corrections. */
function bodyOffset(bodies: readonly CANNON.Body[], body: CANNON.Body): number {
  if (bodies[body.index] !== body) {
    throw new DuetError(`GaussSeidelSolver: an equation's body (id ${body.id}) is not in the world it solves`);
  }
  return body.index * 6;
}

/**
 * Pack one side of the equation record at `eqs[o]`: the Jacobian element for `body` at `g`, inv(I_world)·G_rotational
 * (as `Mat3.vmult`) at `t`, the inverse mass at `m`. Returns whether the body is fixed in the solve (zero inverse mass
 * and inertia, a finite Jacobian), with its constant part of G·W — G·(+0), as computeGWlambda sums it — at `z`.
 */
function pack(
  el: CANNON.JacobianElement,
  body: CANNON.Body,
  eqs: Float64Array,
  o: number,
  m: number,
  z: number,
  g: number,
  t: number,
): boolean {
  const s = el.spatial;
  const r = el.rotational;
  eqs[o + g] = s.x;
  eqs[o + g + 1] = s.y;
  eqs[o + g + 2] = s.z;
  eqs[o + g + 3] = r.x;
  eqs[o + g + 4] = r.y;
  eqs[o + g + 5] = r.z;
  const e = body.invInertiaWorldSolve.elements;
  eqs[o + t] = e[0]! * r.x + e[1]! * r.y + e[2]! * r.z;
  eqs[o + t + 1] = e[3]! * r.x + e[4]! * r.y + e[5]! * r.z;
  eqs[o + t + 2] = e[6]! * r.x + e[7]! * r.y + e[8]! * r.z;
  eqs[o + m] = body.invMassSolve;
  if (body.invMassSolve !== 0) return false;
  for (let q = 0; q < 9; q++) if (e[q] !== 0) return false;
  for (let q = o + g; q < o + g + 6; q++) if (!Number.isFinite(eqs[q]!)) return false;
  eqs[o + z] = 0 * s.x + 0 * s.y + 0 * s.z + (0 * r.x + 0 * r.y + 0 * r.z);
  return true;
}
