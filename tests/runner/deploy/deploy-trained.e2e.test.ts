// Issue 35's acceptance: `duet deploy --robot-interface robot-interfaces/<each shipped file> --policy
// models/bottle-cap-unet` resolves the shipped U-Net for the shipped interface as it is (its camera mapping feeds the
// model's front, left_wrist and right_wrist), and the deploy loop drives duet's simulator behind the protocol-faithful
// rosbridge test server (a real rosbridge cannot run in CI) with the interface's own safety settings: camera frames
// travel as CompressedImage messages, joint states as JointState, commands back as stamped JointTrajectory messages
// (ROS 1 and ROS 2 topics) or FollowJointTrajectory goals (ROS 2 action). The cap comes off as it does when the same
// policy runs on the same seed in direct simulation.
//
// What may differ from direct simulation, and is checked: the safety layer rate-limits targets to the robot's
// velocity limits (the U-Net asks the wrist for up to ≈3.5 rad/s, the Panda allows 2.61, and the simulated servo
// follows at its limit either way) and clamps gripper targets a few mm beyond the 0–4 cm opening (within the
// interface's tolerance). Nothing is rejected, nothing arrives late, every tick sends a command.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRobotInterface } from "../../../src/bridge/index.ts";
import { resolveDeployPolicy, trainedPolicy } from "../../../src/runner/deploy/index.ts";
import { runEpisode } from "../../../src/runner/rollout/index.ts";
import { createEnv } from "../../../src/sim/index.ts";
import { tempDir } from "../../data/fixtures.ts";
import { LockstepRig, TracedPolicy } from "./lockstep.ts";
import { LockstepClock } from "../../bridge/lockstep-clock.ts";
import { RosbridgeTestServer } from "../../bridge/rosbridge-server.ts";
import { SimBackedRobot } from "../../bridge/sim-backed-robot.ts";

const MODEL = "models/bottle-cap-unet";
const SEEDS = [1000003, 1000004];
const SHIPPED = ["panda-pair-ros1.json", "panda-pair-ros2.json", "panda-pair-ros2-action.json"];

let server: RosbridgeTestServer | undefined;
afterAll(async () => {
  await server?.kill();
  server = undefined;
});

/** The bottle-cap scenario with the robot description resolved (a copy in a temporary folder). */
function scenario(): string {
  const s = JSON.parse(readFileSync("scenarios/bottle-cap.json", "utf8")) as Record<string, unknown>;
  Object.assign(s, { robot: resolve("robots/panda-pair.json") });
  const file = join(tempDir("duet-deploy-trained-"), "bottle-cap.json");
  writeFileSync(file, JSON.stringify(s));
  return file;
}

const SCENARIO = scenario();
/** Direct simulation, once per seed: the reference outcome. */
const direct = new Map<number, Promise<{ success: boolean; steps: number }>>();
function directRun(seed: number): Promise<{ success: boolean; steps: number }> {
  let p = direct.get(seed);
  if (!p) {
    const env = createEnv(SCENARIO);
    p = runEpisode(env, trainedPolicy(MODEL, env), seed).then((o) => ({ success: o.success, steps: o.steps }));
    direct.set(seed, p);
  }
  return p;
}

describe("the shipped U-Net deployed through each shipped robot interface", () => {
  it.each(SHIPPED)(
    "%s: duet deploy --policy models/bottle-cap-unet unscrews the cap as in direct simulation",
    async (file) => {
      const ri = loadRobotInterface(resolve("robot-interfaces", file));
      const { policy, obsSteps, actionSteps } = await resolveDeployPolicy(MODEL, ri);
      expect([obsSteps, actionSteps]).toEqual([1, 1]);
      await server?.kill();
      const clock = new LockstepClock();
      // the interface's camera throttle_ms counts in the lockstep's virtual time, as it would in real time on a robot
      server = await RosbridgeTestServer.start({ rosVersion: ri.spec.ros_version, throttleClock: () => clock.now() });
      const robot = new SimBackedRobot(server, ri.spec, createEnv(SCENARIO), () => clock.wallSeconds());
      const traced = new TracedPolicy(policy);
      const rig = new LockstepRig({
        ri,
        server,
        robot,
        clock,
        cameras: true,
        ...(obsSteps !== undefined && { obsSteps }),
        ...(actionSteps !== undefined && { actionSteps }),
      });
      for (const seed of SEEDS) {
        const episode = await rig.runEpisode(traced, seed);
        const want = await directRun(seed);
        expect([seed, want.success]).toEqual([seed, true]);
        expect([seed, episode.success, episode.turns >= 1.5]).toEqual([seed, true, true]);
        // one command per control period, every one sent and applied; none rejected, none late
        expect(episode.ticksWithoutCommand).toBe(0);
        expect(episode.commandsSent).toBe(episode.steps);
        expect(Math.abs(episode.steps - want.steps)).toBeLessThanOrEqual(0.25 * want.steps);
        const lines = episode.logs.map((l) => l.line);
        expect(lines.filter((l) => /^(hold|rejected|stopped|disconnected)/.test(l))).toEqual([]);
        // only rate limiting (any slot) and gripper targets within the tolerance are changed
        for (const l of lines.filter((x) => x.startsWith("clamped: ")))
          for (const part of l
            .slice("clamped: ".length)
            .replace(/ \(\d+ commands clamped.*$/, "")
            .split("; "))
            expect(part).toMatch(/rate-limited to .* \(velocity limit\)$|^\w+_gripper .* within the tolerance/);
      }
      expect(robot.refused).toEqual([]);
      expect(robot.expired).toBe(0);
      expect(server.log).toEqual([]);
    },
    300_000,
  );
});
