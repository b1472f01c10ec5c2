// The robot behind the test rosbridge server: 16 slots servoed toward the last command at their velocity limits,
// publishing JointState (in a chosen joint order, optionally missing joints) and CompressedImage frames. Its
// trajectory controllers behave as ROS ones do with a stamped command: one whose header.stamp + time_from_start lies in
// the past when it arrives is not executed (a zero stamp means "now"). Every command message is logged in `commands`.
// A light stand-in for fast protocol and fault tests; ./sim-backed-robot.ts puts the bottle-cap simulator itself there.
import jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { ACTION_DIM, ARMS, ARM_DOF, armOffset } from "../../src/core/index.ts";
import { slotJointNames, stampToSeconds, type RobotInterface } from "../../src/bridge/index.ts";
import type { RosbridgeTestServer } from "./rosbridge-server.ts";

export interface SimRobotOptions {
  /** Joint-state period (ms). */
  jointPeriodMs?: number;
  /** Camera period (ms). */
  cameraPeriodMs?: number;
  /** Joint order in published JointState messages. */
  order?: "slot" | "reversed";
  /** Joint names never published. */
  omit?: string[];
}

/** One command message as the robot's controller saw it. */
export interface RobotCommand {
  /** Arrival (performance.now ms) and wall time (s since the epoch). */
  at: number;
  wallS: number;
  topic: string;
  positions: number[];
  /** header.stamp (s; undefined: no header, or a zero stamp = "now") and the last point's time_from_start (s). */
  stampS: number | undefined;
  reachS: number | undefined;
  /** stamp + time_from_start lay in the past on arrival: a ROS trajectory controller does not execute it. */
  expired: boolean;
}

/** A JointTrajectory's stamp and the time_from_start of its last point, in seconds (stamp undefined when zero). */
export function trajectoryTiming(tr: unknown): { stampS: number | undefined; reachS: number | undefined } {
  const t = tr as { header?: { stamp?: unknown }; points?: { time_from_start?: unknown }[] } | undefined;
  const stamp = stampToSeconds(t?.header?.stamp);
  const last = t?.points?.[t.points.length - 1];
  return { stampS: stamp === 0 ? undefined : stamp, reachS: stampToSeconds(last?.time_from_start) };
}

/** Panda home pose for both arms, grippers half open. */
export function homePose(): Float64Array {
  const home = [0, -0.3, 0, -2.2, 0, 1.9, 0.785];
  const q = new Float64Array(ACTION_DIM);
  for (const arm of ARMS) {
    const o = armOffset(arm);
    home.forEach((v, i) => (q[o + i] = v));
    q[o + ARM_DOF] = 0.02;
  }
  return q;
}

export class SimRobot {
  readonly position = homePose();
  readonly target = homePose();
  /** Publishing joint states (false = the joint-state driver died). */
  jointStatesOn = true;
  camerasOn = true;
  /** Every command message received (applied or not). */
  readonly commands: RobotCommand[] = [];
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly names: string[];
  private readonly slotOf: Map<string, number>;
  private lastStep = performance.now();
  private readonly frames: Map<string, string>;

  constructor(
    private server: RosbridgeTestServer,
    private readonly spec: RobotInterface,
    private readonly options: SimRobotOptions = {},
  ) {
    this.names = slotJointNames(spec);
    this.slotOf = new Map(this.names.map((n, i) => [n, i]));
    this.frames = new Map(
      Object.entries(spec.cameras).map(([name, c]) => [name, encodeTestImage(c.format === "png" ? "png" : "jpeg")]),
    );
  }

  /** Attach to a (new) server and start publishing. */
  attach(server: RosbridgeTestServer): void {
    this.detach();
    this.server = server;
    for (const arm of ARMS) {
      const a = this.spec.arms[arm];
      this.listen(a.command, a.joints);
      this.listen(a.gripper_command, [a.gripper_joint]);
    }
    this.timers.push(setInterval(() => this.publishJoints(), this.options.jointPeriodMs ?? 20));
    if (Object.keys(this.spec.cameras).length > 0)
      this.timers.push(setInterval(() => this.publishFrames(), this.options.cameraPeriodMs ?? 50));
  }

  detach(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Log a command; false when it expired (stamp + time_from_start before now) and must not be executed. */
  private accept(topic: string, positions: unknown, timing: ReturnType<typeof trajectoryTiming>): boolean {
    const wallS = Date.now() / 1000;
    const { stampS, reachS } = timing;
    const expired = stampS !== undefined && stampS + (reachS ?? 0) < wallS;
    this.commands.push({
      at: performance.now(),
      wallS,
      topic,
      positions: Array.isArray(positions) ? (positions as number[]) : [],
      stampS,
      reachS,
      expired,
    });
    return !expired;
  }

  private setTargets(joints: readonly string[], positions: unknown): void {
    if (!Array.isArray(positions)) return;
    joints.forEach((n, i) => {
      const slot = this.slotOf.get(n);
      const v = positions[i] as unknown;
      if (slot !== undefined && typeof v === "number") this.target[slot] = v;
    });
  }

  private listen(cmd: RobotInterface["arms"]["left"]["command"], joints: readonly string[]): void {
    const fromTrajectory = (topic: string, tr: unknown): void => {
      const t = tr as { joint_names?: string[]; points?: { positions?: number[] }[] } | undefined;
      if (this.accept(topic, t?.points?.[0]?.positions, trajectoryTiming(tr)))
        this.setTargets(t?.joint_names ?? [], t?.points?.[0]?.positions);
    };
    if (cmd.kind === "position_controller")
      this.server.onTopic(cmd.topic, (m) => {
        if (this.accept(cmd.topic, m.data, { stampS: undefined, reachS: undefined })) this.setTargets(joints, m.data);
      });
    else if (cmd.kind === "joint_trajectory") this.server.onTopic(cmd.topic, (m) => fromTrajectory(cmd.topic, m));
    else if (this.spec.ros_version === 2) {
      this.server.advertiseAction(cmd.action, (args) => {
        fromTrajectory(cmd.action, args.trajectory);
        return { error_code: 0 };
      });
    } else
      this.server.onTopic(`${cmd.action}/goal`, (m) =>
        fromTrajectory(`${cmd.action}/goal`, (m.goal as { trajectory?: unknown } | undefined)?.trajectory),
      );
  }

  private step(): void {
    const now = performance.now();
    const dt = (now - this.lastStep) / 1000;
    this.lastStep = now;
    for (let i = 0; i < ACTION_DIM; i++) {
      const v = i % (ARM_DOF + 1) === ARM_DOF ? 0.1 : 2.0;
      const d = (this.target[i] as number) - (this.position[i] as number);
      this.position[i] = (this.position[i] as number) + Math.sign(d) * Math.min(Math.abs(d), v * dt);
    }
  }

  private stamp(): unknown {
    const t = Date.now() / 1000;
    const s = Math.floor(t);
    const n = Math.floor((t - s) * 1e9);
    return this.spec.ros_version === 1 ? { secs: s, nsecs: n } : { sec: s, nanosec: n };
  }

  private publishJoints(): void {
    this.step();
    if (!this.jointStatesOn) return;
    const omit = new Set(this.options.omit ?? []);
    const topics = this.spec.joint_states.map((j) => j.topic);
    topics.forEach((topic, k) => {
      // One topic: all joints. Several: slot blocks split evenly (left arm, right arm).
      const per = Math.ceil(ACTION_DIM / topics.length);
      let slots = Array.from({ length: ACTION_DIM }, (_, i) => i).filter(
        (i) => Math.floor(i / per) === k && !omit.has(this.names[i] as string),
      );
      if (this.options.order === "reversed") slots = slots.reverse();
      this.server.publish(topic, {
        header: { stamp: this.stamp(), frame_id: "" },
        name: slots.map((i) => this.names[i]),
        position: slots.map((i) => this.position[i]),
        velocity: [],
        effort: [],
      });
    });
  }

  private publishFrames(): void {
    if (!this.camerasOn) return;
    for (const [name, c] of Object.entries(this.spec.cameras)) {
      const data = this.frames.get(name) as string;
      this.server.publish(c.topic, {
        header: { stamp: this.stamp(), frame_id: name },
        format: c.format === "png" ? "rgb8; png compressed bgr8" : "rgb8; jpeg compressed bgr8",
        data,
      });
    }
  }
}

/** A 32×24 gradient image, base64-encoded as rosbridge sends uint8[]. */
export function encodeTestImage(format: "png" | "jpeg", width = 32, height = 24): string {
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      rgba[o] = Math.round((x / (width - 1)) * 255);
      rgba[o + 1] = Math.round((y / (height - 1)) * 255);
      rgba[o + 2] = 128;
      rgba[o + 3] = 255;
    }
  if (format === "jpeg") return jpeg.encode({ data: rgba, width, height }, 95).data.toString("base64");
  const png = new PNG({ width, height });
  rgba.copy(png.data);
  return PNG.sync.write(png).toString("base64");
}
