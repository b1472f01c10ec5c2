// Simulator benchmark: physics rate, real-time factor with all cameras (by the wall clock, and by this process's CPU
// time, which other work on a shared machine moves less), the split of an episode's time between physics, rendering
// and the expert (its IK), render cost, expert episode wall time, and the speed-up of 2 worker threads over 1.
// Usage: npm run bench -- sim [episodes=4]
import { loadavg } from "node:os";
import { SceneCameras, SimEnv, createExpert, loadScenario } from "../src/sim/index.ts";
import { runEpisodes } from "../src/runner/rollout/index.ts";
import { median } from "./median.ts";

const SCENARIO = "scenarios/bottle-cap.json";

/** One expert episode, timing physics (env.step without cameras) or everything (with cameras). */
function episode(seed: number, cameras: boolean) {
  const scenario = loadScenario(SCENARIO);
  const rig = cameras ? new SceneCameras(scenario.cameras) : null;
  let renderMs = 0;
  let frames = 0;
  const env = new SimEnv(
    scenario,
    rig
      ? {
          cameras: {
            names: rig.names,
            render: (w) => {
              const t = performance.now();
              const out = rig.render(w);
              renderMs += performance.now() - t;
              frames += rig.names.length;
              return out;
            },
          },
        }
      : {},
  );
  const expert = createExpert(env);
  env.reset(seed);
  expert.reset(seed);
  let stepMs = 0;
  let expertMs = 0;
  let steps = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (;;) {
    const e = performance.now();
    const action = Float32Array.from(expert.nextAction());
    const t = performance.now();
    expertMs += t - e;
    const r = env.step(action);
    stepMs += performance.now() - t;
    steps++;
    if (r.done) break;
  }
  const wall = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const substeps = scenario.physics_hz / scenario.control_hz;
  return {
    wall,
    cpu: (used.user + used.system) / 1e6,
    simSeconds: steps / scenario.control_hz,
    /** Shares of the episode's wall time: physics (env.step less rendering), rendering, the expert's nextAction. */
    split: {
      physics: (stepMs - renderMs) / 1000 / wall,
      render: renderMs / 1000 / wall,
      expert: expertMs / 1000 / wall,
    },
    physicsStepsPerS: (steps * substeps) / ((stepMs - renderMs) / 1000),
    renderMsPerFrame: frames ? renderMs / frames : 0,
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const n = Number(args[0] ?? 4);
  const physics: number[] = [];
  const rtf: number[] = [];
  const rtfCpu: number[] = [];
  const split = { physics: [] as number[], render: [] as number[], expert: [] as number[] };
  const render: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < n; i++) {
    const bare = episode(1000 + i, false);
    physics.push(bare.physicsStepsPerS);
    const full = episode(1000 + i, true);
    rtf.push(full.simSeconds / full.wall);
    rtfCpu.push(full.simSeconds / full.cpu);
    for (const part of ["physics", "render", "expert"] as const) split[part].push(full.split[part]);
    render.push(full.renderMsPerFrame);
    wall.push(full.wall);
    process.stderr.write(
      `episode ${i + 1}/${n}: ${bare.physicsStepsPerS.toFixed(0)} physics steps/s, RTF ${(full.simSeconds / full.wall).toFixed(1)} ` +
        `with cameras (${(full.simSeconds / full.cpu).toFixed(1)} by CPU time)\n`,
    );
  }
  // workers: the same seeds with 1 and 2 threads, alternating, cameras on; worker start-up (loading the bundled modules
  // and a first episode on cold code: ≈0.8 s of CPU per worker, src/runner/rollout/worker-bundle.ts) is included, as a
  // user pays it
  const seeds = Array.from({ length: 8 }, (_, i) => 2000 + i);
  const job = { scenario: SCENARIO, policy: "expert", cameras: true };
  const ratios: number[] = [];
  for (let round = 0; round < 2; round++) {
    let t = performance.now();
    await runEpisodes(job, seeds, { workers: 1 });
    const one = performance.now() - t;
    t = performance.now();
    await runEpisodes(job, seeds, { workers: 2 });
    const two = performance.now() - t;
    ratios.push(one / two);
    process.stderr.write(
      `workers round ${round + 1}: 1 → ${(one / 1000).toFixed(1)} s, 2 → ${(two / 1000).toFixed(1)} s\n`,
    );
  }
  return {
    physics_steps_per_s: Math.round(median(physics)),
    real_time_factor: Number(median(rtf).toFixed(2)),
    real_time_factor_cpu: Number(median(rtfCpu).toFixed(2)),
    split: Object.fromEntries(Object.entries(split).map(([k, v]) => [k, Number(median(v).toFixed(3))])),
    render_ms_96: Number(median(render).toFixed(3)),
    episode_wall_s: Number(median(wall).toFixed(2)),
    workers_speedup: Number(median(ratios).toFixed(2)),
    episodes: n,
    loadavg_1m: loadavg()[0],
  };
}
