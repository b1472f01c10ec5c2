// runner/deploy: policies on a robot — the deploy control loop, the hold and replay policies, trained policies, and
// the one resolver from a `--policy` reference to a policy (for a robot or the simulator).
export { DeployController } from "./controller.ts";
export type { DeployOptions, DeployState, DeployStatus } from "./controller.ts";
export type { DeployLanguage } from "./episode-instructions.ts";
export { HoldPolicy } from "./hold-policy.ts";
export { interfaceEdits, policyHelp, policyModel, resolveDeployPolicy, resolveSimPolicy } from "./policy-ref.ts";
export type { DeployPolicy, DeployPolicyOptions, PolicyTarget, SimPolicyOptions } from "./policy-ref.ts";
export { ReplayPolicy, replayFileSchema } from "./replay-policy.ts";
export { trainedPolicy } from "./trained-policy.ts";
export type { Closable, EpisodeGoal, GoalSource, PolicyTuning, TrainedPolicy } from "./trained-policy.ts";
