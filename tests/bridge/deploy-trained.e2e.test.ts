// A trained policy deployed through rosbridge: `duet deploy --policy models/bottle-cap-unet` resolves the shipped
// U-Net for the robot interface (its cameras, image size and control rate), and the deploy loop drives duet's
// simulator behind the protocol-faithful rosbridge test server (a real rosbridge cannot run here) with it: camera
// frames travel as PNG CompressedImage messages, joint states as JointState, commands back as JointTrajectory. The
// same policy on the same seed in direct simulation issues the same commands: one runtime for sim and robot.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadRobotInterface } from "../../src/bridge/index.ts";
import { resolveDeployPolicy } from "../../src/cli/deployPolicy.ts";
import { runEpisode } from "../../src/runner/rollout.ts";
import { trainedPolicy } from "../../src/runner/simJob.ts";
import { createEnv } from "../../src/sim/index.ts";
import { tempDir } from "../data/fixtures.ts";
import { LockstepRig, TracedPolicy } from "./lockstep.ts";
import { LockstepClock } from "./lockstepClock.ts";
import { RosbridgeTestServer } from "./rosbridgeServer.ts";
import { SimBackedRobot } from "./simBackedRobot.ts";

const MODEL = "models/bottle-cap-unet";
const SEED = 1000003;

let server: RosbridgeTestServer | undefined;
afterEach(async () => {
  await server?.kill();
  server = undefined;
});

/** The bottle-cap scenario cut to 3 s (30 control steps, a chunk each: Ta = 1, blended with the previous plan). */
function shortScenario(): string {
  const s = JSON.parse(readFileSync("scenarios/bottle-cap.json", "utf8")) as Record<string, unknown>;
  Object.assign(s, { robot: resolve("robots/panda-pair.json"), time_limit_s: 3 });
  const file = join(tempDir("duet-deploy-trained-"), "short.json");
  writeFileSync(file, JSON.stringify(s));
  return file;
}

describe("a trained policy through the bridge", () => {
  it("the shipped U-Net commands through rosbridge what it commands in direct simulation", async () => {
    const scenario = shortScenario();
    const env = createEnv(scenario);
    const direct: Float32Array[] = [];
    await runEpisode(env, trainedPolicy(MODEL, env), SEED, { onStep: (_k, _o, a) => direct.push(a.slice()) });

    const ri = loadRobotInterface(resolve("tests/bridge/sim-panda-pair.json"));
    const { policy, obsSteps, actionSteps } = await resolveDeployPolicy(MODEL, ri);
    expect([obsSteps, actionSteps]).toEqual([1, 1]);
    server = await RosbridgeTestServer.start({ rosVersion: 2 });
    const robot = new SimBackedRobot(server, ri.spec, createEnv(scenario));
    const traced = new TracedPolicy(policy);
    const rig = new LockstepRig({
      ri,
      server,
      robot,
      clock: new LockstepClock(),
      cameras: true,
      ...(obsSteps !== undefined && { obsSteps }),
      ...(actionSteps !== undefined && { actionSteps }),
    });
    const episode = await rig.runEpisode(traced, SEED);

    expect(episode.steps).toBe(direct.length);
    expect(episode.commandsSent).toBe(direct.length);
    // What the robot applied, step by step, against the direct run's actions: the arms' targets are the same; the
    // grippers' differ only where the safety layer clamped them into their limits less the margin (the policy asks
    // for the fully open 0.04 m plus a little; this interface clamps instead of rejecting).
    const worst = (slots: number[]): number =>
      Math.max(...direct.flatMap((a, k) => slots.map((i) => Math.abs(a[i]! - robot.applied[k]![i]!))));
    const arms = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14];
    expect(worst(arms)).toBeLessThan(1e-5);
    expect(worst([7, 15])).toBeLessThanOrEqual(ri.spec.safety.limit_margin_rad);
    expect(Object.keys(episode.clampedSlots).every((n) => n.endsWith("_gripper"))).toBe(true);
  }, 120_000);
});
