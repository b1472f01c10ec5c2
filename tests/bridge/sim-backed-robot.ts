// duet's own simulator as the robot behind the rosbridge test server: the ROS nodes a real two-arm cell would run,
// reduced to what the bridge sees.
//   - joint state driver: publishes sensor_msgs/JointState on the interface's joint-state topics, joints by the
//     interface's NAMES (arm joints in radians, gripper joint = opening per finger in metres), from the SimEnv's
//     observation;
//   - camera drivers: the sim's rendered frames as sensor_msgs/CompressedImage (PNG, base64 as rosbridge sends uint8[])
//     on the topic of the interface camera with the same name;
//   - controllers: listen on the interface's command topics (JointTrajectory / Float64MultiArray, or ROS 2
//     FollowJointTrajectory goals) and keep the latest target per slot, mapped by joint name; a stamped trajectory
//     whose stamp + time_from_start has passed on arrival (the robot's wall clock, `wallS`) is not executed, as ROS
//     trajectory controllers do (counted in `expired`);
//   - the cell's episode manager (`hearInstructions`): subscribed to the interface's instruction topic like any ROS
//     node, it sets the sim's task to each instruction it hears (std_msgs/String) — of the episode in progress while
//     no command has arrived yet (the same episode, rebuilt from its seed with the new task: nothing has moved), else
//     of the next one — so the sim asks and scores what duet was told, through the same server.
// Time is the driver's (./lockstep.ts): `step()` advances the physics one control period with the latest targets,
// like position controllers holding their last command for one period. Before the first command of an episode the
// arms stand still and the sim does not advance (a robot waiting at its start pose).
import { ACTION_DIM, encodePng, type Observation, type StepResult } from "../../src/core/index.ts";
import { makeStamp, slotJointNames, type RobotInterface } from "../../src/bridge/index.ts";
import { trajectoryTiming } from "./sim-robot.ts";
import type { SimEnv } from "../../src/sim/index.ts";
import type { RosbridgeTestServer } from "./rosbridge-server.ts";

type Command = RobotInterface["arms"]["left"]["command"];

export class SimBackedRobot {
  /** Latest commanded target per slot (Da = 16), as received. */
  readonly targets = new Float64Array(ACTION_DIM);
  /** Command messages received (every controller message counts once). */
  commandMessages = 0;
  /** Messages on command topics that could not be applied (wrong shape or unknown joint names). */
  readonly refused: string[] = [];
  /** Targets each `step()` of the current episode applied (copies). */
  readonly applied: Float64Array[] = [];
  /** Stamped commands that arrived after their stamp + time_from_start (not executed). */
  expired = 0;
  /** Instructions heard on the instruction topic, in order. */
  readonly instructions: string[] = [];
  private observation: Observation | undefined;
  private commanded = false;
  private seed = 0;
  private sim: SimEnv;
  /** The env of the next episode, when an instruction came after this one's first command. */
  private nextEnv: SimEnv | undefined;
  private readonly names: string[];
  private readonly slotOf: Map<string, number>;

  constructor(
    private readonly server: RosbridgeTestServer,
    private readonly spec: RobotInterface,
    env: SimEnv,
    /** The robot's wall clock (s since the epoch), which stamped commands are judged by. */
    private readonly wallS: () => number = () => Date.now() / 1000,
  ) {
    this.sim = env;
    this.names = slotJointNames(spec);
    this.slotOf = new Map(this.names.map((n, i) => [n, i]));
    for (const name of Object.keys(spec.cameras))
      if (!env.cameras.includes(name))
        throw new Error(`interface camera "${name}" is not a camera of the sim env (${env.cameras.join(", ")})`);
    for (const arm of ["left", "right"] as const) {
      const a = spec.arms[arm];
      this.listen(a.command, a.joints);
      this.listen(a.gripper_command, [a.gripper_joint]);
    }
  }

  /** The sim of the current episode. */
  get env(): SimEnv {
    return this.sim;
  }

  /**
   * Listen on `topic` (std_msgs/String) as the cell's episode manager; `envFor(text)` is the sim that asks and scores
   * that instruction (e.g. createEnv(scenario, { instruction: text })). See the header.
   */
  hearInstructions(topic: string, envFor: (instruction: string) => SimEnv): void {
    this.server.onTopic(topic, (m) => {
      const text = m.data as string; // the server refuses a std_msgs/String without a string
      this.instructions.push(text);
      const env = envFor(text);
      if (this.commanded) this.nextEnv = env;
      else {
        this.sim = env;
        if (this.observation) this.observation = env.reset(this.seed);
      }
    });
  }

  /** Start an episode: reset the env with `seed` (a new one if an instruction came); no command yet, so the sim waits. */
  reset(seed: number): Observation {
    if (this.nextEnv) this.sim = this.nextEnv;
    this.nextEnv = undefined;
    this.seed = seed;
    this.observation = this.sim.reset(seed);
    this.commanded = false;
    this.applied.length = 0;
    return this.observation;
  }

  /** Whether a command has arrived since `reset`. */
  get hasCommand(): boolean {
    return this.commanded;
  }

  /** One control period with the latest targets; null while no command has arrived (the sim does not advance). */
  step(): StepResult | null {
    if (!this.commanded) return null;
    const r = this.sim.step(this.targets);
    this.applied.push(Float64Array.from(this.targets));
    this.observation = r.observation;
    return r;
  }

  /** Publish the current joint state on every joint-state topic (stamped `wallS`). */
  publishJointStates(wallS: number): number {
    const obs = this.current();
    const topics = this.spec.joint_states.map((j) => j.topic);
    const per = Math.ceil(ACTION_DIM / topics.length);
    topics.forEach((topic, k) => {
      // one topic: all joints; several: slot blocks split evenly (left arm, right arm)
      const slots = Array.from({ length: ACTION_DIM }, (_, i) => i).filter((i) => Math.floor(i / per) === k);
      this.server.publish(topic, {
        header: { stamp: makeStamp(this.spec.ros_version, wallS), frame_id: "" },
        name: slots.map((i) => this.names[i]),
        position: slots.map((i) => obs.state[i]),
        velocity: [],
        effort: [],
      });
    });
    return topics.length;
  }

  /** Publish the current frame of every interface camera as a PNG CompressedImage; returns how many. */
  publishFrames(wallS: number): number {
    const obs = this.current();
    let n = 0;
    for (const [name, c] of Object.entries(this.spec.cameras)) {
      const frame = obs.images[name];
      if (!frame) throw new Error(`the sim env rendered no frame for camera "${name}"`);
      this.server.publish(c.topic, {
        header: { stamp: makeStamp(this.spec.ros_version, wallS), frame_id: name },
        format: "rgb8; png compressed rgb8",
        data: Buffer.from(encodePng(frame)).toString("base64"),
      });
      n++;
    }
    return n;
  }

  private current(): Observation {
    if (!this.observation) throw new Error("SimBackedRobot: reset(seed) before publishing");
    return this.observation;
  }

  private setTargets(source: string, joints: readonly string[], positions: unknown): void {
    this.commandMessages++;
    if (!Array.isArray(positions) || positions.length !== joints.length) {
      this.refused.push(`${source}: expected ${joints.length} positions`);
      return;
    }
    joints.forEach((n, i) => {
      const slot = this.slotOf.get(n);
      const v = positions[i] as unknown;
      if (slot === undefined || typeof v !== "number" || !Number.isFinite(v))
        this.refused.push(`${source}: joint ${n} = ${String(v)}`);
      else this.targets[slot] = v;
    });
    this.commanded = true;
  }

  private listen(cmd: Command, joints: readonly string[]): void {
    const fromTrajectory = (source: string, tr: unknown): void => {
      const t = tr as { joint_names?: string[]; points?: { positions?: number[] }[] } | undefined;
      const { stampS, reachS } = trajectoryTiming(tr);
      if (stampS !== undefined && stampS + (reachS ?? 0) < this.wallS()) {
        this.commandMessages++;
        this.expired++;
        return;
      }
      this.setTargets(source, t?.joint_names ?? [], t?.points?.[0]?.positions);
    };
    if (cmd.kind === "position_controller")
      this.server.onTopic(cmd.topic, (m) => this.setTargets(cmd.topic, joints, m.data));
    else if (cmd.kind === "joint_trajectory") this.server.onTopic(cmd.topic, (m) => fromTrajectory(cmd.topic, m));
    else if (this.spec.ros_version === 2)
      this.server.advertiseAction(cmd.action, (args) => {
        fromTrajectory(cmd.action, args.trajectory);
        return { error_code: 0 };
      });
    else
      this.server.onTopic(`${cmd.action}/goal`, (m) =>
        fromTrajectory(cmd.action, (m.goal as { trajectory?: unknown } | undefined)?.trajectory),
      );
  }
}
