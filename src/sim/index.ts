// sim: cannon-es physics of two servo-tracked arms, a bottle with a threaded cap, CPU-rendered cameras, the env and
// the scripted expert.
export { loadScenario, scenarioSchema, cameraSchema, taskSchema, TASKS } from "./scenario.ts";
export type { Scenario, ScenarioFile, CameraSpec, TaskName } from "./scenario.ts";
export { PERTURBATIONS, PERTURBATION_NAMES } from "./perturbations.ts";
export { drawAppearance } from "./appearance.ts";
export type { Appearance } from "./appearance.ts";
export {
  drawTask,
  phrasingKey,
  scenarioPhrasings,
  taskFor,
  taskSuccess,
  DEFAULT_INSTRUCTION,
  ScoringError,
} from "./tasks.ts";
export type { EpisodeTask, ScoredAs } from "./tasks.ts";
export { loadParaphrases } from "./paraphrases.ts";
export {
  allPhrasings,
  drawPhrasing,
  grammarMeanings,
  longestPhrasingBytes,
  meaningOf,
  rephrase,
} from "./instruction-grammar.ts";
export type { Meaning } from "./instruction-grammar.ts";
export type { Paraphrase, ParaphraseBenchmark } from "./paraphrases.ts";
export { SimEnv, ActionError } from "./env.ts";
export type { SimEnvOptions, EnvCameras } from "./env.ts";
export { ScriptedExpert } from "./expert.ts";
export type { ExpertOptions } from "./expert.ts";
export { SceneCameras } from "./cameras.ts";
export { BodyScene, POSE_STRIDE } from "./scene.ts";
export { BimanualWorld } from "./world.ts";
export type { EpisodeParams } from "./world.ts";
export { ArmKinematics } from "./kinematics.ts";
export type { IkOptions, IkResult } from "./kinematics.ts";
export { armBodies, armBodyNames, capSeatHeight } from "./bodies.ts";
export type { BodySpec, ShapeSpec, BodyRole } from "./bodies.ts";
export { newPose, poseFromAxes, poseFromQuaternion, poseQuaternion } from "./pose.ts";
export type { Pose } from "./pose.ts";
export { MAX_TWIST_RATE, ScrewThread, twistAngle } from "./thread.ts";
export { Rasterizer } from "./render/index.ts";
export { ContactAudio, CLICKS_PER_TURN } from "./audio.ts";
export { ENVIRONMENT_NAMES } from "./environment-state.ts";

import { DuetError } from "../core/index.ts";
import { SceneCameras } from "./cameras.ts";
import { SimEnv } from "./env.ts";
import { ScriptedExpert, type ExpertOptions } from "./expert.ts";
import { loadScenario, type Scenario } from "./scenario.ts";
import type { ScoredAs } from "./tasks.ts";

/**
 * A simulated env for a scenario file or a loaded scenario; cameras rendered unless `cameras: false`; `perturb`
 * names perturbations laid over a scenario file (sim/perturbations.ts); `actuationNoise`, `audio`, `instruction` and
 * `scoredAs` as in SimEnvOptions.
 */
export function createEnv(
  scenario: string | Scenario,
  options: {
    cameras?: boolean;
    perturb?: readonly string[];
    actuationNoise?: number;
    audio?: boolean;
    instruction?: string;
    scoredAs?: ScoredAs;
  } = {},
): SimEnv {
  const perturb = options.perturb ?? [];
  if (typeof scenario !== "string" && perturb.length > 0) {
    // a loaded scenario has its defaults filled in and colours parsed: overlays are made for the file's JSON
    throw new DuetError(`createEnv: perturb ${perturb.join(",")} needs a scenario file, not a loaded scenario`);
  }
  const s = typeof scenario === "string" ? loadScenario(scenario, perturb) : scenario;
  return new SimEnv(s, {
    ...(options.cameras !== false && { cameras: new SceneCameras(s.cameras) }),
    ...(options.actuationNoise !== undefined && { actuationNoise: options.actuationNoise }),
    ...(options.audio && { audio: true }),
    ...(options.instruction !== undefined && { instruction: options.instruction }),
    ...(options.scoredAs && { scoredAs: options.scoredAs }),
  });
}

/** The scripted expert for an env; `mode` fixes which arm holds the bottle. */
export function createExpert(env: SimEnv, options: ExpertOptions = {}): ScriptedExpert {
  return new ScriptedExpert(env, options);
}
