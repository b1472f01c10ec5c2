// Issue 38, item 5: a language-conditioned policy on "real arms" does what its instruction names. `duet deploy
// --policy models/multi-task-unet` through the shipped ROS 2 interface drives duet's simulator (scenarios/multi-task.json)
// behind the rosbridge test server, in lockstep (./lockstep.ts), and is told which hand holds the bottle in the
// scenario's own phrasings, which the model follows in direct simulation (models/multi-task-unet/README.md):
//   - through the instruction topic: an operator's client publishes the instruction (std_msgs/String) through the
//     server; duet waits without moving until it arrives, and the simulator behind the server hears it as well (the
//     cell's episode manager, ../../bridge/sim-backed-robot.ts) and asks and scores that task;
//   - through `--instruction` (the first episode's), with a message on the topic mid-episode naming the other hand:
//     the episode keeps the flag's instruction (the message is the next episode's).
// Each episode stops once the hold is decided: the first step at which an arm has grasped the bottle (the weld locks;
// `info.holder`), ≈ 31–35 control steps (3.1–3.5 s at 10 Hz) in direct simulation of these seeds, and the
// same through the bridge (asserted below). Fixed seeds; the policy is reset with the seed, so each episode is the same
// on every run.
import { writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { loadRobotInterface } from "../../../src/bridge/index.ts";
import type { StepResult } from "../../../src/core/index.ts";
import { resolveDeployPolicy } from "../../../src/runner/deploy/index.ts";
import { createEnv } from "../../../src/sim/index.ts";
import { LockstepClock } from "../../bridge/lockstep-clock.ts";
import { RosbridgeTestServer } from "../../bridge/rosbridge-server.ts";
import { SimBackedRobot } from "../../bridge/sim-backed-robot.ts";
import { LockstepRig, TracedPolicy, type BridgeEpisode } from "./lockstep.ts";
import { connectOperator, type Operator } from "./operator.ts";

const MODEL = "models/multi-task-unet";
const SCENARIO = "scenarios/multi-task.json";
const TOPIC = "/duet/instruction";
const SAY = {
  left: "hold the bottle in your left hand and unscrew the cap",
  right: "hold the bottle in your right hand and unscrew the cap",
};
const SEED = 1;
/** The hold is decided: an arm holds the bottle. */
const holdDecided = (r: StepResult): boolean => r.info.holder !== "none";

let server: RosbridgeTestServer | undefined;
let operator: Operator | undefined;
afterAll(async () => {
  operator?.close();
  await server?.kill();
});

describe("duet deploy --policy models/multi-task-unet: the named hand holds the bottle", () => {
  it("told through the instruction topic (left, then right) and through --instruction (right)", async () => {
    const ri = loadRobotInterface("robot-interfaces/panda-pair-ros2.json");
    expect(ri.spec.instruction_topic).toEqual({ topic: TOPIC });
    const clock = new LockstepClock();
    server = await RosbridgeTestServer.start({ rosVersion: 2, throttleClock: () => clock.now() });
    const envs = new Map<string, ReturnType<typeof createEnv>>();
    const envFor = (instruction: string): ReturnType<typeof createEnv> => {
      const env = envs.get(instruction) ?? createEnv(SCENARIO, { instruction });
      envs.set(instruction, env);
      return env;
    };
    // before any instruction the sim asks the task the scenario draws for the seed; then the last one it heard
    const robot = new SimBackedRobot(server, ri.spec, createEnv(SCENARIO), () => clock.wallSeconds());
    robot.hearInstructions(TOPIC, envFor);
    const rig = new LockstepRig({ ri, server, robot, clock, cameras: true, obsSteps: 1, actionSteps: 1 });
    operator = await connectOperator(server, TOPIC);
    const op = operator;
    const logs = (e: BridgeEpisode): string[] => e.logs.map((l) => l.line);

    // through the topic: each a fresh `duet deploy` without --instruction, told once it is connected
    const viaTopic: Record<string, BridgeEpisode> = {};
    for (const hand of ["left", "right"] as const) {
      const { policy, language } = await resolveDeployPolicy(MODEL, ri);
      expect(language?.first).toBeUndefined();
      viaTopic[hand] = await rig.runEpisode(new TracedPolicy(policy), SEED, {
        ...(language && { language }),
        afterConnect: () => op.say(SAY[hand]),
        until: holdDecided,
      });
    }
    expect(robot.instructions).toEqual([SAY.left, SAY.right]);
    for (const hand of ["left", "right"] as const) {
      const e = viaTopic[hand] as BridgeEpisode;
      expect([hand, e.instruction, e.namedHand, e.holder]).toEqual([hand, SAY[hand], hand, hand]);
      expect(logs(e)).toContain(`episode 1: instruction "${SAY[hand]}" (from ${TOPIC})`);
      expect(e.steps).toBeGreaterThanOrEqual(25);
      expect(e.steps).toBeLessThanOrEqual(45);
      expect(e.ticksWithoutCommand).toBe(0);
    }

    // --instruction: the first episode's; the operator's message during it names the other hand, and waits. (The sim
    // is still set up for the last instruction it heard, the right-hand one: the flag's.)
    const { policy, language } = await resolveDeployPolicy(MODEL, ri, { instruction: SAY.right });
    expect(language?.first).toBe(SAY.right);
    let toldLeft = false;
    const flag = await rig.runEpisode(new TracedPolicy(policy), SEED, {
      ...(language && { language }),
      until: (r) => {
        if (!toldLeft && Number(r.info.step) === 5) {
          toldLeft = true;
          void op.say(SAY.left);
        }
        return holdDecided(r);
      },
    });
    expect(toldLeft).toBe(true);
    // the sim, already commanded, also keeps its episode's task: it ran (and scored) the right-hand one
    expect([flag.instruction, flag.namedHand, flag.holder]).toEqual([SAY.right, "right", "right"]);
    expect(logs(flag)).toContain(`episode 1: instruction "${SAY.right}"`);
    expect(logs(flag).some((l) => l.startsWith(`instruction from ${TOPIC} for the next episode: "${SAY.left}"`))).toBe(
      true,
    );
    expect(server.log).toEqual([]);
    expect([robot.refused, robot.expired]).toEqual([[], 0]);
    const report = process.env.DUET_LANGUAGE_E2E_REPORT; // optional: where to write the measured numbers (JSON)
    if (report) {
      const row = (e: BridgeEpisode): Record<string, unknown> => ({ holder: e.holder, steps: e.steps, wallS: e.wallS });
      writeFileSync(
        report,
        JSON.stringify({ left: row(viaTopic.left!), right: row(viaTopic.right!), flag: row(flag) }),
      );
    }
  }, 300_000);
});
