// The simulated bimanual environment: reset(seed) → Observation, step(action) → StepResult, at the control rate.
import {
  ACTION_DIM,
  ARMS,
  ARM_DOF,
  DuetError,
  Rng,
  SLOTS_PER_ARM,
  SLOT_NAMES,
  armOffset,
  type Arm,
  type CameraFrame,
  type Env,
  type Observation,
  type StepResult,
} from "../core/index.ts";
import { ENVIRONMENT_NAMES, environmentState } from "./environmentState.ts";
import type { Scenario } from "./scenario.ts";
import { BimanualWorld, type EpisodeParams } from "./world.ts";

/** Renders the scenario's cameras for a world; injected so physics-only runs skip rendering. */
export interface EnvCameras {
  readonly names: readonly string[];
  render(world: BimanualWorld): Record<string, CameraFrame>;
}

/** Options for `SimEnv`. */
export interface SimEnvOptions {
  /** Camera renderer (default: none, observations carry no images). */
  cameras?: EnvCameras;
}

/** Thrown for an action that cannot be executed: wrong length or a non-finite number. */
export class ActionError extends DuetError {
  override name = "ActionError";
}

/**
 * Simulation of the bottle-cap scenarios. Actions are 16 absolute joint targets; targets beyond a joint's limits or
 * the gripper's range are clamped to the limit (documented behaviour: a position-controlled arm cannot go further),
 * and `info.clamped` counts the clamped slots of that step. NaN/Inf or a wrong length throws `ActionError`.
 */
export class SimEnv implements Env {
  readonly controlHz: number;
  readonly cameras: readonly string[];
  readonly environmentNames = ENVIRONMENT_NAMES;
  private w: BimanualWorld | null = null;
  private steps = 0;
  private holder: Arm | "none" = "none";
  private readonly substeps: number;
  private readonly maxSteps: number;
  private readonly lower: Float64Array;
  private readonly upper: Float64Array;
  private readonly maxOpening: number;

  constructor(
    readonly scenario: Scenario,
    private readonly options: SimEnvOptions = {},
  ) {
    this.controlHz = scenario.control_hz;
    this.cameras = options.cameras?.names ?? [];
    this.substeps = Math.round(scenario.physics_hz / scenario.control_hz);
    this.maxSteps = Math.round(scenario.time_limit_s * scenario.control_hz);
    const robot = scenario.robotDescription;
    this.lower = Float64Array.from(robot.joints, (j) => j.lower);
    this.upper = Float64Array.from(robot.joints, (j) => j.upper);
    this.maxOpening = robot.gripper.max_opening;
  }

  /** The physics world of the current episode (privileged state for the scripted expert, replays and tests). */
  get world(): BimanualWorld {
    if (!this.w) throw new DuetError("SimEnv: call reset(seed) before using the environment");
    return this.w;
  }

  /** Episode parameters drawn from the scenario's ranges by `seed`. */
  static drawParams(scenario: Scenario, rng: Rng): EpisodeParams {
    const b = scenario.bottle;
    return {
      bottleX: rng.uniform(b.x[0], b.x[1]),
      bottleY: rng.uniform(b.y[0], b.y[1]),
      bottleYaw: rng.uniform(b.yaw[0], b.yaw[1]),
      frictionTorque: rng.uniform(scenario.cap.friction_torque[0], scenario.cap.friction_torque[1]),
    };
  }

  reset(seed: number): Observation {
    this.w = new BimanualWorld(this.scenario, SimEnv.drawParams(this.scenario, new Rng(seed)));
    this.steps = 0;
    this.holder = "none";
    return this.observe();
  }

  step(action: Float32Array | Float64Array): StepResult {
    const w = this.world;
    if (action.length !== ACTION_DIM) {
      throw new ActionError(
        `action: expected ${ACTION_DIM} joint targets [${SLOT_NAMES.join(", ")}], received ${action.length}`,
      );
    }
    const bad: string[] = [];
    for (let i = 0; i < ACTION_DIM; i++) if (!Number.isFinite(action[i]!)) bad.push(`${SLOT_NAMES[i]}=${action[i]}`);
    if (bad.length > 0) throw new ActionError(`action: expected finite numbers, received ${bad.join(", ")}`);
    let clamped = 0;
    for (const arm of ARMS) {
      const a = w.arms[arm];
      const o = armOffset(arm);
      for (let j = 0; j < ARM_DOF; j++) {
        const v = action[o + j]!;
        const c = Math.min(this.upper[j]!, Math.max(this.lower[j]!, v));
        if (c !== v) clamped++;
        a.target[j] = c;
      }
      const g = action[o + ARM_DOF]!;
      const gc = Math.min(this.maxOpening, Math.max(0, g));
      if (gc !== g) clamped++;
      a.gripper.target = gc;
    }
    for (let s = 0; s < this.substeps; s++) w.step();
    this.steps++;
    let held = false;
    for (const arm of ARMS) {
      if (w.arms[arm].gripper.holding !== w.bottle) continue;
      held = true;
      if (this.holder === "none") this.holder = arm;
    }
    const released = w.thread.released;
    const capDistance = w.capDistanceFromSeat();
    const success =
      released && capDistance > this.scenario.success.cap_distance && (held || !this.scenario.success.bottle_held);
    const timeout = this.steps >= this.maxSteps;
    return {
      observation: this.observe(),
      done: success || timeout,
      success,
      reward: success ? 1 : 0,
      info: {
        holder: this.holder,
        turns: w.thread.turns,
        released,
        bottle_held: held,
        cap_distance: capDistance,
        clamped,
        step: this.steps,
      },
    };
  }

  private observe(): Observation {
    const w = this.world;
    const state = new Float32Array(ACTION_DIM);
    for (const arm of ARMS) {
      const a = w.arms[arm];
      const o = armOffset(arm);
      for (let j = 0; j < ARM_DOF; j++) state[o + j] = a.q[j]!;
      state[o + SLOTS_PER_ARM - 1] = a.gripper.opening;
    }
    return {
      time: this.steps / this.controlHz,
      state,
      images: this.options.cameras ? this.options.cameras.render(w) : {},
      environmentState: environmentState(w),
    };
  }
}
