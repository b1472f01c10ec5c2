// Per-slot limits for the 16 state/action slots, taken from the robot description (both arms share one joint spec).
import { ARMS, ARM_DOF, ACTION_DIM, armOffset, type RobotDescription } from "../core/index.ts";

/** `lower`, `upper`: position limits; `velocity`: speed limits (rad/s or m/s for grippers). Each Da = 16. */
export interface SlotLimits {
  lower: Float64Array;
  upper: Float64Array;
  velocity: Float64Array;
  /** true where the slot is a gripper (metres, not radians). */
  gripper: readonly boolean[];
}

export function slotLimits(robot: RobotDescription): SlotLimits {
  const lower = new Float64Array(ACTION_DIM);
  const upper = new Float64Array(ACTION_DIM);
  const velocity = new Float64Array(ACTION_DIM);
  const gripper: boolean[] = new Array<boolean>(ACTION_DIM).fill(false);
  for (const arm of ARMS) {
    const o = armOffset(arm);
    robot.joints.forEach((j, i) => {
      lower[o + i] = j.lower;
      upper[o + i] = j.upper;
      velocity[o + i] = j.velocity;
    });
    lower[o + ARM_DOF] = 0;
    upper[o + ARM_DOF] = robot.gripper.max_opening;
    velocity[o + ARM_DOF] = robot.gripper.velocity;
    gripper[o + ARM_DOF] = true;
  }
  return { lower, upper, velocity, gripper };
}
