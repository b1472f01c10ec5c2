// How precise must a policy's joint targets be? The scripted expert with a constant per-episode error added to its
// commands (joints 1–6 of the chosen arm(s), drawn from N(0, σ²) in rad; grippers untouched). The expert plans from
// its own commands, so it never corrects the error: this measures the task's open-loop tolerance. --actuation S adds
// the simulator's slowly varying tracking error (SimEnv actuationNoise, std S rad on joints 1–6 of both arms; what
// `duet record --actuation-noise` records with) on top.
//
//   node --import tsx scripts/expert-tolerance.ts [--sigma 0.01] [--arm both|holder|twister] [--episodes 16]
//     [--seed 5000] [--joint7 0] [--actuation 0] [--scenario scenarios/bottle-cap.json]
//
// Prints one JSON object: { sigma, joint7, actuation, arm, episodes, successes, success_rate, wilson95 }.
import { parseArgs } from "node:util";
import { Rng, wilson95, type ActionChunk, type Observation, type Policy } from "../src/core/index.ts";
import { runEpisode } from "../src/runner/rollout/index.ts";
import { createEnv, createExpert } from "../src/sim/index.ts";

const { values } = parseArgs({
  options: {
    sigma: { type: "string", default: "0.01" },
    joint7: { type: "string", default: "0" },
    actuation: { type: "string", default: "0" },
    arm: { type: "string", default: "both" },
    episodes: { type: "string", default: "16" },
    seed: { type: "string", default: "5000" },
    scenario: { type: "string", default: "scenarios/bottle-cap.json" },
  },
});
const sigma = Number(values.sigma);
const sigma7 = Number(values.joint7);
const actuation = Number(values.actuation);
const arm = values.arm;
if (!["both", "holder", "twister"].includes(arm))
  throw new Error(`--arm: expected both, holder or twister, got ${arm}`);
const episodes = Number(values.episodes);
const seed0 = Number(values.seed);
for (const [name, v, ok, expected] of [
  ["--sigma", sigma, sigma >= 0, "a number ≥ 0 (rad)"],
  ["--joint7", sigma7, sigma7 >= 0, "a number ≥ 0 (rad)"],
  ["--actuation", actuation, actuation >= 0, "a number ≥ 0 (rad)"],
  ["--episodes", episodes, Number.isInteger(episodes) && episodes >= 1, "an integer ≥ 1"],
  ["--seed", seed0, Number.isInteger(seed0) && seed0 >= 0, "an integer ≥ 0"],
] as const) {
  if (!ok) throw new Error(`${name}: expected ${expected}, got ${v}`);
}

const env = createEnv(values.scenario, { cameras: false, actuationNoise: actuation });
const expert = createExpert(env);
const bias = new Float32Array(16);
const biased: Policy = {
  reset(seed: number): void {
    expert.reset(seed);
    const rng = new Rng(seed ^ 0xb1a5);
    for (let j = 0; j < 16; j++) {
      const left = j < 8;
      const holds = left === (expert.holder === "left");
      const chosen = arm === "both" || (arm === "holder") === holds;
      const k = j % 8; // 0–5: joints 1–6, 6: joint 7, 7: gripper
      bias[j] = !chosen || k === 7 ? 0 : (k === 6 ? sigma7 : sigma) * rng.normal();
    }
  },
  async predictChunk(history: readonly Observation[]): Promise<ActionChunk> {
    const chunk = await expert.predictChunk(history);
    for (let j = 0; j < 16; j++) chunk.actions[j] = (chunk.actions[j] as number) + (bias[j] as number);
    return chunk;
  },
};
let successes = 0;
for (let i = 0; i < episodes; i++) {
  const outcome = await runEpisode(env, biased, seed0 + i);
  if (outcome.success) successes++;
  process.stderr.write(
    `seed ${seed0 + i}: ${outcome.success ? "success" : "failure"} (holder ${outcome.holder}, ${outcome.turns.toFixed(2)} turns, ${outcome.steps} steps)\n`,
  );
}
const interval = wilson95(successes, episodes);
process.stdout.write(
  `${JSON.stringify({
    sigma,
    joint7: sigma7,
    actuation,
    arm,
    episodes,
    successes,
    success_rate: successes / episodes,
    wilson95: interval,
  })}\n`,
);
