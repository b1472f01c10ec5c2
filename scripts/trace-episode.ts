// One episode, step by step: where the bottle and the cap are in each hand's frame, the gripper targets and
// openings, what each hand holds, the bottle's tilt and the thread's turns. For reading how a policy fails (drift
// during the twist, a missed regrasp) beside the scripted expert on the same seed.
//
//   node --import tsx scripts/trace-episode.ts MODEL_DIR|expert SEED [--mode left|right] [--every 2] [--noise-scale S]
//     [--action-steps TA] [--ensemble B]
//
// Columns (mm; a hand's frame: z is its approach, y the fingers' closing direction): step; per arm: bottle in the
// hand's frame (x y z), gripper target, gripper opening, held object (B bottle, C cap, - none); cap in each hand's
// frame (x y z); bottle up (cos of its tilt); thread turns. The last line is the outcome as JSON.
import { parseArgs } from "node:util";
import type { Arm, Policy } from "../src/core/index.ts";
import { runEpisode } from "../src/runner/rollout/index.ts";
import { trainedPolicy } from "../src/runner/deploy/index.ts";
import { createEnv, createExpert } from "../src/sim/index.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    mode: { type: "string" },
    every: { type: "string", default: "2" },
    "noise-scale": { type: "string" },
    "action-steps": { type: "string" },
    ensemble: { type: "string" },
    scenario: { type: "string", default: "scenarios/bottle-cap.json" },
  },
});
const [which, seedArg] = positionals;
if (!which || seedArg === undefined || !Number.isInteger(Number(seedArg))) {
  throw new Error(
    "usage: scripts/trace-episode.ts MODEL_DIR|expert SEED [--mode left|right] [--every N] [--noise-scale S] [--action-steps TA] [--ensemble B] [--scenario F]",
  );
}
const expert = which === "expert";
const env = createEnv(values.scenario, { cameras: !expert });
const numeric = (flag: "noise-scale" | "action-steps" | "ensemble"): number | undefined => {
  const v = values[flag];
  if (v !== undefined && !Number.isFinite(Number(v))) throw new Error(`--${flag}: expected a number, got "${v}"`);
  return v === undefined ? undefined : Number(v);
};
const tuning = {
  noiseScale: numeric("noise-scale"),
  actionSteps: numeric("action-steps"),
  ensemble: numeric("ensemble"),
};
const policy: Policy = expert
  ? createExpert(env, values.mode ? { mode: values.mode as Arm } : {})
  : trainedPolicy(which, env, Object.fromEntries(Object.entries(tuning).filter(([, v]) => v !== undefined)));
const names = env.environmentNames;
const every = Number(values.every);
const mm = (x: number): number => Math.round(1000 * x);
const arms = ["left", "right"] as const;
const print = (line: string): boolean => process.stdout.write(`${line}\n`);

print(
  "step | L: bottle xyz, target, opening, held | R: same | cap in L xyz | cap in R xyz | up | turns (mm, hand frames)",
);
// as `duet sim` / `duet eval` run it (src/runner/rollout/sim-job.ts): To 2, each chunk executed as the policy cut it
const outcome = await runEpisode(env, policy, Number(seedArg), {
  onStep: (step, obs, action) => {
    if (step % every !== 0) return;
    const e = obs.environmentState as Float32Array;
    const at = (n: string): number => e[names.indexOf(n)] as number;
    const xyz = (what: string, arm: Arm): number[] => ["x", "y", "z"].map((a) => mm(at(`${what}_in_${arm}_hand_${a}`)));
    const w = env.world;
    const row: (string | number)[] = [step];
    arms.forEach((arm, i) => {
      const g = w.arms[arm].gripper;
      const held = g.holding === w.bottle ? "B" : g.holding === w.cap ? "C" : "-";
      row.push("|", ...xyz("bottle", arm), mm(action[8 * i + 7] as number), mm(g.opening), held);
    });
    row.push("|", ...xyz("cap", "left"), "|", ...xyz("cap", "right"));
    row.push("|", at("bottle_up_z").toFixed(3), at("thread_turns").toFixed(2));
    print(row.join(" "));
  },
});
print(JSON.stringify({ success: outcome.success, holder: outcome.holder, steps: outcome.steps }));
