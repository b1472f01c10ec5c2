// What a policy is trained on must be what it sees when it runs: a recorded frame t (state, every camera's image, the
// action) equals, bit for bit, the observation at control step t of a rollout with the same seed, and the action
// taken there. A one-step shift here would cost ≈ 1 cm of arm motion per step during the approach.
import { describe, expect, it } from "vitest";
import { Dataset } from "../../../src/data/index.ts";
import { recordEpisodes } from "../../../src/runner/record/index.ts";
import { runEpisode } from "../../../src/runner/rollout/index.ts";
import { createEnv, createExpert, type SimEnv } from "../../../src/sim/index.ts";
import { tempDir } from "../../data/fixtures.ts";

const SCENARIO = "scenarios/bottle-cap.json";

describe("recording vs rollout", () => {
  it("a recorded episode's frames are the observations and actions of a rollout with its seed", async () => {
    const out = tempDir("duet-align-");
    const seed = 10000;
    await recordEpisodes({
      makeEnv: () => createEnv(SCENARIO),
      makePolicy: (env) => createExpert(env as SimEnv),
      out,
      episodes: 1,
      seed,
    });
    const ds = await Dataset.open(out);
    const ep = await ds.episode(0);
    const cameras = ds.spec.cameras.map((c) => c.name);
    expect(cameras.length).toBe(3);

    const env = createEnv(SCENARIO);
    let steps = 0;
    let mismatches = 0;
    await runEpisode(env, createExpert(env), seed, {
      onStep: (t, obs, action) => {
        steps++;
        if (t >= ep.meta.length) return;
        const row = (a: Float32Array) => Array.from(a.subarray(t * 16, t * 16 + 16));
        if (JSON.stringify(Array.from(obs.state)) !== JSON.stringify(row(ep.state))) mismatches++;
        if (JSON.stringify(Array.from(action)) !== JSON.stringify(row(ep.action))) mismatches++;
        for (const c of cameras) {
          if (Buffer.compare(Buffer.from(obs.images[c]!.data), Buffer.from(ep.images[c]![t]!.data)) !== 0) mismatches++;
        }
      },
    });
    expect(steps).toBe(ep.meta.length);
    expect(mismatches).toBe(0);
  }, 60_000);
});
