// Joint targets → the ROS message of each command interface (JointTrajectory, Float64MultiArray,
// FollowJointTrajectory goal), in the stamp/duration format of ROS 1 or ROS 2.
//
// Trajectory commands are STAMPED with the time they were computed (`header.stamp`) and reach their single point
// `time_from_start` later (one control period unless the interface says less). ROS trajectory controllers do not
// execute a trajectory that lies wholly in the past (ROS 1 joint_trajectory_controller drops its points, ROS 2's
// rejects it), so a command held up in a frozen rosbridge or a congested network is dropped by the robot instead of
// taking effect late. A zero stamp would mean "start on arrival" and give no such protection.
// `std_msgs/Float64MultiArray` (position_controller) has no header: nothing on the robot can tell an old one.
import type { CommandInterface } from "./robot-interface.ts";
import { makeStamp, type RosVersion } from "./stamp.ts";

/** One message to send: a topic publish or an action goal. */
export type OutgoingCommand =
  | { via: "topic"; topic: string; type: string; msg: unknown }
  | { via: "action"; action: string; type: string; goal: unknown };

/** Whether commands through `iface` carry a stamp the robot's controller checks (the trajectory kinds). */
export function isStamped(iface: CommandInterface): boolean {
  return iface.kind !== "position_controller";
}

/** The topic and message type `iface` publishes on, or null for a ROS 2 action (sent with the action op). */
export function commandTopic(iface: CommandInterface, version: RosVersion): { topic: string; type: string } | null {
  switch (iface.kind) {
    case "position_controller":
      return { topic: iface.topic, type: "std_msgs/Float64MultiArray" };
    case "joint_trajectory":
      return { topic: iface.topic, type: "trajectory_msgs/JointTrajectory" };
    case "follow_joint_trajectory":
      return version === 2
        ? null
        : { topic: `${iface.action.replace(/\/$/, "")}/goal`, type: "control_msgs/FollowJointTrajectoryActionGoal" };
  }
}

function trajectory(
  version: RosVersion,
  joints: readonly string[],
  positions: number[],
  stampS: number,
  reachIn: number,
): unknown {
  return {
    header: { stamp: makeStamp(version, stampS), frame_id: "" },
    joint_names: joints,
    points: [
      {
        positions,
        velocities: [],
        accelerations: [],
        effort: [],
        time_from_start: makeStamp(version, reachIn),
      },
    ],
  };
}

/**
 * Build the message that commands `joints` to `positions` through `iface`.
 * `periodS`: control period, the default time to reach the point; `nowS`: wall time (s since the Unix epoch) the
 * command was computed: the trajectory stamp (and the ROS 1 goal id).
 */
export function buildCommand(
  iface: CommandInterface,
  version: RosVersion,
  joints: readonly string[],
  positions: number[],
  periodS: number,
  nowS: number,
): OutgoingCommand {
  switch (iface.kind) {
    case "position_controller":
      return {
        via: "topic",
        topic: iface.topic,
        type: "std_msgs/Float64MultiArray",
        msg: { layout: { dim: [], data_offset: 0 }, data: positions },
      };
    case "joint_trajectory":
      return {
        via: "topic",
        topic: iface.topic,
        type: "trajectory_msgs/JointTrajectory",
        msg: trajectory(version, joints, positions, nowS, iface.time_from_start_s ?? periodS),
      };
    case "follow_joint_trajectory": {
      const goal = {
        trajectory: trajectory(version, joints, positions, nowS, iface.time_from_start_s ?? periodS),
        path_tolerance: [],
        goal_tolerance: [],
        goal_time_tolerance: makeStamp(version, 0),
      };
      if (version === 2)
        return { via: "action", action: iface.action, type: "control_msgs/action/FollowJointTrajectory", goal };
      const stamp = makeStamp(1, nowS);
      return {
        via: "topic",
        topic: `${iface.action.replace(/\/$/, "")}/goal`,
        type: "control_msgs/FollowJointTrajectoryActionGoal",
        msg: { header: { stamp, frame_id: "" }, goal_id: { stamp, id: `duet-${nowS.toFixed(6)}` }, goal },
      };
    }
  }
}
