import * as CANNON from "cannon-es";
import { describe, expect, it } from "vitest";
import { GaussSeidelSolver } from "../../src/sim/solver.ts";

/**
 * A small world with what the simulator's solver meets: contacts with a static table, a kinematic pusher (fixed in
 * the solve) against dynamic bodies, a hinge with a bounded motor between two dynamic bodies, and a compliant lock.
 */
function makeWorld(solver: CANNON.GSSolver) {
  const world = new CANNON.World();
  world.gravity.set(0, 0, -9.81);
  solver.iterations = 50;
  solver.tolerance = 1e-7;
  world.solver = solver;
  const table = new CANNON.Body({ mass: 0, shape: new CANNON.Box(new CANNON.Vec3(1, 1, 0.05)) });
  table.position.set(0, 0, -0.05);
  const bottle = new CANNON.Body({ mass: 0.35, shape: new CANNON.Cylinder(0.03, 0.03, 0.17, 8) });
  bottle.position.set(0, 0, 0.0851);
  bottle.quaternion.setFromEuler(Math.PI / 2, 0.3, 0.02);
  const cap = new CANNON.Body({ mass: 0.05, shape: new CANNON.Box(new CANNON.Vec3(0.017, 0.017, 0.011)) });
  cap.position.set(0, 0, 0.181);
  const block = new CANNON.Body({ mass: 0.2, shape: new CANNON.Box(new CANNON.Vec3(0.03, 0.03, 0.03)) });
  block.position.set(0.2, 0.01, 0.04);
  block.quaternion.setFromEuler(0.1, 0.05, 0.7);
  const pusher = new CANNON.Body({ mass: 0, type: CANNON.Body.KINEMATIC, shape: new CANNON.Sphere(0.03) });
  pusher.position.set(-0.2, 0, 0.06);
  pusher.velocity.set(0.3, 0.02, -0.01);
  for (const b of [table, bottle, cap, block, pusher]) world.addBody(b);
  const hinge = new CANNON.HingeConstraint(bottle, cap, {
    pivotA: new CANNON.Vec3(0.001, 0.096, 0.002),
    axisA: new CANNON.Vec3(0, 1, 0),
    pivotB: new CANNON.Vec3(0, 0, 0),
    axisB: new CANNON.Vec3(0, 0, 1),
  });
  hinge.enableMotor();
  hinge.setMotorSpeed(2);
  hinge.motorEquation.maxForce = 0.1 / 240;
  hinge.motorEquation.minForce = -0.1 / 240;
  world.addConstraint(hinge);
  const lock = new CANNON.LockConstraint(pusher, block);
  lock.equations.forEach((eq, i) => eq.setSpookParams(i < 3 ? 3000 : 30, 3, 1 / 240));
  return { world, bodies: [table, bottle, cap, block, pusher], lock };
}

/** Every position, orientation and velocity component of the bodies, as numbers. */
function stateOf(bodies: CANNON.Body[]): number[] {
  return bodies.flatMap((b) => [
    ...b.position.toArray(),
    ...b.quaternion.toArray(),
    ...b.velocity.toArray(),
    ...b.angularVelocity.toArray(),
  ]);
}

/** Step both worlds `steps` times (the lock added halfway), returning both states after every step. */
function stepBoth(steps: number, perturb?: (bodies: CANNON.Body[]) => void) {
  const a = makeWorld(new CANNON.GSSolver());
  const b = makeWorld(new GaussSeidelSolver());
  const states: [number[], number[]][] = [];
  const iterations: [number, number][] = [];
  for (let t = 0; t < steps; t++) {
    if (t === steps / 2) {
      a.world.addConstraint(a.lock);
      b.world.addConstraint(b.lock);
      perturb?.(a.bodies);
      perturb?.(b.bodies);
    }
    const ia = a.world.solver.solve.bind(a.world.solver);
    const ib = b.world.solver.solve.bind(b.world.solver);
    let na = -1;
    let nb = -1;
    a.world.solver.solve = (dt, w) => (na = ia(dt, w));
    b.world.solver.solve = (dt, w) => (nb = ib(dt, w));
    a.world.step(1 / 240);
    b.world.step(1 / 240);
    iterations.push([na, nb]);
    states.push([stateOf(a.bodies), stateOf(b.bodies)]);
  }
  return { states, iterations, multipliers: [a.lock.equations[0]!.multiplier, b.lock.equations[0]!.multiplier] };
}

describe("GaussSeidelSolver", () => {
  it("gives cannon-es's GSSolver's results to the bit: contacts, a kinematic pusher, a motor hinge, a lock", () => {
    const { states, iterations, multipliers } = stepBoth(240);
    let differing = 0;
    for (const [x, y] of states) for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) differing++;
    expect(differing).toBe(0);
    expect(iterations.every(([x, y]) => x === y)).toBe(true);
    expect(iterations.some(([x]) => x === 50)).toBe(true); // the iterations ran to the cap, not stopped at once
    expect(Object.is(multipliers[0], multipliers[1])).toBe(true);
    // the pusher moved the block: the kinematic–dynamic path was exercised
    const last = states.at(-1)![0];
    expect(Math.abs(last[3 * 13]! - 0.2)).toBeGreaterThan(1e-3);
  });

  it("matches it when a velocity becomes NaN (the path without shortcuts)", () => {
    const { states } = stepBoth(20, (bodies) => bodies[3]!.velocity.set(Number.NaN, 0, 0));
    const last = states.at(-1)!;
    expect(last[0].some(Number.isNaN)).toBe(true);
    for (const [x, y] of states) expect(x.map((v, i) => Object.is(v, y[i])).every(Boolean)).toBe(true);
  });
});
