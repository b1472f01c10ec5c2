// Where an expert episode's time goes: CPU milliseconds (process.cpuUsage, which other work on a shared machine moves
// less than the wall clock) spent in the physics solver, in contact generation (cannon-es's narrowphase), in the rest
// of the physics step and the env, in rendering the three cameras, and in the scripted expert (its IK), per episode.
//
//   node --import tsx scripts/sim-split.ts [--seeds 1000,1001,1002] [--scenario scenarios/bottle-cap.json]
//
// Prints one JSON object: { scenario, episodes: [{ seed, sim_s, total, solver, narrowphase, physics_other, render,
// expert }] } with the times in CPU ms.
import { parseArgs } from "node:util";
import type * as CANNON from "cannon-es";
import { SceneCameras, SimEnv, createExpert, loadScenario } from "../src/sim/index.ts";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "1000,1001,1002" },
    scenario: { type: "string", default: "scenarios/bottle-cap.json" },
  },
});
const seeds = values.seeds.split(",").map(Number);
if (!seeds.every((s) => Number.isInteger(s) && s >= 0)) {
  throw new Error(`--seeds: expected integers ≥ 0 separated by commas, got ${values.seeds}`);
}
const scenario = loadScenario(values.scenario);
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** Wrap `obj[key]` (a method) so that its CPU time is added to `acc[into]`. */
function timed<T extends object>(obj: T, key: keyof T, acc: Record<string, number>, into: string): void {
  const f = obj[key] as (...a: unknown[]) => unknown;
  (obj as Record<keyof T, unknown>)[key] = (...a: unknown[]): unknown => {
    const t = cpuMs();
    const r = f.apply(obj, a);
    acc[into] = (acc[into] ?? 0) + cpuMs() - t;
    return r;
  };
}

const episodes = [];
for (const seed of seeds) {
  const acc: Record<string, number> = { solver: 0, narrowphase: 0, render: 0, expert: 0 };
  const rig = new SceneCameras(scenario.cameras);
  const env = new SimEnv(scenario, { cameras: rig });
  const expert = createExpert(env);
  env.reset(seed);
  expert.reset(seed);
  const world: CANNON.World = env.world.world;
  timed(world.solver, "solve", acc, "solver");
  timed(world.narrowphase, "getContacts", acc, "narrowphase");
  timed(rig, "render", acc, "render");
  timed(expert, "nextAction", acc, "expert");
  let steps = 0;
  const start = cpuMs();
  for (;;) {
    steps++;
    if (env.step(Float32Array.from(expert.nextAction())).done) break;
  }
  const total = cpuMs() - start;
  const round = (x: number | undefined): number => Math.round(x ?? 0);
  episodes.push({
    seed,
    sim_s: steps / scenario.control_hz,
    total: round(total),
    solver: round(acc["solver"]),
    narrowphase: round(acc["narrowphase"]),
    physics_other: round(total - acc["solver"]! - acc["narrowphase"]! - acc["render"]! - acc["expert"]!),
    render: round(acc["render"]),
    expert: round(acc["expert"]),
  });
  process.stderr.write(`${JSON.stringify(episodes.at(-1))}\n`);
}
process.stdout.write(JSON.stringify({ scenario: values.scenario, episodes }) + "\n");
