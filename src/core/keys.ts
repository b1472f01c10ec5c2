// Key names in one place. Bimanual keys are composed by prefix (left_, right_).

/** Arms in action/state order: the left arm's 8 slots come first. */
export const ARMS = ["left", "right"] as const;
export type Arm = (typeof ARMS)[number];

/** Joints per arm (Franka Panda: 7 revolute joints). */
export const ARM_DOF = 7;
/** Slots per arm in state and action vectors: 7 joints + 1 gripper opening. */
export const SLOTS_PER_ARM = ARM_DOF + 1;
/** Length of a state or action vector: [left q1..q7, left gripper, right q1..q7, right gripper]. */
export const ACTION_DIM = SLOTS_PER_ARM * ARMS.length;

/** Slot names, e.g. `left_joint1` … `left_gripper`, `right_joint1` … */
export const SLOT_NAMES: readonly string[] = ARMS.flatMap((arm) => [
  ...Array.from({ length: ARM_DOF }, (_, i) => `${arm}_joint${i + 1}`),
  `${arm}_gripper`,
]);

/** Index of an arm's first slot in a state/action vector. */
export function armOffset(arm: Arm): number {
  return ARMS.indexOf(arm) * SLOTS_PER_ARM;
}

/** The other arm. */
export function otherArm(arm: Arm): Arm {
  return arm === "left" ? "right" : "left";
}

/** Dataset feature keys (LeRobot naming). */
export const STATE_KEY = "observation.state";
export const ACTION_KEY = "action";
/**
 * Privileged scene state a simulator knows (object poses …): the target of the scene auxiliary loss, and an input
 * only of privileged policies (policy config `observeScene`), which therefore run in simulation only.
 */
export const ENVIRONMENT_KEY = "observation.environment_state";
export const IMAGE_KEY_PREFIX = "observation.images.";
export function imageKey(camera: string): string {
  return IMAGE_KEY_PREFIX + camera;
}
/** Sound the robot hears: mono samples of the last control period (`Observation.audio`). */
export const AUDIO_KEY = "observation.audio";

/** The one sample rate of duet's audio path (Hz): the simulator synthesises at it, the spectrogram takes only it. */
export const AUDIO_SAMPLE_RATE = 16000;
