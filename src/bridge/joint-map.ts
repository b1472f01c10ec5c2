// JointState → the 16 state slots, by joint NAME (JointState order is not guaranteed; several topics may each carry
// some of the joints). Keeps the latest value and its receive time per slot.
import { ACTION_DIM, ARMS, ARM_DOF, armOffset } from "../core/index.ts";
import type { JointStateMsg } from "./messages.ts";
import type { RobotInterface } from "./robot-interface.ts";

/** ROS joint name for every slot (Da = 16), in slot order. */
export function slotJointNames(spec: RobotInterface): string[] {
  const names: string[] = new Array<string>(ACTION_DIM).fill("");
  for (const arm of ARMS) {
    const o = armOffset(arm);
    spec.arms[arm].joints.forEach((n, i) => (names[o + i] = n));
    names[o + ARM_DOF] = spec.arms[arm].gripper_joint;
  }
  return names;
}

/** Latest measured position per slot, merged by name from any number of JointState messages. */
export class JointStateMap {
  readonly names: readonly string[];
  private readonly slotOf: Map<string, number>;
  /** Latest position per slot (Da = 16). */
  readonly position = new Float64Array(ACTION_DIM);
  /** Receive time (ms, clock.now) per slot; -Infinity until first received. */
  readonly receivedAt = new Float64Array(ACTION_DIM).fill(-Infinity);

  constructor(names: readonly string[]) {
    this.names = names;
    this.slotOf = new Map(names.map((n, i) => [n, i]));
  }

  /** Store the joints of `msg` received at `now`; returns how many slots it updated. Unknown names are ignored. */
  apply(msg: JointStateMsg, now: number): number {
    let n = 0;
    for (let i = 0; i < msg.name.length; i++) {
      const slot = this.slotOf.get(msg.name[i] as string);
      if (slot === undefined) continue;
      this.position[slot] = msg.position[i] as number;
      this.receivedAt[slot] = now;
      n++;
    }
    return n;
  }

  /** Names of slots never received or older than `maxAgeMs` at `now`. Empty when the state is complete and fresh. */
  staleJoints(now: number, maxAgeMs: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < ACTION_DIM; i++)
      if (!(now - (this.receivedAt[i] as number) <= maxAgeMs)) out.push(this.names[i] as string);
    return out;
  }

  /** Age (ms) of the oldest slot at `now` (Infinity if any slot was never received). */
  oldestAge(now: number): number {
    let oldest = Infinity;
    for (let i = 0; i < ACTION_DIM; i++) oldest = Math.min(oldest, this.receivedAt[i] as number);
    return now - oldest;
  }

  /** Copy the state into `out` (Ds = 16). */
  read(out: Float32Array): Float32Array {
    for (let i = 0; i < ACTION_DIM; i++) out[i] = this.position[i] as number;
    return out;
  }

  /** Forget everything (after a disconnect: only messages of the new connection count). */
  clear(): void {
    this.receivedAt.fill(-Infinity);
    this.position.fill(0);
  }
}
