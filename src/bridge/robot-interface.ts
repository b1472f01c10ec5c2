// The robot-interface file (robot-interfaces/*.json): how the 16 action/state slots map onto a real ROS graph.
// It names the joints of each arm, the topics and message types to read, the command interface to write, and the
// safety settings the controller enforces. Validated with zod; every bad field is reported at once.
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { ARM_DOF, DuetError, loadJsonFile, loadRobot, type RobotDescription } from "../core/index.ts";

const topicName = z.string().regex(/^\/?[A-Za-z_~][A-Za-z0-9_/~]*$/, "a ROS name such as /joint_states");

/**
 * How commands reach one controller. `joints` are the ROS joint names the controller owns, in its order.
 * - `joint_trajectory`: publish `trajectory_msgs/JointTrajectory` on `topic` (one point, reached in `time_from_start_s`).
 * - `position_controller`: publish `std_msgs/Float64MultiArray` on `topic` (data in `joints` order).
 * - `follow_joint_trajectory`: send a `control_msgs/FollowJointTrajectory` goal to `action` (ROS 2 action op;
 *   on ROS 1 the goal is published on `<action>/goal` as `control_msgs/FollowJointTrajectoryActionGoal`).
 * The two trajectory kinds are STAMPED: `header.stamp` is the time the command was computed, so a ROS trajectory
 * controller drops a command that arrives after `stamp + time_from_start` (it lies in the past) instead of executing
 * it late. `Float64MultiArray` has no header: a command held up in a frozen server or network still takes effect when
 * it arrives (see `isStamped` in ./command-messages.ts and the deploy loop's shorter window for such interfaces).
 */
export const commandSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("joint_trajectory"),
    topic: topicName,
    /**
     * Seconds after the stamp at which the single trajectory point should be reached (default: one control period).
     * At most one control period: a controller drops a command only once stamp + time_from_start has passed.
     */
    time_from_start_s: z.number().positive().optional(),
  }),
  z.strictObject({ kind: z.literal("position_controller"), topic: topicName }),
  z.strictObject({
    kind: z.literal("follow_joint_trajectory"),
    action: topicName,
    time_from_start_s: z.number().positive().optional(),
  }),
]);
export type CommandInterface = z.output<typeof commandSchema>;

const armSchema = z.strictObject({
  /** ROS joint names for slots q1..q7 of this arm, in slot order. */
  joints: z.array(z.string().min(1)).length(ARM_DOF),
  /** ROS joint name whose position is the gripper opening per finger (m). */
  gripper_joint: z.string().min(1),
  /** Command interface for the 7 arm joints. */
  command: commandSchema,
  /** Command interface for the gripper joint. */
  gripper_command: commandSchema,
});

const cameraSchema = z.strictObject({
  /** The `sensor_msgs/CompressedImage` topic that feeds this camera name. */
  topic: topicName,
  /** Expected encoding; "auto" reads the `format` field and the magic bytes. */
  format: z.enum(["jpeg", "png", "auto"]).default("auto"),
  /** rosbridge throttle between messages (ms; 0 = every message). */
  throttle_ms: z.number().int().nonnegative().default(0),
});

export const robotInterfaceSchema = z
  .strictObject({
    name: z.string().min(1),
    /** ROS 1 stamps are {secs,nsecs}, ROS 2 {sec,nanosec}; also selects the message type spelling. */
    ros_version: z.union([z.literal(1), z.literal(2)]),
    /** Robot description (limits, home pose), relative to this file. */
    robot: z.string().min(1),
    /** Control rate (Hz): one command per period. */
    control_hz: z.number().positive().max(1000).default(10),
    /** `sensor_msgs/JointState` topics; messages are merged by joint name (never by index). */
    joint_states: z.array(z.strictObject({ topic: topicName })).min(1),
    arms: z.strictObject({ left: armSchema, right: armSchema }),
    /**
     * The camera MAPPING: each key is a camera name as a model reads it (the shipped models read `front`,
     * `left_wrist`, `right_wrist`), each value the robot's topic that feeds it. Keyed by the model's names (rather than
     * listing topics with a name inside) so that what a model needs is what this object must contain: a robot whose
     * topics are named otherwise edits the topics here, not the model. May be empty (hold and replay need no camera).
     */
    cameras: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, "a lowercase camera name"), cameraSchema).default({}),
    /** Size every camera frame is resized to (the policy's input). */
    image_size: z.strictObject({ width: z.number().int().positive(), height: z.number().int().positive() }),
    /** Maximum age of inputs for an observation (ms). Older → no observation, no command. */
    max_age_ms: z
      .strictObject({ joint_states: z.number().positive().default(100), camera: z.number().positive().default(250) })
      .prefault({}),
    safety: z
      .strictObject({
        /**
         * Targets beyond a position limit by more than its tolerance, and jumps beyond `max_step_rad` /
         * `max_gripper_step_m`: "reject" holds (nothing sent until a command passes again), "clamp" moves them inside.
         */
        limits: z.enum(["reject", "clamp"]).default("reject"),
        /** Margin kept inside the position limits (rad). */
        limit_margin_rad: z.number().nonnegative().default(0.01),
        /**
         * A target beyond an arm joint's limit (less the margin) by at most this much is clamped to it and counted, in
         * either mode: a position controller stops at the limit anyway (rad).
         */
        limit_tolerance_rad: z.number().nonnegative().default(0.02),
        /** The same for the grippers' 0–max opening (m): the shipped models ask for up to ≈1 cm below closed. */
        gripper_limit_tolerance_m: z.number().nonnegative().default(0.01),
        /** Largest jump of any arm joint target from the previous command (rad); beyond it → `limits`. */
        max_step_rad: z.number().positive().default(0.5),
        /** Largest jump of a gripper target from the previous command (m); beyond it → `limits`. */
        max_gripper_step_m: z.number().positive().default(0.05),
        /**
         * Fraction of the description's velocity limits: each command moves at most velocity · scale · period from
         * the previous one (a faster target is rate-limited there and counted as clamped).
         */
        velocity_scale: z.number().positive().max(1).default(1),
        /**
         * Speed of the ramp from the measured pose to the policy's command after start, a hold or a reconnect (rad/s;
         * grippers use m/s ÷ 10), never above the velocity bound. At or above the velocity limits (the default) the ramp
         * is that bound: a slower one holds back a policy that keeps moving faster than it until the policy pauses
         * (the shipped U-Net then drifts off what it learned); lower it for replays and bring-up.
         */
        ramp_rad_per_s: z.number().positive().default(3),
        /** Stale joint states or camera for this long → hold and stop sending (ms). */
        watchdog_ms: z.number().positive().default(200),
      })
      .prefault({}),
    /** Operator stop topic: `std_msgs/Bool` (true = stop) or `std_msgs/Empty` (any message = stop). */
    stop_topic: z
      .strictObject({ topic: topicName, type: z.enum(["std_msgs/Bool", "std_msgs/Empty"]).default("std_msgs/Bool") })
      .optional(),
    /**
     * Language-conditioned policies: a `std_msgs/String` topic whose messages set the task of the NEXT episode (the
     * episode in progress keeps its instruction; see src/runner/deploy/controller.ts). Subscribed only while a policy
     * that reads instructions runs. Optional: `duet deploy --instruction` gives the first episode's task without it.
     */
    instruction_topic: z.strictObject({ topic: topicName }).optional(),
    connection: z
      .strictObject({
        /** Websocket ping period (ms); a missing pong for 2 periods closes the link. */
        heartbeat_ms: z.number().int().positive().default(500),
        /** First reconnect delay (ms); doubles per failure up to `reconnect_max_ms`. */
        reconnect_initial_ms: z.number().int().positive().default(200),
        reconnect_max_ms: z.number().int().positive().default(5000),
        /** Give up opening a socket after this long (ms). */
        connect_timeout_ms: z.number().int().positive().default(3000),
        /**
         * No command for this long after a connection opens (ms). duet advertises every command topic as the
         * connection opens; a ROS 1 subscriber (the robot's controller) connects to the new publisher tens of ms later,
         * and a message published before that is lost, or replayed late by rosbridge within the first second.
         */
        command_settle_ms: z.number().int().nonnegative().default(300),
      })
      .prefault({}),
  })
  .superRefine((ri, ctx) => {
    const periodS = 1 / ri.control_hz;
    for (const arm of ["left", "right"] as const)
      for (const key of ["command", "gripper_command"] as const) {
        const c = ri.arms[arm][key];
        if (c.kind !== "position_controller" && c.time_from_start_s !== undefined && c.time_from_start_s > periodS)
          ctx.addIssue({
            code: "custom",
            path: ["arms", arm, key, "time_from_start_s"],
            message:
              `at most one control period (1/control_hz = ${periodS} s), received ${c.time_from_start_s}: a ` +
              "controller drops a late command only once stamp + time_from_start has passed, so a longer time would " +
              "let a command take effect more than one period after it was computed (leave it out for one period)",
          });
      }
    const seen = new Map<string, string>();
    for (const arm of ["left", "right"] as const) {
      const names = [...ri.arms[arm].joints, ri.arms[arm].gripper_joint];
      names.forEach((n, i) => {
        const where = i < ARM_DOF ? `arms.${arm}.joints.${i}` : `arms.${arm}.gripper_joint`;
        const first = seen.get(n);
        if (first !== undefined)
          ctx.addIssue({
            code: "custom",
            path: where.split("."),
            message: `a joint name not already used by ${first} (${n})`,
          });
        else seen.set(n, where);
      });
    }
  });

export type RobotInterface = z.output<typeof robotInterfaceSchema>;

/** A validated robot interface with its robot description loaded. */
export interface LoadedRobotInterface {
  file: string;
  spec: RobotInterface;
  robot: RobotDescription;
}

/** Load and validate a robot-interface file and the robot description it names (resolved next to the file). */
export function loadRobotInterface(file: string): LoadedRobotInterface {
  const spec = loadJsonFile(file, robotInterfaceSchema);
  const robotFile = resolve(dirname(file), spec.robot);
  let robot: RobotDescription;
  try {
    robot = loadRobot(robotFile);
  } catch (e) {
    throw new DuetError(`${file}: field "robot" names ${robotFile}, which did not load:\n${(e as Error).message}`);
  }
  return { file, spec, robot };
}
