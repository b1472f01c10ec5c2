// `--policy` references → policies, for the simulator (`duet sim`, `duet eval`, evaluation during training) and for a
// robot (`duet deploy`). One table; nothing else switches on policy names. A reference names the scripted expert
// (simulator only: it reads the simulator's world), a policy for bringing up a robot (hold, replay:FILE.json; robot
// only) or a trained model directory (either: checked against the scenario's env, or against the robot-interface
// file before anything moves, with where a language-conditioned model's instructions come from).
import { existsSync, statSync } from "node:fs";
import { ACTION_DIM, DuetError, type Arm, type Policy } from "../../core/index.ts";
import type { LoadedRobotInterface } from "../../bridge/index.ts";
import { loadPolicy, readPolicyModel, type PolicyModel } from "../../policy/index.ts";
import { createExpert, type SimEnv } from "../../sim/index.ts";
import type { DeployLanguage } from "./episode-instructions.ts";
import { HoldPolicy } from "./hold-policy.ts";
import { checkInstruction } from "./instruction.ts";
import { ReplayPolicy } from "./replay-policy.ts";
import { trainedPolicy, type Closable, type GoalSource, type PolicyTuning } from "./trained-policy.ts";

/** Where a policy runs: the simulator, or a robot through a robot-interface file. */
export type PolicyTarget = "sim" | "robot";

/** How a policy runs in the simulator. */
export interface SimPolicyOptions {
  /** The expert: which arm holds the bottle; "random" draws per episode. Default: the scenario's. */
  mode?: "random" | Arm;
  /** A trained policy's run-time sampling and Ta. Default: what its model.json says. */
  tuning?: PolicyTuning;
  /** A goal-conditioned policy's goal pictures. */
  goals?: GoalSource;
}

/**
 * A policy ready for the deploy loop: To (observations it wants) and Ta (steps run per chunk), where it has them, and
 * for a language-conditioned policy where its instructions come from.
 */
export interface DeployPolicy {
  policy: Policy;
  obsSteps?: number;
  actionSteps?: number;
  language?: DeployLanguage;
}

/** Run-time choices from the command line. */
export interface DeployPolicyOptions {
  /** Ta: chunk steps executed before the policy is asked again (`--action-steps`); default per policy kind. */
  actionSteps?: number;
  /** Run a model exported before its run's last step (model.json provenance.unfinished). Default false: refused. */
  allowUnfinished?: boolean;
  /**
   * The first episode's instruction (`--instruction`), for a language-conditioned model only: refused for any other
   * policy, and checked against the model's text encoder. Later episodes' come from the interface's instruction topic.
   */
  instruction?: string;
}

interface PolicyKind {
  /** How the value looks, for help and error text. */
  pattern: string;
  describe: string;
  matches(ref: string): boolean;
  /** The model directory's model.json (trained policies only). */
  model?(ref: string): PolicyModel;
  /** The policy in the simulator (absent: not for the simulator). */
  sim?(ref: string, env: SimEnv, options: SimPolicyOptions): Policy & Partial<Closable>;
  /** The policy on a robot (absent: not for robots). */
  robot?(ref: string, ri: LoadedRobotInterface, options: DeployPolicyOptions): Promise<DeployPolicy>;
}

/**
 * What to edit in the robot-interface file so that `model` can run through it; empty when it fits. The interface's
 * `cameras` object is keyed by the camera names a model reads (each value the robot topic that feeds it), so a model
 * whose names the file lacks needs those keys, not a new model. Extra cameras in the file are allowed (not read).
 */
export function interfaceEdits(model: Pick<PolicyModel, "cameras" | "fps">, ri: LoadedRobotInterface): string[] {
  const edits: string[] = [];
  const have = Object.keys(ri.spec.cameras);
  const want = model.cameras.map((c) => c.name);
  const missing = want.filter((n) => !have.includes(n));
  const unused = have.filter((n) => !want.includes(n));
  for (const n of unused)
    if (missing.length > 0)
      edits.push(
        `cameras.${n}: the model reads no camera "${n}"; rename this key to the model camera its topic should feed ` +
          `(${missing.join(", ")}), or remove it`,
      );
  for (const n of missing)
    edits.push(
      `cameras.${n}: missing; add "${n}": {"topic": "<the sensor_msgs/CompressedImage topic of the robot's camera ` +
        `placed like the model's ${n}>"}` +
        (unused.length > 0 ? ` (or rename one of ${unused.map((u) => `cameras.${u}`).join(", ")} to it)` : ""),
    );
  const sizes = new Set(model.cameras.map((c) => `${c.width}x${c.height}`));
  const { width, height } = ri.spec.image_size;
  const first = model.cameras[0];
  if (first && (sizes.size > 1 || !sizes.has(`${width}x${height}`)))
    edits.push(
      sizes.size > 1
        ? `image_size: the model reads cameras of different sizes (${[...sizes].join(", ")}); one interface cannot feed it`
        : `image_size: set {"width": ${first.width}, "height": ${first.height}} (the model's input; every frame is resized to it), not ${width}x${height}`,
    );
  if (model.fps !== ri.spec.control_hz)
    edits.push(`control_hz: set ${model.fps} (the rate the model was trained at), not ${ri.spec.control_hz}`);
  return edits;
}

/**
 * A trained model, refused before anything moves unless it fits the robot interface: 16 state and action values, the
 * interface's cameras at its image size, its control rate, no simulator scene state, no sound (no microphone topic).
 * The robot type is not compared: simulator recordings name the simulated pair, ROS recordings the interface.
 * A camera, image-size or rate mismatch is refused with the list of edits to the interface file.
 */
async function robotModel(dir: string, ri: LoadedRobotInterface, options: DeployPolicyOptions): Promise<DeployPolicy> {
  const model = readPolicyModel(dir);
  if (model.provenance.unfinished === true && options.allowUnfinished !== true) {
    throw new DuetError(
      `${dir} is unfinished: exported at step ${String(model.provenance.steps)} of ${String(model.provenance.total_steps)} ` +
        `(provenance.unfinished in model.json; its training was interrupted). Finish it with duet train --resume ` +
        `--out ${dir}, or pass --allow-unfinished to run it on the robot anyway`,
    );
  }
  const edits = interfaceEdits(model, ri);
  if (edits.length > 0)
    throw new DuetError(
      `${dir} does not fit the robot interface ${ri.file}. Edit ${ri.file}:\n  - ${edits.join("\n  - ")}\n` +
        `(the keys of "cameras" are the camera names the model reads: ${model.cameras.map((c) => c.name).join(", ")})`,
    );
  if (options.actionSteps !== undefined && options.actionSteps > model.config.predSteps)
    throw new DuetError(
      `--action-steps ${options.actionSteps}: ${dir} plans chunks of ${model.config.predSteps} steps (config.predSteps)`,
    );
  const language = robotLanguage(dir, model, ri, options.instruction);
  const { width, height } = ri.spec.image_size;
  const policy = await loadPolicy(dir, {
    expect: {
      stateDim: ACTION_DIM,
      actionDim: ACTION_DIM,
      cameras: Object.keys(ri.spec.cameras).map((name) => ({ name, width, height })),
      controlHz: ri.spec.control_hz,
      environmentNames: null,
      audio: false,
    },
  });
  return {
    policy,
    obsSteps: policy.historySteps,
    actionSteps: options.actionSteps ?? policy.actionHorizon,
    ...(language && { language }),
  };
}

/**
 * Where a model's instructions come from on the robot, refused before anything moves: `--instruction` for a model
 * that reads none (it would do its one task whatever the text said), a language-conditioned model with neither
 * `--instruction` nor the interface's `instruction_topic` (it has no task), and a text its encoder cannot take.
 * Undefined for a model that reads no instruction.
 */
function robotLanguage(
  dir: string,
  model: PolicyModel,
  ri: LoadedRobotInterface,
  instruction: string | undefined,
): DeployLanguage | undefined {
  const { language } = model.config;
  if (language === null) {
    if (instruction !== undefined) refuseInstruction(dir, "its policy.language is null: it was trained without them");
    return undefined;
  }
  const topic = ri.spec.instruction_topic?.topic;
  if (instruction === undefined && topic === undefined)
    throw new DuetError(
      `${dir} is language-conditioned (config.language): it is not run without an instruction. Give the first ` +
        `episode's task with --instruction "TEXT", or add "instruction_topic": {"topic": "/duet/instruction"} to ` +
        `${ri.file} and publish the task there as a std_msgs/String (each message sets the task of the next episode)`,
    );
  const check = (text: string, where: string): string => checkInstruction(dir, language, text, where);
  return {
    check,
    ...(instruction !== undefined && { first: check(instruction, "--instruction") }),
    ...(topic !== undefined && { topic }),
  };
}

/** `--instruction` given to a policy that reads none: refused, saying why (`why`) and what to do. */
function refuseInstruction(ref: string, why: string): never {
  throw new DuetError(
    `--instruction: ${ref} does not read instructions (${why}); leave --instruction out, or run a ` +
      "language-conditioned model (e.g. models/multi-task-unet)",
  );
}

const kinds: PolicyKind[] = [
  {
    pattern: "expert",
    describe: "the scripted expert; it reads the simulator's world",
    matches: (s) => s === "expert",
    sim: (_s, env, o) => createExpert(env, o.mode ? { mode: o.mode } : {}),
  },
  {
    pattern: "hold",
    describe: "hold the measured pose",
    matches: (s) => s === "hold",
    robot: (_s, _ri, o) =>
      Promise.resolve({ policy: new HoldPolicy(), ...(o.actionSteps !== undefined && { actionSteps: o.actionSteps }) }),
  },
  {
    pattern: "replay:FILE.json",
    describe:
      'replay recorded chunks ({"chunks": [[[16 numbers] × Tp] × N], "actionSteps"?: Ta}; every step of each chunk unless Ta says fewer)',
    matches: (s) => s.startsWith("replay:"),
    robot: (s, _ri, o) => {
      const { policy, actionSteps } = ReplayPolicy.readFile(s.slice("replay:".length));
      return Promise.resolve({ policy, actionSteps: o.actionSteps ?? actionSteps });
    },
  },
  {
    pattern: "MODEL_DIR",
    describe: "a trained policy, e.g. models/bottle-cap-unet",
    matches: (s) => existsSync(s) && statSync(s).isDirectory(),
    model: readPolicyModel,
    sim: (s, env, o) => trainedPolicy(s, env, o.tuning, o.goals),
    robot: robotModel,
  },
];

/** Help text listing the `--policy` values accepted for `target`. */
export function policyHelp(target: PolicyTarget): string {
  return kinds
    .filter((k) => k[target] !== undefined)
    .map((k) => `${k.pattern} (${k.describe})`)
    .join(", ");
}

/** The kind of a reference; an unknown one (or one not for `target`) names what is accepted. */
function kindOf(ref: string, target: PolicyTarget): PolicyKind {
  const kind = kinds.find((k) => k[target] !== undefined && k.matches(ref));
  if (!kind) throw new DuetError(`--policy: expected one of ${policyHelp(target)}, received "${ref}"`);
  return kind;
}

/** The model.json of the trained policy a reference names, or null for the others (expert, hold, replay). */
export function policyModel(ref: string, target: PolicyTarget): PolicyModel | null {
  return kindOf(ref, target).model?.(ref) ?? null;
}

/** The policy a `--policy` value names, in the simulator's `env`. */
export function resolveSimPolicy(ref: string, env: SimEnv, options: SimPolicyOptions = {}): Policy & Partial<Closable> {
  return (kindOf(ref, "sim").sim as NonNullable<PolicyKind["sim"]>)(ref, env, options);
}

/** Resolve a `--policy` value for the robot interface; an unknown value names what is accepted. */
export async function resolveDeployPolicy(
  ref: string,
  robot: LoadedRobotInterface,
  options: DeployPolicyOptions = {},
): Promise<DeployPolicy> {
  const kind = kindOf(ref, "robot");
  if (options.instruction !== undefined && kind.model === undefined)
    refuseInstruction(ref, "only a trained language-conditioned model reads one");
  return (kind.robot as NonNullable<PolicyKind["robot"]>)(ref, robot, options);
}
