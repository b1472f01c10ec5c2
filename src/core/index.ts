// core: keys, shared types (the graph-runner interface nn and runtime meet at among them), errors, seeded RNG,
// validation at the boundary, small statistics, PNG frames, atomic file writes.
export { ARMS, ARM_DOF, SLOTS_PER_ARM, ACTION_DIM, SLOT_NAMES, armOffset, otherArm } from "./keys.ts";
export {
  STATE_KEY,
  ACTION_KEY,
  ENVIRONMENT_KEY,
  IMAGE_KEY_PREFIX,
  imageKey,
  AUDIO_KEY,
  AUDIO_SAMPLE_RATE,
} from "./keys.ts";
export type { Arm } from "./keys.ts";
export { DuetError, ValidationError, describeValue } from "./errors.ts";
export type { Issue } from "./errors.ts";
export { Rng } from "./rng.ts";
export { parseWith, loadJsonFile, readJsonWith } from "./validate.ts";
export { wilson95 } from "./wilson.ts";
export { robotSchema, loadRobot } from "./robot.ts";
export type { RobotDescription, JointSpec } from "./robot.ts";
export { encodePng, decodePng, pngHeader } from "./png.ts";
export { writeAtomic } from "./write-atomic.ts";
export type { Executor, Fetches, TensorData } from "./executor.ts";
export type { CameraFrame, Observation, ActionChunk, Policy, FeatureStats, Stats } from "./types.ts";
export type { Env, StepInfo, StepResult } from "./types.ts";
