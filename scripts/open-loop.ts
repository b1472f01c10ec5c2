// Open-loop check of a trained policy on recorded episodes: feed it the recording's own observations and compare
// the first action of each chunk with the recorded one. Prints per-joint RMS error (rad), and beside it the error
// of simply repeating the current state (a[t] = s[t]), the bar any useful policy must clear.
//
//   node --import tsx scripts/open-loop.ts MODEL_DIR [--dataset datasets/bottle-cap-expert] [--episodes 0,1,5,7]
//     [--images-from E] [--steps 120]
//
// --images-from E: take the camera frames from episode E instead (same time step). If the error barely grows, the
// policy is not looking: it reads the bottle's place off the arm's own motion. Prints one JSON object per episode.
import { parseArgs } from "node:util";
import type { Observation } from "../src/core/index.ts";
import { Dataset } from "../src/data/index.ts";
import { loadPolicy } from "../src/policy/index.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dataset: { type: "string", default: "datasets/bottle-cap-expert" },
    episodes: { type: "string", default: "0,1,5,7" },
    "images-from": { type: "string" },
    steps: { type: "string", default: "120" },
  },
});
const dir = positionals[0];
if (!dir) throw new Error("usage: scripts/open-loop.ts MODEL_DIR [--dataset DIR] [--episodes 0,1] [--images-from E]");
const episodeList = values.episodes.split(",").map(Number);
const imagesFromIndex = values["images-from"] === undefined ? null : Number(values["images-from"]);
for (const e of [...episodeList, ...(imagesFromIndex === null ? [] : [imagesFromIndex])]) {
  if (!Number.isInteger(e) || e < 0)
    throw new Error(`--episodes/--images-from: expected episode indices ≥ 0, got ${e}`);
}
const ds = await Dataset.open(values.dataset);
const policy = await loadPolicy(dir);
const cams = policy.model.cameras.map((c) => c.name);
const d = ds.spec.actionNames.length;
const maxSteps = Number(values.steps);
const imagesFrom = imagesFromIndex === null ? null : await ds.episode(imagesFromIndex);
const rms = (se: Float64Array, n: number): number[] => Array.from(se, (s) => Number(Math.sqrt(s / n).toFixed(4)));

for (const e of episodeList) {
  const ep = await ds.episode(e);
  const images = imagesFrom ?? ep;
  const T = Math.min(ep.meta.length, maxSteps);
  const obs = (k: number): Observation => ({
    time: k / ds.info.fps,
    state: ep.state.subarray(k * d, (k + 1) * d),
    images: Object.fromEntries(
      cams.map((c) => [c, images.images[c]?.[Math.min(k, images.meta.length - 1)] as Observation["images"][string]]),
    ),
  });
  const policyErr = new Float64Array(d);
  const holdErr = new Float64Array(d);
  let n = 0;
  for (let t = 1; t < T; t += 2) {
    policy.reset(t);
    const chunk = await policy.predictChunk([obs(t - 1), obs(t)]);
    for (let j = 0; j < d; j++) {
      const a = ep.action[t * d + j] as number;
      policyErr[j] = (policyErr[j] as number) + ((chunk.actions[j] as number) - a) ** 2;
      holdErr[j] = (holdErr[j] as number) + ((ep.state[t * d + j] as number) - a) ** 2;
    }
    n++;
  }
  process.stdout.write(
    `${JSON.stringify({ episode: e, images_from: values["images-from"] ?? e, frames: n, joints: ds.spec.actionNames, rms_policy: rms(policyErr, n), rms_hold_state: rms(holdErr, n) })}\n`,
  );
}
