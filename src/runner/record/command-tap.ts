// Commanded actions for recording: listens to the command topics a robot-interface file names (what a teleoperation
// node or leader arms send to the controllers) and keeps the latest commanded target per slot, mapped by joint name.
//   joint_trajectory        trajectory_msgs/JointTrajectory: joint_names + points[0].positions (the next target)
//   position_controller     std_msgs/Float64MultiArray: data in the controller's `joints` order
//   follow_joint_trajectory ROS 1: the `<action>/goal` topic (goal.trajectory); ROS 2 action goals are not visible
//                           to other rosbridge clients, so that interface cannot be tapped (refused at construction).
import { ARMS, DuetError } from "../../core/index.ts";
import {
  JointStateMap,
  slotJointNames,
  type Clock,
  type CommandInterface,
  type RobotInterface,
  type RosLink,
} from "../../bridge/index.ts";

/** One topic the tap listens to. */
export interface Tap {
  topic: string;
  type: string;
  /** Joint names and positions of a message; a string says why it was ignored. */
  read(msg: unknown): { name: readonly string[]; position: readonly number[] } | string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function finiteNumbers(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x));
}

function fromTrajectory(tr: unknown): { name: readonly string[]; position: readonly number[] } | string {
  if (!isObject(tr)) return "trajectory: expected an object";
  const names = tr.joint_names;
  const point = Array.isArray(tr.points) ? (tr.points[0] as unknown) : undefined;
  if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) return "joint_names: expected strings";
  if (!isObject(point) || !finiteNumbers(point.positions)) return "points.0.positions: expected finite numbers";
  if (point.positions.length !== names.length)
    return `points.0.positions: expected ${names.length} values (one per joint name), received ${point.positions.length}`;
  return { name: names as string[], position: point.positions };
}

function tapFor(iface: CommandInterface, joints: readonly string[], version: 1 | 2, where: string): Tap {
  switch (iface.kind) {
    case "joint_trajectory":
      return { topic: iface.topic, type: "trajectory_msgs/JointTrajectory", read: fromTrajectory };
    case "position_controller":
      return {
        topic: iface.topic,
        type: "std_msgs/Float64MultiArray",
        read: (msg) => {
          const data = isObject(msg) ? msg.data : undefined;
          if (!finiteNumbers(data)) return "data: expected finite numbers";
          if (data.length !== joints.length)
            return `data: expected ${joints.length} values (${joints.join(", ")}), received ${data.length}`;
          return { name: joints, position: data };
        },
      };
    case "follow_joint_trajectory":
      if (version === 2)
        throw new DuetError(
          `${where}: a ROS 2 follow_joint_trajectory action's goals are not visible to other rosbridge clients, so ` +
            `commanded actions cannot be recorded from it; record the measured next joint positions (--actions measured)`,
        );
      return {
        topic: `${iface.action.replace(/\/$/, "")}/goal`,
        type: "control_msgs/FollowJointTrajectoryActionGoal",
        read: (msg) => fromTrajectory(isObject(msg) && isObject(msg.goal) ? msg.goal.trajectory : undefined),
      };
  }
}

/**
 * The topics (and readers) of every command interface in `spec`; throws naming the interface field when one cannot
 * be tapped. Call it before creating anything, to refuse early.
 */
export function commandTaps(spec: RobotInterface): Tap[] {
  const taps: Tap[] = [];
  for (const arm of ARMS) {
    const a = spec.arms[arm];
    taps.push(tapFor(a.command, a.joints, spec.ros_version, `arms.${arm}.command`));
    taps.push(tapFor(a.gripper_command, [a.gripper_joint], spec.ros_version, `arms.${arm}.gripper_command`));
  }
  return taps;
}

/** The latest commanded target of every slot (Da = 16), from the interface's command topics. */
export class CommandTap {
  private readonly map: JointStateMap;
  private readonly taps: Tap[];
  /** Messages ignored as malformed. */
  bad = 0;

  constructor(
    spec: RobotInterface,
    link: Pick<RosLink, "subscribe">,
    private readonly clock: Clock,
    log: (line: string) => void,
  ) {
    this.map = new JointStateMap(slotJointNames(spec));
    this.taps = commandTaps(spec);
    for (const tap of this.taps) {
      link.subscribe(tap.topic, tap.type, { queueLength: 1 }, (msg) => {
        const r = tap.read(msg);
        if (typeof r === "string") {
          this.bad++;
          log(`${tap.topic}: command ignored: ${r}`);
          return;
        }
        this.map.apply({ stamp: undefined, name: r.name, position: r.position }, this.clock.now());
      });
    }
  }

  /** Topics listened to. */
  get topics(): string[] {
    return this.taps.map((t) => t.topic);
  }

  /**
   * Copy the commanded targets into `out` (Da = 16) when every slot was commanded within `maxAgeMs` of `now`
   * (clock ms); otherwise return why not.
   */
  read(out: Float32Array, now: number, maxAgeMs: number): string | null {
    const stale = this.map.staleJoints(now, maxAgeMs);
    if (stale.length > 0) {
      const never = stale.filter((n) => this.map.receivedAt[this.map.names.indexOf(n)] === -Infinity);
      return never.length > 0
        ? `no command received for ${never.join(", ")}`
        : `commands older than ${maxAgeMs} ms for ${stale.join(", ")}`;
    }
    this.map.read(out);
    return null;
  }

  /** Forget all commands (after a disconnect). */
  clear(): void {
    this.map.clear();
  }
}
