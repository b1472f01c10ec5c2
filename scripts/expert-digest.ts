// Fingerprints of the scripted expert's episodes, to show that a change to the simulator (a faster solver, renderer
// or IK) leaves every episode bit-identical: per seed the outcome (success, steps, turns, holder) and the SHA-256 of
// its whole trajectory (every step's joint state and all body poses, as float32; with --cameras every camera frame
// too), then one digest over all seeds. Run it before and after a change and compare the last lines.
//
//   node --import tsx scripts/expert-digest.ts [--seed 0] [--episodes 100] [--cameras]
//     [--scenario scenarios/bottle-cap.json]
//
// Prints one JSON line per seed on stderr, then one JSON object on stdout:
// { scenario, seeds, cameras, successes, digest, episodes: [{ seed, success, steps, turns, holder, sha256 }] }.
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { createEnv, createExpert } from "../src/sim/index.ts";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "0" },
    episodes: { type: "string", default: "100" },
    cameras: { type: "boolean", default: false },
    scenario: { type: "string", default: "scenarios/bottle-cap.json" },
  },
});
const seed0 = Number(values.seed);
const episodes = Number(values.episodes);
if (!(Number.isInteger(seed0) && seed0 >= 0)) throw new Error(`--seed: expected an integer ≥ 0, got ${values.seed}`);
if (!(Number.isInteger(episodes) && episodes >= 1)) {
  throw new Error(`--episodes: expected an integer ≥ 1, got ${values.episodes}`);
}

const bytes = (a: Float32Array | Uint8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const env = createEnv(values.scenario, { cameras: values.cameras });
const expert = createExpert(env);
const all = createHash("sha256");
const rows = [];
for (let seed = seed0; seed < seed0 + episodes; seed++) {
  const hash = createHash("sha256");
  let obs = env.reset(seed);
  expert.reset(seed);
  let steps = 0;
  for (;;) {
    hash.update(bytes(obs.state)).update(bytes(env.world.bodyPoses()));
    for (const name of env.cameras) hash.update(bytes(obs.images[name]!.data));
    const r = env.step(Float32Array.from(expert.nextAction()));
    obs = r.observation;
    steps++;
    if (!r.done) continue;
    hash.update(bytes(obs.state)).update(bytes(env.world.bodyPoses()));
    for (const name of env.cameras) hash.update(bytes(obs.images[name]!.data));
    const row = {
      seed,
      success: r.success,
      steps,
      turns: r.info.turns,
      holder: r.info.holder,
      sha256: hash.digest("hex"),
    };
    all.update(JSON.stringify(row));
    rows.push(row);
    process.stderr.write(`${JSON.stringify(row)}\n`);
    break;
  }
}
process.stdout.write(
  JSON.stringify({
    scenario: values.scenario,
    seeds: `${seed0}-${seed0 + episodes - 1}`,
    cameras: values.cameras,
    successes: rows.filter((r) => r.success).length,
    digest: all.digest("hex"),
    episodes: rows,
  }) + "\n",
);
