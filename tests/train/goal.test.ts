// Goal-conditioned policies (policy.goal): the goal picture (in training, the episode's last frame) picks between
// demonstrations the observations cannot tell apart; a missing or mis-sized goal is refused before anything moves.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encodePng, type CameraFrame, type Observation } from "../../src/core/index.ts";
import { loadPolicy } from "../../src/policy/index.ts";
import { train, trainConfigSchema } from "../../src/train/index.ts";
import { sim } from "../../src/cli/sim.ts";
import { prepareJob } from "../../src/runner/rollout/index.ts";
import {
  CAM,
  actionAt,
  observation,
  oneEpisodeConfig,
  simArgs,
  tempDir,
  tinyCameraScenario,
  tinyEncoder,
  writeTinyDataset,
} from "../policy/fixtures.ts";

const T = 16;
const flat = (v: number): CameraFrame => ({ width: CAM, height: CAM, data: new Uint8Array(CAM * CAM * 3).fill(v) });
const GOALS = [flat(255), flat(0)];

/** Two episodes with the same observations and opposite actions; only their last frames (the goals) differ. */
const twoGoals = {
  observation: (e: number, t: number): Observation =>
    t === T - 1 ? { ...observation(0, t), images: { front: GOALS[e]! } } : observation(0, t),
  action: (e: number, t: number, j: number) => (e === 0 ? 1 : -1) * actionAt(0, t, j),
};

const config = (train: object) =>
  trainConfigSchema.parse(
    oneEpisodeConfig(
      {
        encoder: tinyEncoder(),
        goal: { camera: "front" },
        scheduler: { prediction: "sample" },
      },
      train,
    ),
  );

let dataset = "";
let model = "";
beforeAll(async () => {
  dataset = await writeTinyDataset(2, T, tempDir("duet-goal-"), twoGoals);
  model = tempDir("duet-goal-model-");
  await train({ dataset, config: config({ steps: 300 }), out: model });
}, 300_000);

describe("goal-conditioned policy", () => {
  it("reaches for the goal it is shown: the same observations give each goal's own demonstration", async () => {
    const policy = await loadPolicy(model);
    for (const [goal, sign] of [
      [GOALS[0]!, 1],
      [GOALS[1]!, -1],
    ] as const) {
      const errors: number[] = [];
      for (const t of [2, 5]) {
        policy.reset(t);
        const chunk = await policy.predictChunk([
          { ...observation(0, t - 1), goal },
          { ...observation(0, t), goal },
        ]);
        for (let k = 0; k < 10; k++)
          for (let j = 0; j < 16; j++) errors.push(Math.abs(chunk.actions[k * 16 + j]! - sign * actionAt(0, t + k, j)));
      }
      // the two demonstrations are up to 1.0 apart; averaging them would be off by about 0.3 on average
      expect(errors.reduce((a, e) => a + e, 0) / errors.length).toBeLessThan(0.05);
    }
  });

  it("refuses an observation without a goal picture or with one of another size", async () => {
    const policy = await loadPolicy(model);
    await expect(policy.predictChunk([observation(0, 5)])).rejects.toThrow(
      /carries no goal picture, and this policy is goal-conditioned \(config\.goal\): give it a 8x8 frame of camera "front"/,
    );
    const big = { width: 16, height: 16, data: new Uint8Array(16 * 16 * 3) };
    await expect(policy.predictChunk([{ ...observation(0, 5), goal: big }])).rejects.toThrow(
      /the goal picture is 16x16 \(768 bytes\), expected a 8x8 RGB frame of camera "front"/,
    );
  });

  it("refuses a goal camera the policy does not look through", async () => {
    const bad = trainConfigSchema.parse(oneEpisodeConfig({ encoder: tinyEncoder(), goal: { camera: "wrist" } }, {}));
    await expect(train({ dataset, config: bad, out: tempDir("duet-goal-bad-") })).rejects.toThrow(
      /policy\.goal\.camera: "wrist" is not one of the policy's cameras \(front\)/,
    );
  });

  it("duet sim shows each episode the expert's last frame as its goal, or the --goal PNG", async () => {
    // the bottle-cap scenario with one 8×8 "front" camera (the tiny policy's) and a 2 s limit
    const dir = tempDir("duet-goal-scenario-");
    const file = tinyCameraScenario("scenarios/bottle-cap.json", dir);
    const job = { scenario: file, policy: model, cameras: true };
    expect((await prepareJob(job)(0)).steps).toBe(20);
    const png = join(dir, "goal.png");
    writeFileSync(png, encodePng(flat(255)));
    expect((await prepareJob({ ...job, goal: png })(0)).steps).toBe(20);
    writeFileSync(png, encodePng({ width: 4, height: 4, data: new Uint8Array(48) }));
    await expect(prepareJob({ ...job, goal: png })(0)).rejects.toThrow(
      /the goal picture is 4x4 \(48 bytes\), expected a 8x8 RGB frame/,
    );
  });

  it("duet sim --goal refuses a policy trained without goals", async () => {
    const plain = tempDir("duet-plain-");
    await train({ dataset, config: trainConfigSchema.parse(oneEpisodeConfig({}, { steps: 2 })), out: plain });
    await expect(sim(simArgs({ policy: plain, goal: "docs/sim.png" }))).rejects.toThrow(
      /--goal: .* does not read goal pictures/,
    );
  });
});
