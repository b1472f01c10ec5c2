// The privileged scene state a simulated observation carries (`Observation.environmentState`): where the bottle and
// the cap are, in the world and as each hand sees them. Recorded as `observation.environment_state`; training may ask
// the observer to read it from the images (train.sceneLoss); no policy takes it as input.
import * as CANNON from "cannon-es";
import { ARMS, ARM_DOF } from "../core/index.ts";
import type { BimanualWorld } from "./world.ts";

const xyz = (name: string) => ["x", "y", "z"].map((a) => `${name}_${a}`);

/** Entry names, in order: positions in metres (world frame, then each hand's frame), the bottle's up-axis z, turns. */
export const ENVIRONMENT_NAMES: readonly string[] = [
  ...xyz("bottle"),
  ...xyz("cap"),
  ...ARMS.flatMap((arm) => [...xyz(`bottle_in_${arm}_hand`), ...xyz(`cap_in_${arm}_hand`)]),
  "bottle_up_z",
  "thread_turns",
];

const local = new CANNON.Vec3();
const up = new CANNON.Vec3();
const Z = new CANNON.Vec3(0, 0, 1);

/** The scene state of `w` (length `ENVIRONMENT_NAMES.length`). */
export function environmentState(w: BimanualWorld): Float32Array {
  const out = new Float32Array(ENVIRONMENT_NAMES.length);
  let i = 0;
  const put = (v: CANNON.Vec3) => {
    out[i++] = v.x;
    out[i++] = v.y;
    out[i++] = v.z;
  };
  put(w.bottle.position);
  put(w.cap.position);
  for (const arm of ARMS) {
    const hand = w.arms[arm].moving[ARM_DOF] as CANNON.Body;
    put(hand.pointToLocalFrame(w.bottle.position, local));
    put(hand.pointToLocalFrame(w.cap.position, local));
  }
  w.bottle.quaternion.vmult(Z, up);
  out[i++] = up.z;
  out[i++] = w.thread.turns;
  return out;
}
