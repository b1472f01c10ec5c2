// The robot as seen through rosbridge: observations assembled from the latest joint states (by name) and camera
// frames, each younger than its configured age, and joint commands sent through the configured interfaces — only on
// the connection epoch the observation came from, stamped with the time they were sent (trajectory kinds), on topics
// advertised when the connection opened and never within `connection.command_settle_ms` of that.
import { ACTION_DIM, ARMS, ARM_DOF, armOffset, type CameraFrame, type Observation } from "../core/index.ts";
import type { Clock } from "./clock.ts";
import { buildCommand, commandTopic, isStamped, type OutgoingCommand } from "./command-messages.ts";
import { decodeImage } from "./image.ts";
import { JointStateMap, slotJointNames } from "./joint-map.ts";
import {
  hasProblems,
  parseCompressedImage,
  parseJointState,
  parseStringMessage,
  type CompressedImageMsg,
} from "./messages.ts";
import type { RobotInterface } from "./robot-interface.ts";
import { createRosLink, type RosLink } from "./ros-link.ts";

/** What `observe` returns: an observation and where it came from, or why there is none. */
export type ObserveResult =
  | {
      ok: true;
      observation: Observation;
      /** Connection epoch the inputs arrived on; commands from this observation are valid only on it. */
      epoch: number;
      /** Receive time (clock ms) of the newest joint-state input used. */
      newestInputAt: number;
      /** Age (ms) of the oldest joint slot and of the oldest camera frame (0 without cameras). */
      jointAgeMs: number;
      cameraAgeMs: number;
    }
  | { ok: false; reason: string; epoch: number };

/** The robot behind a connection that can drop: what the deploy loop needs. */
export interface RobotBridge {
  readonly controlHz: number;
  readonly cameras: readonly string[];
  readonly epoch: number;
  readonly connected: boolean;
  /**
   * Whether every command interface is stamped (trajectory kinds): the robot's controller then drops a command that
   * arrives after its stamp + time_from_start. False when any is a Float64MultiArray position controller.
   */
  readonly stampedCommands: boolean;
  /** Clock time (ms) the newest JointState message of the live connection arrived; -Infinity before one. */
  readonly newestJointStateAt: number;
  /** Assemble an observation at clock time `now`. Non-reentrant: the returned state buffer is reused after 3 calls. */
  observe(now: number): ObserveResult;
  /** Send 16 joint targets (Da = 16) if `epoch` is still live; false if nothing was sent. */
  sendCommand(targets: Float32Array, epoch: number): boolean;
  on(event: "up", fn: (epoch: number) => void): void;
  on(event: "down", fn: (epoch: number, reason: string) => void): void;
  on(event: "stop", fn: (source: string) => void): void;
  /**
   * Each message on the interface's `instruction_topic` (std_msgs/String: its text, and the topic). The topic is
   * subscribed when the first such listener is added, so only a bridge whose policy reads instructions listens; a
   * bridge without the field never calls it.
   */
  on(event: "instruction", fn: (text: string, topic: string) => void): void;
  on(event: "log", fn: (line: string) => void): void;
  start(): void;
  close(): void;
}

/** Counters for the status line and tests. */
export interface BridgeStats {
  jointStates: number;
  frames: number;
  badMessages: number;
  commandsSent: number;
  commandsRefused: number;
}

interface CameraSlot {
  name: string;
  format: "jpeg" | "png" | "auto";
  raw: CompressedImageMsg | undefined;
  receivedAt: number;
  frame: CameraFrame | undefined;
  decodedAt: number;
}

/** Options of a RosBridge. */
export interface RosBridgeOptions {
  /**
   * Whether this bridge commands the robot (default true): its command topics are advertised as each connection
   * opens, and observations wait `connection.command_settle_ms` after it. A recorder only listens: false.
   */
  commands?: boolean;
}

/** The robot bridge over a RosLink. */
export class RosBridge implements RobotBridge {
  readonly controlHz: number;
  readonly cameras: readonly string[];
  readonly stampedCommands: boolean;
  newestJointStateAt = -Infinity;
  readonly stats: BridgeStats = { jointStates: 0, frames: 0, badMessages: 0, commandsSent: 0, commandsRefused: 0 };
  private readonly joints: JointStateMap;
  private readonly cams: CameraSlot[];
  private readonly ring = Array.from({ length: 4 }, () => new Float32Array(ACTION_DIM));
  private ringIndex = 0;
  private readonly startedAt: number;
  private readonly stopFns: ((source: string) => void)[] = [];
  private readonly instructionFns: ((text: string, topic: string) => void)[] = [];
  private readonly logFns: ((line: string) => void)[] = [];
  private readonly lastLogged = new Map<string, number>();
  private readonly periodS: number;
  private readonly commands: boolean;
  /** Epoch whose joint-state stamps were compared with this machine's clock (once per connection). */
  private clockCheckedEpoch = 0;

  constructor(
    private readonly spec: RobotInterface,
    private readonly link: RosLink,
    private readonly clock: Clock,
    options: RosBridgeOptions = {},
  ) {
    this.commands = options.commands ?? true;
    this.stampedCommands = ARMS.every(
      (a) => isStamped(spec.arms[a].command) && isStamped(spec.arms[a].gripper_command),
    );
    if (this.commands)
      for (const arm of ARMS)
        for (const iface of [spec.arms[arm].command, spec.arms[arm].gripper_command]) {
          const t = commandTopic(iface, spec.ros_version);
          if (t) link.advertise(t.topic, t.type);
        }
    this.controlHz = spec.control_hz;
    this.periodS = 1 / spec.control_hz;
    this.cameras = Object.keys(spec.cameras);
    this.joints = new JointStateMap(slotJointNames(spec));
    this.cams = Object.entries(spec.cameras).map(([name, c]) => ({
      name,
      format: c.format,
      raw: undefined,
      receivedAt: -Infinity,
      frame: undefined,
      decodedAt: -Infinity,
    }));
    this.startedAt = clock.now();
    link.on("log", (line) => this.log(line));
    link.on("down", () => this.forgetInputs());
    for (const js of spec.joint_states) {
      link.subscribe(js.topic, "sensor_msgs/JointState", { queueLength: 1 }, (msg) => this.onJointState(js.topic, msg));
    }
    this.cams.forEach((cam) => {
      const c = spec.cameras[cam.name];
      if (!c) return;
      link.subscribe(c.topic, "sensor_msgs/CompressedImage", { queueLength: 1, throttleMs: c.throttle_ms }, (msg) =>
        this.onImage(c.topic, cam, msg),
      );
    });
    const stop = spec.stop_topic;
    if (stop) {
      link.subscribe(stop.topic, stop.type, { queueLength: 1 }, (msg) => {
        if (stop.type === "std_msgs/Empty" || (msg as { data?: unknown } | null)?.data === true) {
          for (const fn of this.stopFns) fn(`ROS topic ${stop.topic}`);
        }
      });
    }
  }

  get epoch(): number {
    return this.link.epoch;
  }
  get connected(): boolean {
    return this.link.connected;
  }

  on(event: "up", fn: (epoch: number) => void): void;
  on(event: "down", fn: (epoch: number, reason: string) => void): void;
  on(event: "stop", fn: (source: string) => void): void;
  on(event: "instruction", fn: (text: string, topic: string) => void): void;
  on(event: "log", fn: (line: string) => void): void;
  on(event: "up" | "down" | "stop" | "instruction" | "log", fn: never): void {
    if (event === "stop") this.stopFns.push(fn);
    else if (event === "instruction") {
      if (this.instructionFns.push(fn) === 1) this.subscribeInstructions();
    } else if (event === "log") this.logFns.push(fn);
    else this.link.on(event as "up", fn);
  }

  /** The instruction topic (std_msgs/String), if the interface has one; a message that is not one is logged. */
  private subscribeInstructions(): void {
    const topic = this.spec.instruction_topic?.topic;
    if (topic === undefined) return;
    this.link.subscribe(topic, "std_msgs/String", { queueLength: 1 }, (msg) => {
      const m = parseStringMessage(msg);
      if (hasProblems(m)) {
        this.stats.badMessages++;
        this.log(`${topic}: String ignored: ${m.problems.join("; ")}`);
        return;
      }
      for (const fn of this.instructionFns) fn(m.data, topic);
    });
  }

  /** Log a line; the same line at most once per second (a flood of bad messages stays readable). */
  private log(line: string): void {
    const now = this.clock.now();
    const last = this.lastLogged.get(line);
    if (last !== undefined && now - last < 1000) return;
    this.lastLogged.set(line, now);
    for (const fn of this.logFns) fn(line);
  }

  private forgetInputs(): void {
    this.joints.clear();
    this.newestJointStateAt = -Infinity;
    for (const cam of this.cams) {
      cam.raw = undefined;
      cam.frame = undefined;
      cam.receivedAt = -Infinity;
      cam.decodedAt = -Infinity;
    }
  }

  private onJointState(topic: string, msg: unknown): void {
    const js = parseJointState(msg);
    if (hasProblems(js)) {
      this.stats.badMessages++;
      this.log(`${topic}: JointState ignored: ${js.problems.join("; ")}`);
      return;
    }
    this.stats.jointStates++;
    const now = this.clock.now();
    this.joints.apply(js, now);
    this.newestJointStateAt = now;
    if (this.commands && this.stampedCommands && js.stamp !== undefined && js.stamp > 0) this.checkClock(js.stamp);
  }

  /**
   * Stamped commands are judged by the robot's clock: if its joint states are stamped far from this machine's wall
   * clock (unsynchronised clocks, or a robot on simulated time), every command would be dropped as late, or none.
   * Said once per connection; the stamps are not adjusted (a joint state's stamp also carries its own delay).
   */
  private checkClock(stampS: number): void {
    if (this.clockCheckedEpoch === this.link.epoch) return;
    this.clockCheckedEpoch = this.link.epoch;
    const skew = stampS - this.clock.wallSeconds();
    if (Math.abs(skew) > 0.5)
      this.log(
        `joint states are stamped ${skew.toFixed(2)} s from this machine's clock: the robot's controllers judge the ` +
          "stamps of duet's trajectory commands by their own clock, so they would drop every command (or none as " +
          "late); synchronise the clocks (NTP/chrony) or use ROS wall time",
      );
  }

  private onImage(topic: string, cam: CameraSlot, msg: unknown): void {
    const img = parseCompressedImage(msg);
    if (hasProblems(img)) {
      this.stats.badMessages++;
      this.log(`${topic}: CompressedImage ignored: ${img.problems.join("; ")}`);
      return;
    }
    this.stats.frames++;
    cam.raw = img;
    cam.receivedAt = this.clock.now();
  }

  observe(now: number): ObserveResult {
    const epoch = this.link.epoch;
    if (!this.link.connected) return { ok: false, reason: "not connected", epoch };
    const settle = this.spec.connection.command_settle_ms;
    if (this.commands && now - this.link.connectedAt < settle)
      return {
        ok: false,
        reason: `command topics advertised; waiting ${settle} ms (connection.command_settle_ms) for the robot's controllers to subscribe`,
        epoch,
      };
    const maxJ = this.spec.max_age_ms.joint_states;
    const stale = this.joints.staleJoints(now, maxJ);
    if (stale.length > 0) {
      const never = stale.filter((n) => this.joints.receivedAt[this.joints.names.indexOf(n)] === -Infinity);
      const reason =
        never.length > 0
          ? `joint states missing for ${never.join(", ")}`
          : `joint states older than ${maxJ} ms for ${stale.join(", ")}`;
      return { ok: false, reason, epoch };
    }
    const images: Record<string, CameraFrame> = {};
    let cameraAge = 0;
    const { width, height } = this.spec.image_size;
    for (const cam of this.cams) {
      const age = now - cam.receivedAt;
      if (cam.raw === undefined || !(age <= this.spec.max_age_ms.camera)) {
        return {
          ok: false,
          reason:
            cam.raw === undefined
              ? `no frame from camera ${cam.name}`
              : `camera ${cam.name} frame older than ${this.spec.max_age_ms.camera} ms`,
          epoch,
        };
      }
      if (cam.decodedAt !== cam.receivedAt) {
        try {
          cam.frame = decodeImage(cam.raw.data, cam.format, width, height);
          cam.decodedAt = cam.receivedAt;
        } catch (e) {
          this.stats.badMessages++;
          cam.raw = undefined;
          this.log(`${this.spec.cameras[cam.name]?.topic ?? cam.name}: frame ignored: ${(e as Error).message}`);
          return { ok: false, reason: `camera ${cam.name}: undecodable frame`, epoch };
        }
      }
      images[cam.name] = cam.frame as CameraFrame;
      cameraAge = Math.max(cameraAge, age);
    }
    const state = this.ring[this.ringIndex] as Float32Array;
    this.ringIndex = (this.ringIndex + 1) % this.ring.length;
    this.joints.read(state);
    let newest = -Infinity;
    for (let i = 0; i < ACTION_DIM; i++) newest = Math.max(newest, this.joints.receivedAt[i] as number);
    return {
      ok: true,
      observation: { time: (now - this.startedAt) / 1000, state, images },
      epoch,
      newestInputAt: newest,
      jointAgeMs: this.joints.oldestAge(now),
      cameraAgeMs: cameraAge,
    };
  }

  /**
   * The messages that command `targets` (Da = 16): per arm, one for the 7 joints and one for the gripper, stamped with
   * the wall time now (the command has just been computed).
   */
  commandMessages(targets: Float32Array): OutgoingCommand[] {
    const out: OutgoingCommand[] = [];
    const nowS = this.clock.wallSeconds();
    for (const arm of ARMS) {
      const o = armOffset(arm);
      const a = this.spec.arms[arm];
      const q = Array.from(targets.subarray(o, o + ARM_DOF));
      out.push(buildCommand(a.command, this.spec.ros_version, a.joints, q, this.periodS, nowS));
      out.push(
        buildCommand(
          a.gripper_command,
          this.spec.ros_version,
          [a.gripper_joint],
          [targets[o + ARM_DOF] as number],
          this.periodS,
          nowS,
        ),
      );
    }
    return out;
  }

  sendCommand(targets: Float32Array, epoch: number): boolean {
    for (let i = 0; i < ACTION_DIM; i++) {
      if (!Number.isFinite(targets[i])) {
        this.stats.commandsRefused++;
        this.log(`command refused: slot ${i} is ${String(targets[i])}`);
        return false;
      }
    }
    if (epoch !== this.link.epoch || !this.link.connected || !this.commands) {
      this.stats.commandsRefused++;
      return false;
    }
    let all = true;
    for (const m of this.commandMessages(targets)) {
      const sent =
        m.via === "topic"
          ? this.link.publish(m.topic, m.type, m.msg, epoch)
          : this.link.sendActionGoal(m.action, m.type, m.goal, epoch);
      all &&= sent;
    }
    if (all) this.stats.commandsSent++;
    else this.stats.commandsRefused++;
    return all;
  }

  start(): void {
    this.link.start();
  }
  close(): void {
    this.link.close();
  }
}

/** A roslib link to `url` with the interface's connection settings (heartbeat, backoff, timeouts). */
export function createInterfaceLink(spec: RobotInterface, url: string, clock: Clock): ReturnType<typeof createRosLink> {
  const c = spec.connection;
  return createRosLink(
    {
      url,
      heartbeatMs: c.heartbeat_ms,
      reconnectInitialMs: c.reconnect_initial_ms,
      reconnectMax: c.reconnect_max_ms,
      connectTimeoutMs: c.connect_timeout_ms,
    },
    clock,
  );
}

/** The bridge the product uses: a roslib link to `url` with the interface's connection settings. */
export function createRosBridge(spec: RobotInterface, url: string, clock: Clock): RosBridge {
  return new RosBridge(spec, createInterfaceLink(spec, url, clock), clock);
}
