// Recording with a lead policy (`duet record --lead-policy`): the lead drives the first k steps unrecorded, then the
// expert takes over from where the arms are; the dataset holds only the expert's part, which must still succeed.
import { describe, expect, it } from "vitest";
import { ACTION_DIM, type Observation, type Policy } from "../../../src/core/index.ts";
import { Dataset } from "../../../src/data/index.ts";
import { recordEpisodes } from "../../../src/runner/record/index.ts";
import { leadSteps, simSource } from "../../../src/runner/rollout/index.ts";
import { createEnv, createExpert, type SimEnv } from "../../../src/sim/index.ts";
import { tempDir } from "../../data/fixtures.ts";

const SCENARIO = "scenarios/bottle-cap.json";

/** Swings both shoulders 0.03 rad per step off the current state and half-closes the left gripper. */
const swing: Policy = {
  reset: () => {},
  predictChunk: async (history: readonly Observation[]) => {
    const a = Float32Array.from(history.at(-1)!.state);
    a[0] = a[0]! + 0.03;
    a[8] = a[8]! - 0.03;
    a[7] = 0.02;
    return { actions: a, horizon: 1, dim: ACTION_DIM };
  },
};

describe("record with a lead policy", () => {
  it("records only the expert's takeover, which starts where the lead left the arms and still unscrews the cap", async () => {
    const out = tempDir("duet-lead-");
    const seed = 10001;
    const k = 12;
    const result = await recordEpisodes({
      makeEnv: () => createEnv(SCENARIO, { cameras: false }),
      makePolicy: (env) => createExpert(env as SimEnv, { takeover: true }),
      makeLead: () => ({ policy: swing, steps: () => k }),
      out,
      episodes: 1,
      seed,
    });
    expect(result.recorded[0]!.success).toBe(true);
    const ep = await (await Dataset.open(out)).episode(0);
    // Frame 0 is the state after k lead steps: the left shoulder has swung, the left gripper has half closed.
    const env = createEnv(SCENARIO, { cameras: false });
    const home = env.reset(seed).state;
    expect(ep.state[0]! - home[0]!).toBeGreaterThan(0.1);
    expect(ep.state[7]!).toBeLessThan(home[7]! - 0.005);
    // The expert opened that gripper before anything else.
    expect(ep.action[7]!).toBeCloseTo(home[7]!, 5);
  }, 60_000);

  it("takes over mid-unscrewing without letting go of the bottle, and replays a lead that ends the episode", async () => {
    const seed = 10002;
    const record = async (k: number) => {
      const out = tempDir("duet-lead-");
      const result = await recordEpisodes({
        makeEnv: () => createEnv(SCENARIO, { cameras: false }),
        makePolicy: (env) => createExpert(env as SimEnv, { takeover: true }),
        // the scripted expert itself leads (holding with the right arm), so the takeover starts mid-task
        makeLead: (env) => ({ policy: createExpert(env as SimEnv, { mode: "right" }), steps: () => k }),
        out,
        episodes: 1,
        seed,
      });
      return { meta: result.recorded[0]!, ep: await (await Dataset.open(out)).episode(0) };
    };
    const full = (await record(0)).meta.length; // k = 0: the takeover expert's own episode
    // 70 steps in, the right hand holds the bottle and the left is twisting the cap: the takeover keeps both grips.
    const mid = await record(70);
    expect(mid.meta.success).toBe(true);
    expect(mid.meta.mode).toBe("right");
    const open = createEnv(SCENARIO, { cameras: false }).scenario.robotDescription.gripper.max_opening;
    expect(mid.ep.state[15]!).toBeLessThan(0.75 * open); // closed on the bottle
    for (let t = 0; t < mid.meta.length; t++) expect(mid.ep.action[t * ACTION_DIM + 15]!).toBe(0); // and kept closed
    // The left hand, closed on the cap, twists on before it opens (it used to open first and start over).
    expect(mid.ep.state[7]!).toBeLessThan(0.75 * open);
    for (let t = 0; t < 5; t++) expect(mid.ep.action[t * ACTION_DIM + 7]!).toBe(0);
    // A lead of 10 000 steps succeeds first; the episode is played again with the takeover halfway to that success.
    const late = await record(10_000);
    expect(late.meta.success).toBe(true);
    expect(late.meta.length).toBeLessThan(full - 40);
  }, 120_000);

  it("draws k per seed within the range (so every worker agrees) and checks the lead model up front", () => {
    const ks = Array.from({ length: 400 }, (_, seed) => leadSteps(seed, [5, 9]));
    expect(Math.min(...ks)).toBe(5);
    expect(Math.max(...ks)).toBe(9);
    expect(new Set(ks).size).toBe(5);
    expect(leadSteps(7, [3, 3])).toBe(3);
    const { makeLead } = simSource({ scenario: SCENARIO, lead: { policy: "no/such/model", steps: [5, 9] } });
    expect(() => makeLead(createEnv(SCENARIO, { cameras: false }))).toThrow(/no\/such\/model/);
  });
});
