// The physical world of one episode: table, two servo-tracked kinematic arms with grippers, a dynamic bottle and a
// cap on a screw thread. Built from body descriptions; stepped at the physics rate.
import * as CANNON from "cannon-es";
import { ARMS, ARM_DOF, type Arm, type RobotDescription } from "../core/index.ts";
import { armBodies, bottleBody, capBody, capSeatHeight, fingerCenter, tableBody, type BodySpec } from "./bodies.ts";
import type { Appearance } from "./appearance.ts";
import { ArmKinematics } from "./kinematics.ts";
import { GripFriction, Gripper, type WeldOptions } from "./gripper.ts";
import { cannonBody } from "./physics.ts";
import { type Pose, dhPose, mulPose, newPose, poseQuaternion } from "./pose.ts";
import type { GraspModel, Scenario } from "./scenario.ts";
import { GaussSeidelSolver } from "./solver.ts";
import { ScrewThread } from "./thread.ts";

/** Per-episode draws from the scenario's randomization ranges. */
export interface EpisodeParams {
  bottleX: number;
  bottleY: number;
  bottleYaw: number;
  frictionTorque: number;
  /** How the grippers hold: the scenario's model, or the one drawn from its weights. */
  grasp: GraspModel;
  /** What the cameras see beyond the bodies' shapes (camera offsets, light, colours); no physics reads it. */
  appearance: Appearance;
}

/** One arm: kinematics, servo state and its kinematic bodies (7 links, hand, 2 fingers). */
export class ArmState {
  readonly q = new Float64Array(ARM_DOF);
  readonly target = new Float64Array(ARM_DOF);
  readonly kin: ArmKinematics;
  readonly gripper: Gripper;
  readonly velocity: Float64Array;
  /** Kinematic bodies in order: links 1..7, hand, finger a (+y), finger b (−y). */
  readonly moving: CANNON.Body[];
  /** Their target poses for the current physics step. */
  private readonly poses: Pose[];
  private readonly fingerOffset = newPose();
  private readonly fingerThickness: number;
  private readonly fingerCenter: number;

  constructor(
    robot: RobotDescription,
    readonly arm: Arm,
    moving: CANNON.Body[],
    weld: WeldOptions | null,
  ) {
    this.kin = new ArmKinematics(robot, arm);
    this.moving = moving;
    this.poses = moving.map(() => newPose());
    this.velocity = Float64Array.from(robot.joints, (j) => j.velocity);
    this.gripper = new Gripper(robot, moving[ARM_DOF]!, moving[ARM_DOF + 1]!, moving[ARM_DOF + 2]!, weld);
    this.fingerThickness = robot.gripper.finger_size[1];
    this.fingerCenter = fingerCenter(robot);
    this.q.set(robot.arms[arm].home);
    this.target.set(robot.arms[arm].home);
  }

  /** Move joints toward targets within velocity limits, fingers toward their target. */
  servo(dt: number): void {
    for (let i = 0; i < ARM_DOF; i++) {
      const step = this.velocity[i]! * dt;
      const d = this.target[i]! - this.q[i]!;
      this.q[i]! += d > step ? step : d < -step ? -step : d;
    }
    this.gripper.servo(dt);
  }

  /** Compute body poses from FK. With `dt`, set body velocities so the next step moves them there; else place them. */
  pose(dt: number | null): void {
    const k = this.kin;
    k.forward(this.q);
    for (let i = 0; i < ARM_DOF; i++) this.poses[i]!.set(k.frames[i]!);
    this.poses[ARM_DOF]!.set(k.flange);
    // finger a at +y, finger b at −y of the hand (no per-step allocation: this runs every physics step)
    const y = this.gripper.opening + this.fingerThickness / 2;
    dhPose(this.fingerOffset, 0, 0, this.fingerCenter, 0);
    this.fingerOffset[10] = y;
    mulPose(this.poses[ARM_DOF + 1]!, k.flange, this.fingerOffset);
    this.fingerOffset[10] = -y;
    mulPose(this.poses[ARM_DOF + 2]!, k.flange, this.fingerOffset);
    for (let i = 0; i < this.moving.length; i++) setBodyPose(this.moving[i]!, this.poses[i]!, dt);
  }

  /** Place bodies exactly at the poses computed by the last `pose` call (removes integration drift). */
  snap(): void {
    for (let i = 0; i < this.moving.length; i++) setBodyPose(this.moving[i]!, this.poses[i]!, null);
  }
}

const quat = new Float64Array(4);

/** Pose a kinematic body. With dt: keep its current pose, set velocities reaching `pose` after dt. */
function setBodyPose(body: CANNON.Body, pose: Pose, dt: number | null): void {
  poseQuaternion(pose, quat);
  let x = quat[0]!,
    y = quat[1]!,
    z = quat[2]!,
    w = quat[3]!;
  if (dt === null) {
    body.position.set(pose[9]!, pose[10]!, pose[11]!);
    body.quaternion.set(x, y, z, w);
    body.velocity.set(0, 0, 0);
    body.angularVelocity.set(0, 0, 0);
    return;
  }
  body.velocity.set(
    (pose[9]! - body.position.x) / dt,
    (pose[10]! - body.position.y) / dt,
    (pose[11]! - body.position.z) / dt,
  );
  // ω ≈ 2·vec(q_new · conj(q_old)) / dt, on the short way round
  const q = body.quaternion;
  if (x * q.x + y * q.y + z * q.z + w * q.w < 0) {
    x = -x;
    y = -y;
    z = -z;
    w = -w;
  }
  const dx = -w * q.x + x * q.w - y * q.z + z * q.y;
  const dy = -w * q.y + y * q.w - z * q.x + x * q.z;
  const dz = -w * q.z + z * q.w - x * q.y + y * q.x;
  body.angularVelocity.set((2 * dx) / dt, (2 * dy) / dt, (2 * dz) / dt);
}

/** The whole scene: bodies by name (with their descriptions), arms, bottle, cap, thread. */
export class BimanualWorld {
  readonly world = new CANNON.World();
  readonly specs: BodySpec[] = [];
  readonly bodies: CANNON.Body[] = [];
  readonly arms: Record<Arm, ArmState>;
  readonly bottle: CANNON.Body;
  readonly cap: CANNON.Body;
  readonly thread: ScrewThread;
  readonly dt: number;
  private readonly weld: boolean;

  constructor(
    readonly scenario: Scenario,
    readonly params: EpisodeParams,
  ) {
    const robot = scenario.robotDescription;
    this.dt = 1 / scenario.physics_hz;
    this.weld = params.grasp === "weld";
    const w = this.world;
    w.gravity.set(0, 0, -9.81);
    w.allowSleep = false;
    const solver = new GaussSeidelSolver();
    solver.iterations = scenario.solver_iterations;
    solver.tolerance = 1e-7;
    w.solver = solver;
    w.broadphase = new CANNON.NaiveBroadphase();
    const tableMat = new CANNON.Material("table");
    const objectMat = new CANNON.Material("object");
    const fingerMat = new CANNON.Material("finger");
    w.addContactMaterial(
      new CANNON.ContactMaterial(tableMat, objectMat, { friction: scenario.bottle.friction, restitution: 0 }),
    );
    w.addContactMaterial(
      new CANNON.ContactMaterial(fingerMat, objectMat, { friction: robot.gripper.friction, restitution: 0 }),
    );
    w.addContactMaterial(new CANNON.ContactMaterial(objectMat, objectMat, { friction: 0.5, restitution: 0 }));

    const add = (spec: BodySpec, material: CANNON.Material): CANNON.Body => {
      const body = cannonBody(spec, material);
      this.specs.push(spec);
      this.bodies.push(body);
      w.addBody(body);
      return body;
    };
    const colors = params.appearance.colors;
    add(tableBody(colors.table), tableMat);
    const arms = {} as Record<Arm, ArmState>;
    const g = scenario.grasp;
    const weld = this.weld
      ? { stiffness: g.stiffness ?? Infinity, angularStiffness: g.angular_stiffness ?? Infinity, dt: this.dt }
      : null;
    for (const arm of ARMS) {
      const specs = armBodies(robot, arm);
      const bodies = specs.map((s) => add(s, s.role === "finger" ? fingerMat : tableMat));
      const base = robot.arms[arm];
      bodies[0]!.position.set(base.position[0], base.position[1], base.position[2]);
      bodies[0]!.quaternion.setFromAxisAngle(new CANNON.Vec3(0, 0, 1), base.yaw);
      arms[arm] = new ArmState(robot, arm, bodies.slice(1), weld);
      arms[arm].pose(null);
    }
    this.arms = arms;

    this.bottle = add(bottleBody(scenario, colors), objectMat);
    this.bottle.position.set(params.bottleX, params.bottleY, 0);
    this.bottle.quaternion.setFromAxisAngle(new CANNON.Vec3(0, 0, 1), params.bottleYaw);
    this.cap = add(capBody(scenario, colors), objectMat);
    const seat = capSeatHeight(scenario);
    this.cap.position.set(params.bottleX, params.bottleY, seat);
    this.cap.quaternion.copy(this.bottle.quaternion);
    this.thread = new ScrewThread(w, this.bottle, this.cap, {
      seatHeight: seat,
      pitch: scenario.cap.pitch,
      releaseTurns: scenario.cap.release_turns,
      frictionTorque: params.frictionTorque,
      dt: this.dt,
    });
    if (!this.weld) {
      w.addConstraint(new GripFriction(w, [arms.left.gripper, arms.right.gripper], robot.gripper.friction, this.dt));
    }
  }

  /** One physics step: servo joints and fingers, move kinematic bodies, advance the thread, solve, detect grasps. */
  step(): void {
    const dt = this.dt;
    for (const arm of ARMS) {
      const a = this.arms[arm];
      a.servo(dt);
      a.pose(dt);
      a.gripper.updateWeld(this.world);
    }
    this.thread.update();
    this.world.step(dt);
    for (const arm of ARMS) this.arms[arm].snap();
    this.detectFingerContacts();
  }

  /** Which dynamic body each finger touches after the last step. */
  private detectFingerContacts(): void {
    const left = this.arms.left.gripper;
    const right = this.arms.right.gripper;
    left.touchA = left.touchB = right.touchA = right.touchB = null;
    for (const c of this.world.contacts) {
      noteTouch(left, c.bi, c.bj);
      noteTouch(left, c.bj, c.bi);
      noteTouch(right, c.bi, c.bj);
      noteTouch(right, c.bj, c.bi);
    }
  }

  /** Body poses: `out: Nbodies·7` (position xyz, quaternion xyzw), in `specs` order. */
  bodyPoses(out: Float32Array = new Float32Array(this.bodies.length * 7)): Float32Array {
    const bodies = this.bodies;
    for (let i = 0; i < bodies.length; i++) {
      const b = bodies[i]!;
      const o = i * 7;
      out[o] = b.position.x;
      out[o + 1] = b.position.y;
      out[o + 2] = b.position.z;
      out[o + 3] = b.quaternion.x;
      out[o + 4] = b.quaternion.y;
      out[o + 5] = b.quaternion.z;
      out[o + 6] = b.quaternion.w;
    }
    return out;
  }

  /** Cap centre's distance from its seat on the bottle (m). */
  capDistanceFromSeat(): number {
    seatLocal.set(0, 0, capSeatHeight(this.scenario));
    return this.bottle.pointToWorldFrame(seatLocal, seatWorld).distanceTo(this.cap.position);
  }
}

const seatLocal = new CANNON.Vec3();
const seatWorld = new CANNON.Vec3();

/** If `finger` is one of the gripper's fingers and `other` is a dynamic body, remember the touch. */
function noteTouch(g: Gripper, finger: CANNON.Body, other: CANNON.Body): void {
  if (other.type !== CANNON.Body.DYNAMIC) return;
  if (finger === g.fingerA) g.touchA = other;
  else if (finger === g.fingerB) g.touchB = other;
}
