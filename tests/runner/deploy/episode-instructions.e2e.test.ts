// A language-conditioned policy's instructions on a robot (src/runner/deploy/episode-instructions.ts), end to end:
// the deploy loop and the real bridge against the rosbridge test server, with an operator publishing std_msgs/String
// messages on the interface's instruction topic from another connection. The policy holds the measured pose and
// records the instruction on the observations it is given; its `language` is models/multi-task-unet's, so a message
// is checked against that model's text encoder (at most 62 bytes).
import { afterEach, describe, expect, it } from "vitest";
import type { ActionChunk, Observation, Policy } from "../../../src/core/index.ts";
import { loadRobotInterface } from "../../../src/bridge/index.ts";
import { HoldPolicy, resolveDeployPolicy, type DeployLanguage } from "../../../src/runner/deploy/index.ts";
import { sleep, waitFor } from "../../bridge/wait.ts";
import { startHarness, type Harness } from "./harness.ts";
import { connectOperator, type Operator } from "./operator.ts";

const TOPIC = "/duet/instruction";
const LEFT = "hold the bottle in your left hand and unscrew the cap";
const RIGHT = "hold the bottle in your right hand and unscrew the cap";

let h: Harness | undefined;
let operator: Operator | undefined;
afterEach(async () => {
  operator?.close();
  operator = undefined;
  await h?.close();
  h = undefined;
});

/** Holds the measured pose; keeps the instruction of every observation it plans from, and the seeds it was reset with. */
class ListeningPolicy implements Policy {
  readonly heard: (string | undefined)[] = [];
  readonly resets: number[] = [];
  private readonly hold = new HoldPolicy();
  reset(seed: number): void {
    this.resets.push(seed);
    this.hold.reset();
  }
  predictChunk(history: readonly Observation[]): Promise<ActionChunk> {
    this.heard.push(history.at(-1)?.instruction);
    return this.hold.predictChunk(history);
  }
}

/** models/multi-task-unet's instructions through the shipped ROS 2 interface (its instruction topic, no --instruction). */
async function multiTaskLanguage(): Promise<DeployLanguage> {
  const ri = loadRobotInterface("robot-interfaces/panda-pair-ros2.json");
  const { language } = await resolveDeployPolicy("models/multi-task-unet", ri);
  expect(language && { first: language.first, topic: language.topic }).toEqual({ first: undefined, topic: TOPIC });
  return language as DeployLanguage;
}

describe("instructions through the interface's instruction topic", () => {
  it("waits without moving for the first; a later one applies from the next episode (operator stop, resume)", async () => {
    const policy = new ListeningPolicy();
    h = await startHarness(policy, { language: await multiTaskLanguage(), actionSteps: 1 });
    const hh = h;
    const lines = (): string[] => hh.logs.map((l) => l.line);
    const waiting =
      "starting: waiting for an instruction on /duet/instruction (std_msgs/String): the policy is language-conditioned " +
      "and does not move without one";
    await waitFor("the loop waiting for an instruction", () => lines().includes(waiting));
    operator = await connectOperator(h.server, TOPIC);

    // too long for the model's text encoder: said once, ignored, still nothing sent
    await operator.say(`${LEFT}, very gently`); // 66 bytes
    await waitFor("the refusal", () => lines().some((l) => l.startsWith("instruction ignored")));
    expect(lines().filter((l) => l.startsWith("instruction ignored"))).toEqual([
      'instruction ignored (still waiting for one): /duet/instruction: instruction "hold the bottle in your left hand ' +
        'and..." is 66 UTF-8 bytes; the text encoder takes at most 62 (maxTokens 64, BOS and EOS included): the limit ' +
        "of models/multi-task-unet's text encoder, fixed by its training (config.language.maxTokens); shorten the " +
        "instruction, or retrain with a larger policy.language.maxTokens (the default, 130, takes 128 bytes)",
    ]);
    await sleep(200); // 4 control periods
    expect([h.controller.status.state, h.commands().length, policy.heard]).toEqual(["starting", 0, []]);

    // the first instruction starts the first episode
    await operator.say(LEFT);
    await waitFor("commands", () => hh.commands().length >= 10);
    expect(lines()).toContain(`episode 1: instruction "${LEFT}" (from /duet/instruction)`);

    // a second one mid-episode is the next episode's; the episode in progress keeps its own; a repeat changes nothing
    await operator.say(RIGHT);
    const next = `instruction from /duet/instruction for the next episode: "${RIGHT}"`;
    await waitFor("the next episode's instruction", () => lines().some((l) => l.startsWith(next)));
    const planned = policy.heard.length;
    await waitFor("10 more plans", () => policy.heard.length >= planned + 10);
    h.controller.stop("operator stop (test)");
    await operator.say(RIGHT);
    await sleep(200);
    expect(h.controller.status.state).toBe("stopped");
    expect(new Set(policy.heard)).toEqual(new Set([LEFT]));
    expect(lines().filter((l) => l.startsWith(next))).toHaveLength(1);

    // the resume starts episode 2 with it, and resets the policy (start seed 0, then 1)
    const before = policy.heard.length;
    h.controller.resume();
    await waitFor("plans of episode 2", () => policy.heard.length >= before + 5);
    expect(new Set(policy.heard.slice(before))).toEqual(new Set([RIGHT]));
    expect(policy.resets).toEqual([0, 1]);
    expect(lines()).toContain(`episode 2: instruction "${RIGHT}"`);
    expect(h.server.log).toEqual([]);
  });
});
