// `duet deploy`: run a policy on real arms through rosbridge, behind the safety layer, with a live status line.
// Keys: s or space = operator stop, r = resume (ramps from the measured pose), q or Ctrl-C = quit.
import type { Command } from "commander";
import { ARMS, DuetError } from "../core/index.ts";
import {
  SafetyLayer,
  createClock,
  createRosBridge,
  isStamped,
  loadRobotInterface,
  slotLimits,
  type RobotInterface,
} from "../bridge/index.ts";
import { DeployController, policyHelp, resolveDeployPolicy, type DeployStatus } from "../runner/deploy/index.ts";
import { documented } from "./help.ts";
import { intArg } from "./args.ts";

interface DeployArgs {
  robotInterface: string;
  policy: string;
  url: string;
  dryRun?: boolean;
  actionSteps?: number;
  allowUnfinished?: boolean;
  instruction?: string;
}

/**
 * The interface fields whose commands carry no stamp (`position_controller`: std_msgs/Float64MultiArray), for the
 * warning at start: for those, nothing on the robot can tell a late command from a fresh one.
 */
export function unstampedFields(spec: RobotInterface): string[] {
  return ARMS.flatMap((arm) =>
    (["command", "gripper_command"] as const)
      .filter((key) => !isStamped(spec.arms[arm][key]))
      .map((key) => `arms.${arm}.${key}`),
  );
}

function formatMs(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(1)}ms` : "–";
}

/** One status line: state, rates, latency, input ages, safety counters. */
export function statusLine(s: DeployStatus, cmdRateHz: number): string {
  return (
    `${s.state.padEnd(12)} epoch ${s.epoch} | cmd ${cmdRateHz.toFixed(1)} Hz | obs→cmd p50 ${formatMs(s.latencyMsMedian)} p95 ${formatMs(s.latencyMsP95)}` +
    ` | age joints ${formatMs(s.jointAgeMs)} cam ${formatMs(s.cameraAgeMs)} | sent ${s.commandsSent}${s.commandsLogged ? ` dry ${s.commandsLogged}` : ""}` +
    ` | rejected ${s.rejected} clamped ${s.clamped} discarded ${s.discarded}${s.state === "running" ? "" : ` | ${s.reason}`}`
  );
}

function parseUrl(url: string): string {
  if (!/^wss?:\/\/[^/\s]+(:\d+)?(\/.*)?$/.test(url))
    throw new DuetError(`--url: expected ws://HOST:PORT (e.g. ws://robot:9090), received "${url}"`);
  return url;
}

export async function deploy(args: DeployArgs): Promise<void> {
  const url = parseUrl(args.url);
  const ri = loadRobotInterface(args.robotInterface);
  // refused here, before connecting: a policy that cannot run through the interface, or a language-conditioned one
  // without an instruction (neither --instruction nor instruction_topic), or --instruction for one that reads none
  const { policy, ...settings } = await resolveDeployPolicy(args.policy, ri, {
    ...(args.actionSteps !== undefined && { actionSteps: args.actionSteps }),
    ...(args.allowUnfinished === true && { allowUnfinished: true }),
    ...(args.instruction !== undefined && { instruction: args.instruction }),
  });
  const clock = createClock();
  const bridge = createRosBridge(ri.spec, url, clock);
  const safety = new SafetyLayer(slotLimits(ri.robot), ri.spec.safety, ri.spec.control_hz);
  const tty = process.stderr.isTTY;
  const print = (line: string): void => {
    process.stderr.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  };
  bridge.on("log", print);
  const controller = new DeployController({
    policy,
    ...settings,
    bridge,
    safety,
    clock,
    watchdogMs: ri.spec.safety.watchdog_ms,
    maxCommandAgeMs: ri.spec.max_age_ms.joint_states,
    dryRun: args.dryRun ?? false,
    log: print,
  });
  let lastSent = 0;
  let lastAt = clock.now();
  let rate = 0;
  controller.onStatus((s) => {
    const now = clock.now();
    if (now - lastAt >= 1000) {
      rate = ((s.commandsSent + s.commandsLogged - lastSent) * 1000) / (now - lastAt);
      lastSent = s.commandsSent + s.commandsLogged;
      lastAt = now;
    }
    if (tty) process.stderr.write(`\r\x1b[2K${statusLine(s, rate)}`);
  });
  print(
    `deploy ${args.policy} → ${url} (${ri.spec.name}, ${ri.spec.control_hz} Hz${args.dryRun ? ", DRY RUN: nothing is published" : ""}); keys: s/space stop, r resume, q quit`,
  );
  const instructionTopic = ri.spec.instruction_topic?.topic;
  if (instructionTopic !== undefined && settings.language === undefined)
    print(
      `${ri.file}: instruction_topic ${instructionTopic} is not read: ${args.policy} reads no instruction (only a ` +
        "language-conditioned model does)",
    );
  const unstamped = unstampedFields(ri.spec);
  if (unstamped.length > 0)
    print(
      `warning: ${unstamped.join(", ")} send std_msgs/Float64MultiArray, which carries no stamp: a command held up ` +
        "in rosbridge or the network takes effect whenever it arrives. duet sends only while a joint state arrived " +
        "within the last control period; use joint_trajectory (stamped) to have late commands dropped by the robot",
    );
  // No rosbridge at the URL: keep retrying, with a failure line that says what was refused and how to stop (the link
  // logs the first at once, then one per 5 s), rather than give up after connect_timeout_ms. A robot whose rosbridge
  // comes up after duet is started is normal (a launch file, a robot still booting), and a connection that was never
  // made and one that dropped are the same case to the link: both recover on their own when the server answers.
  let connected = false;
  bridge.on("up", () => (connected = true));
  await new Promise<void>((done) => {
    const quit = (how: string): void => {
      controller.close(
        connected ? `quit (${how})` : `quit (${how}); never connected to ${url}, so nothing was sent to the robot`,
      );
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      print(statusLine(controller.status, rate));
      done();
    };
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on("data", (buf: Buffer) => {
        const key = buf.toString();
        if (key === "s" || key === " ") controller.stop("operator stop (keyboard)");
        else if (key === "r") controller.resume();
        else if (key === "q") quit("q");
        else if (key === "\u0003") quit("Ctrl-C");
      });
    }
    process.once("SIGINT", () => quit("SIGINT"));
    process.once("SIGTERM", () => quit("SIGTERM"));
    controller.start();
  });
}

export function registerDeploy(program: Command): void {
  documented(program.command("deploy"), {
    summary: "Run a policy on real arms through rosbridge, behind the safety layer",
    details:
      "Reads joint states and cameras as the robot-interface file says, commands joint targets at the\n" +
      "interface's rate, and holds on stale or bad inputs. Stop with Ctrl-C or a message on /duet/stop.\n" +
      "A language-conditioned model is told its task with --instruction and/or the interface's instruction topic.\n" +
      "Guide: docs/deploy.md.",
    example:
      "duet deploy --robot-interface robot-interfaces/panda-pair-ros1.json --policy hold --url ws://localhost:9090 --dry-run",
  })
    .requiredOption("--robot-interface <file>", "robot-interface JSON (see robot-interfaces/)")
    .requiredOption("--policy <policy>", `policy to run: ${policyHelp("robot")}`)
    .option("--url <url>", "rosbridge websocket URL", "ws://localhost:9090")
    .option("--dry-run", "compute and log commands without publishing")
    .option(
      "--action-steps <n>",
      "Ta: chunk steps executed before the policy is asked again (default: a model's own Ta; a replay file's actionSteps, else every step of each chunk)",
      intArg(1),
    )
    .option("--allow-unfinished", "run a model exported before its training's last step (refused by default)")
    .option(
      "--instruction <text>",
      "language-conditioned models (e.g. models/multi-task-unet): the first episode's task, checked against the model's text encoder (at most config.language.maxTokens − 2 UTF-8 bytes, or words for a config.language.tokens \"words\" model: 62 bytes for models/multi-task-unet); later episodes' come from the interface's instruction_topic (std_msgs/String, applied at the next resume after an operator stop). Such a model without either is refused; other policies refuse the flag",
    )
    .action(async (opts: DeployArgs) => {
      await deploy(opts);
    });
}
