// `--policy` values for `duet deploy` → a core Policy and the horizons to run it with. One table of resolvers;
// nothing else switches on policy names.
import { existsSync, statSync } from "node:fs";
import { ACTION_DIM, DuetError, type Policy } from "../core/index.ts";
import type { LoadedRobotInterface } from "../bridge/index.ts";
import { loadPolicy } from "../policy/index.ts";
import { HoldPolicy } from "../runner/holdPolicy.ts";
import { ReplayPolicy } from "../runner/replayPolicy.ts";

/** A policy ready for the deploy loop: To (observations it wants) and Ta (steps run per chunk), where it has them. */
export interface DeployPolicy {
  policy: Policy;
  obsSteps?: number;
  actionSteps?: number;
}

interface PolicyResolver {
  /** How the value looks, for help and error text. */
  pattern: string;
  describe: string;
  matches(spec: string): boolean;
  create(spec: string, robot: LoadedRobotInterface): Promise<DeployPolicy>;
}

/**
 * A trained model, refused before anything moves unless it fits the robot interface: 16 state and action values, the
 * interface's cameras at its image size, its control rate, no simulator scene state, no sound (no microphone topic).
 * The robot type is not compared: simulator recordings name the simulated pair, ROS recordings the interface.
 */
async function trainedPolicy(dir: string, ri: LoadedRobotInterface): Promise<DeployPolicy> {
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
  return { policy, obsSteps: policy.historySteps, actionSteps: policy.actionHorizon };
}

const resolvers: PolicyResolver[] = [
  {
    pattern: "hold",
    describe: "hold the measured pose",
    matches: (s) => s === "hold",
    create: () => Promise.resolve({ policy: new HoldPolicy() }),
  },
  {
    pattern: "replay:FILE.json",
    describe: 'replay recorded chunks ({"chunks": [[[16 numbers] × Tp] × N]})',
    matches: (s) => s.startsWith("replay:"),
    create: (s) => Promise.resolve({ policy: ReplayPolicy.fromFile(s.slice("replay:".length)) }),
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
export async function resolveDeployPolicy(spec: string, robot: LoadedRobotInterface): Promise<DeployPolicy> {
  const r = resolvers.find((x) => x.matches(spec));
  if (!r) throw new DuetError(`--policy: expected one of ${policyHelp()}, received "${spec}"`);
  return r.create(spec, robot);
}
