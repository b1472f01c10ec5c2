// `--policy` values for `duet deploy` → a core Policy and the horizons to run it with. One table of resolvers;
// nothing else switches on policy names.
import { existsSync, statSync } from "node:fs";
import { ACTION_DIM, DuetError, type Policy } from "../../core/index.ts";
import type { LoadedRobotInterface } from "../../bridge/index.ts";
import { loadPolicy, readPolicyModel, type PolicyModel } from "../../policy/index.ts";
import { HoldPolicy } from "./hold-policy.ts";
import { ReplayPolicy } from "./replay-policy.ts";

/** A policy ready for the deploy loop: To (observations it wants) and Ta (steps run per chunk), where it has them. */
export interface DeployPolicy {
  policy: Policy;
  obsSteps?: number;
  actionSteps?: number;
}

/** Run-time choices from the command line. */
export interface DeployPolicyOptions {
  /** Ta: chunk steps executed before the policy is asked again (`--action-steps`); default per policy kind. */
  actionSteps?: number;
  /** Run a model exported before its run's last step (model.json provenance.unfinished). Default false: refused. */
  allowUnfinished?: boolean;
}

interface PolicyResolver {
  /** How the value looks, for help and error text. */
  pattern: string;
  describe: string;
  matches(spec: string): boolean;
  create(spec: string, robot: LoadedRobotInterface, options: DeployPolicyOptions): Promise<DeployPolicy>;
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
async function trainedPolicy(
  dir: string,
  ri: LoadedRobotInterface,
  options: DeployPolicyOptions,
): Promise<DeployPolicy> {
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
  return { policy, obsSteps: policy.historySteps, actionSteps: options.actionSteps ?? policy.actionHorizon };
}

const resolvers: PolicyResolver[] = [
  {
    pattern: "hold",
    describe: "hold the measured pose",
    matches: (s) => s === "hold",
    create: (_s, _ri, o) =>
      Promise.resolve({ policy: new HoldPolicy(), ...(o.actionSteps !== undefined && { actionSteps: o.actionSteps }) }),
  },
  {
    pattern: "replay:FILE.json",
    describe:
      'replay recorded chunks ({"chunks": [[[16 numbers] × Tp] × N], "actionSteps"?: Ta}; every step of each chunk unless Ta says fewer)',
    matches: (s) => s.startsWith("replay:"),
    create: (s, _ri, o) => {
      const { policy, actionSteps } = ReplayPolicy.readFile(s.slice("replay:".length));
      return Promise.resolve({ policy, actionSteps: o.actionSteps ?? actionSteps });
    },
  },
  {
    pattern: "MODEL_DIR",
    describe: "a trained policy, e.g. models/bottle-cap-unet",
    matches: (s) => existsSync(s) && statSync(s).isDirectory(),
    create: trainedPolicy,
  },
];

/** Help text listing the accepted `--policy` values. */
export function policyHelp(): string {
  return resolvers.map((r) => `${r.pattern} (${r.describe})`).join(", ");
}

/** Resolve a `--policy` value for the robot interface; an unknown value names what is accepted. */
export async function resolveDeployPolicy(
  spec: string,
  robot: LoadedRobotInterface,
  options: DeployPolicyOptions = {},
): Promise<DeployPolicy> {
  const r = resolvers.find((x) => x.matches(spec));
  if (!r) throw new DuetError(`--policy: expected one of ${policyHelp()}, received "${spec}"`);
  return r.create(spec, robot, options);
}
