// Where each hand is relative to the bottle at the moment its gripper is first commanded closed: how far a policy's
// approach lands from the expert's (which puts the holding hand at dx 0, dy ±103 mm, z 85 mm every time).
//
//   node --import tsx scripts/grasp-offsets.ts MODEL_DIR|expert [--episodes 8] [--seed 1000000] [--ta 5]
//
// Prints one JSON object per episode (stderr) and a summary (stdout): per arm, the hand's offset from the bottle axis
// (mm, x and y in the world frame), its height and the bottle's position in the hand's frame (mm), and the step, when
// its gripper target first went below 0.02 m; and `tipped`: the first step the bottle leaned past 15° with the
// bottle's position in each hand's frame then (what the hand that knocked it over was doing).
import { parseArgs } from "node:util";
import type { Observation, Policy } from "../src/core/index.ts";
import { loadPolicy } from "../src/policy/index.ts";
import { runEpisode } from "../src/runner/rollout/index.ts";
import { createEnv, createExpert } from "../src/sim/index.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    episodes: { type: "string", default: "8" },
    seed: { type: "string", default: "1000000" },
    ta: { type: "string", default: "5" },
  },
});
const which = positionals[0];
if (!which) throw new Error("usage: scripts/grasp-offsets.ts MODEL_DIR|expert [--episodes N] [--seed S] [--ta K]");
const episodes = Number(values.episodes);
const seed0 = Number(values.seed);
const ta = Number(values.ta);
for (const [name, v] of [
  ["--episodes", episodes],
  ["--seed", seed0],
  ["--ta", ta],
] as const) {
  if (!Number.isInteger(v) || v < (name === "--seed" ? 0 : 1))
    throw new Error(`${name}: expected an integer, got ${v}`);
}
const CLOSED = 0.02; // m per finger: well below the 0.04 opening, above the 0.017 cap radius
const env = createEnv("scenarios/bottle-cap.json", { cameras: which !== "expert" });
const policy: Policy = which === "expert" ? createExpert(env) : await loadPolicy(which);
const gripperSlot = { left: 7, right: 15 } as const;
// The expert grasps the bottle from the side with the tool centre point on its axis, so the hand sits tcp_offset
// from the axis along y (the 103 mm above).
const handBehindTcp = Math.round(1000 * env.scenario.robotDescription.gripper.tcp_offset);
interface Closing {
  step: number;
  dx_mm: number;
  dy_mm: number;
  z_mm: number;
  in_hand_mm: number[];
}
interface Tipped {
  step: number;
  in_left_hand_mm: number[];
  in_right_hand_mm: number[];
}
const TIPPED = Math.cos((15 * Math.PI) / 180);
const names = env.environmentNames;
const mm = (x: number): number => Math.round(1000 * x);
const inHand = (obs: Observation, arm: string): number[] =>
  ["x", "y", "z"].map((a) => mm(obs.environmentState![names.indexOf(`bottle_in_${arm}_hand_${a}`)]!));
const rows: {
  seed: number;
  success: boolean;
  holder: string;
  left: Closing | null;
  right: Closing | null;
  tipped: Tipped | null;
}[] = [];
for (let i = 0; i < episodes; i++) {
  const seed = seed0 + i;
  const first: { left: Closing | null; right: Closing | null } = { left: null, right: null };
  let tipped: Tipped | null = null;
  const outcome = await runEpisode(env, policy, seed, {
    obsHorizon: 2,
    actionHorizon: which === "expert" ? 1 : ta,
    onStep: (step, obs, action) => {
      const w = env.world;
      if (!tipped && obs.environmentState![names.indexOf("bottle_up_z")]! < TIPPED)
        tipped = { step, in_left_hand_mm: inHand(obs, "left"), in_right_hand_mm: inHand(obs, "right") };
      for (const arm of ["left", "right"] as const) {
        if (first[arm] || (action[gripperSlot[arm]] as number) > CLOSED) continue;
        const h = w.arms[arm].gripper.hand.position;
        const b = w.bottle.position;
        first[arm] = { step, dx_mm: mm(h.x - b.x), dy_mm: mm(h.y - b.y), z_mm: mm(h.z), in_hand_mm: inHand(obs, arm) };
      }
    },
  });
  const row = { seed, success: outcome.success, holder: outcome.holder, ...first, tipped };
  rows.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
}
// The hand that closed first is taken as the one meant to hold the bottle (the expert closes the holder first).
const holderMiss = rows.flatMap((r) => {
  const c = [r.left, r.right].filter((x): x is Closing => x !== null).sort((a, b) => a.step - b.step)[0];
  return c ? [Math.hypot(c.dx_mm, Math.abs(c.dy_mm) - handBehindTcp)] : [];
});
const median = (xs: number[]): number | null =>
  xs.length ? ([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number) : null;
process.stdout.write(
  `${JSON.stringify({
    policy: which,
    episodes,
    successes: rows.filter((r) => r.success).length,
    tipped: rows.filter((r) => r.tipped !== null).length,
    first_closing_miss_mm_median: median(holderMiss) === null ? null : Math.round(median(holderMiss) as number),
    first_closing_miss_mm: holderMiss.map((x) => Math.round(x)),
  })}\n`,
);
