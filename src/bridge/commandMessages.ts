// Joint targets → the ROS message of each command interface (JointTrajectory, Float64MultiArray,
// FollowJointTrajectory goal), in the stamp/duration format of ROS 1 or ROS 2.
import type { CommandInterface } from "./robotInterface.ts";
import { makeStamp, zeroStamp, type RosVersion } from "./stamp.ts";

/** One message to send: a topic publish or an action goal. */
export type OutgoingCommand =
  | { via: "topic"; topic: string; type: string; msg: unknown }
  | { via: "action"; action: string; type: string; goal: unknown };

function duration(version: RosVersion, seconds: number): unknown {
  return makeStamp(version, seconds);
}

function trajectory(version: RosVersion, joints: readonly string[], positions: number[], reachIn: number): unknown {
  return {
    header: { stamp: zeroStamp(version), frame_id: "" },
    joint_names: joints,
    points: [
      {
        positions,
        velocities: [],
        accelerations: [],
        effort: [],
        time_from_start: duration(version, reachIn),
      },
    ],
  };
}

/**
 * Build the message that commands `joints` to `positions` through `iface`.
 * `periodS`: control period, the default time to reach the point; `nowS`: wall time for ROS 1 goal ids.
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
        msg: trajectory(version, joints, positions, iface.time_from_start_s ?? periodS),
      };
    case "follow_joint_trajectory": {
      const goal = {
        trajectory: trajectory(version, joints, positions, iface.time_from_start_s ?? periodS),
        path_tolerance: [],
        goal_tolerance: [],
        goal_time_tolerance: duration(version, 0),
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
