// The deploy control loop: a core Policy driving a RobotBridge through the safety layer.
//
// Timeline at the control rate (period P = 1/controlHz), To = observation steps, Ta = executed steps per chunk:
//   tick k:   observe o[k] (inputs younger than max age, else HOLD: nothing sent)
//             if no queued actions: chunk = policy(o[k-To+1..k]); queue a[k..k+Ta-1]
//             send safety(a[k]) — only if o[k]'s connection epoch is still live and o[k] is still fresh; through
//             an unstamped interface (Float64MultiArray) only if the newest joint state of that connection is
//             younger than one period P: joint states stop arriving the moment the server or the network stalls, so
//             at most ~one command can be caught in a stall and take effect late (stamped trajectory commands are
//             dropped by the robot's controller once stamp + time_from_start ≤ one period has passed).
//   drop:     queue, history and ramp are cleared at once; after reconnect the loop resumes only from
//             observations of the new connection, ramping from the measured pose.
//   rejected: the safety layer refused a[k] → state hold with one log line; the policy keeps planning, nothing is
//             sent, refusals are counted on the status line; once its commands have passed for half a second in a row
//             the run resumes, ramping from the measured pose (a policy at the edge of a limit does not flap between
//             sending and holding every other tick).
// States: starting → running ⇄ hold (watchdog, or rejected commands) · disconnected (link down) · stopped
// (operator) · closed.
// Episodes (language-conditioned policies): from `start`, or a `resume` after an operator stop, to the next stop. The
// episode's instruction goes on every observation; a language policy does not leave `starting` until it has one; an
// instruction arriving mid-episode applies from the next resume, which resets the policy (./episode-instructions.ts).
import { ACTION_DIM, type ActionChunk, type Observation, type Policy } from "../../core/index.ts";
import type { Clock, ObserveResult, RobotBridge, SafetyLayer } from "../../bridge/index.ts";
import { EpisodeInstructions, type DeployLanguage } from "./episode-instructions.ts";

export type DeployState = "starting" | "running" | "hold" | "disconnected" | "stopped" | "closed";

/** Options of the deploy loop. */
export interface DeployOptions {
  policy: Policy;
  bridge: RobotBridge;
  safety: SafetyLayer;
  clock: Clock;
  /** To: observations given to the policy (default 2). */
  obsSteps?: number;
  /** Ta: chunk steps executed before planning again (default 8). */
  actionSteps?: number;
  /** No valid observation for this long → hold (ms). */
  watchdogMs: number;
  /** Largest age (ms) of the newest joint state when a command is sent (default: watchdogMs). */
  maxCommandAgeMs?: number;
  /** Compute and log commands without publishing (default false). */
  dryRun?: boolean;
  /** One line per event (stop, hold, limits, reconnect, dry-run commands, instructions). */
  log: (line: string) => void;
  /** A language-conditioned policy's instructions (./episode-instructions.ts). Absent: the policy reads none. */
  language?: DeployLanguage;
}

/** What the status line shows. */
export interface DeployStatus {
  state: DeployState;
  epoch: number;
  ticks: number;
  commandsSent: number;
  /** Commands computed in dry-run mode. */
  commandsLogged: number;
  /** Commands the safety layer rejected / clamped (a command with any slot clamped counts once). */
  rejected: number;
  clamped: number;
  /** Clamps per slot name (limits within tolerance, jumps in clamp mode, rate limiting). */
  clampedSlots: Record<string, number>;
  /**
   * Commands not sent because the connection or observation went stale while the policy ran, or (unstamped
   * interfaces) because no joint state arrived within the last control period.
   */
  discarded: number;
  /** Ticks that found the previous one still running. */
  overruns: number;
  /** Median and p95 observation-to-command latency (ms) over the last 100 commands. */
  latencyMsMedian: number;
  latencyMsP95: number;
  jointAgeMs: number;
  cameraAgeMs: number;
  /** Last reason for holding or stopping. */
  reason: string;
  /** Clock time (ms) the controller noticed the last disconnect, or NaN. */
  downNoticedAt: number;
}

/** After a rejection, commands must pass the safety checks for this long in a row before any is sent again (s). */
const RESUME_AFTER_S = 0.5;

/** Clamped commands are logged at most once per this many ms (with the count in between). */
const CLAMP_REPORT_MS = 5000;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Runs a policy on a robot at the bridge's control rate. */
export class DeployController {
  private readonly o: Required<Omit<DeployOptions, "maxCommandAgeMs" | "language">> & { maxCommandAgeMs: number };
  private state: DeployState = "starting";
  private reason = "";
  private history: Observation[] = [];
  private chunk: ActionChunk | undefined;
  private chunkStep = 0;
  private chunkEpoch = -1;
  /** Receive time of the newest joint state of the last good observation (the watchdog's reference). */
  private lastInputAt = -Infinity;
  private busy = false;
  private timer: unknown;
  private nextTickAt = 0;
  private readonly out = new Float32Array(ACTION_DIM);
  private readonly latencies: number[] = [];
  private readonly counters = {
    ticks: 0,
    commandsSent: 0,
    commandsLogged: 0,
    rejected: 0,
    clamped: 0,
    discarded: 0,
    overruns: 0,
  };
  private readonly clampedSlots: Record<string, number> = {};
  /** Clamps since the last "clamped:" line, and when that was (clock ms): at most one line per CLAMP_REPORT_MS. */
  private clampReport = { since: 0, at: -Infinity };
  /** In hold because the safety layer rejected commands; how many since. */
  private holdForRejection = false;
  private rejectedInHold = 0;
  /** Commands in a row that passed while holding for rejection; RESUME_AFTER_S of them resume. */
  private passedInHold = 0;
  private readonly resumeAfter: number;
  private ages = { joint: NaN, camera: NaN };
  private downNoticedAt = NaN;
  private readonly periodMs: number;
  private readonly statusFns: ((s: DeployStatus) => void)[] = [];
  /** A language-conditioned policy's episode instructions; null for the others. */
  private readonly instructions: EpisodeInstructions | null;
  /** The seed `start` was given: episode k (from 1) resets the policy with seed + k − 1. */
  private seed = 0;

  constructor(options: DeployOptions) {
    this.o = {
      obsSteps: 2,
      actionSteps: 8,
      dryRun: false,
      maxCommandAgeMs: options.watchdogMs,
      ...options,
    };
    this.periodMs = 1000 / options.bridge.controlHz;
    this.resumeAfter = Math.max(1, Math.round(RESUME_AFTER_S * options.bridge.controlHz));
    const { bridge } = options;
    bridge.on("down", (epoch, why) => this.onDown(epoch, why));
    bridge.on("up", (epoch) => this.o.log(`connected (epoch ${epoch}); waiting for fresh observations`));
    bridge.on("stop", (source) => this.stop(`operator stop (${source})`));
    const { language } = options;
    this.instructions = language ? new EpisodeInstructions(language, options.log) : null;
    if (this.instructions) {
      const instructions = this.instructions;
      bridge.on("instruction", (text, topic) => instructions.receive(text, topic));
    }
  }

  /** Called after every tick with the current status. */
  onStatus(fn: (s: DeployStatus) => void): void {
    this.statusFns.push(fn);
  }

  get status(): DeployStatus {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      state: this.state,
      epoch: this.o.bridge.epoch,
      ...this.counters,
      clampedSlots: { ...this.clampedSlots },
      latencyMsMedian: quantile(sorted, 0.5),
      latencyMsP95: quantile(sorted, 0.95),
      jointAgeMs: this.ages.joint,
      cameraAgeMs: this.ages.camera,
      reason: this.reason,
      downNoticedAt: this.downNoticedAt,
    };
  }

  /** Start the bridge and the loop. */
  start(seed = 0): void {
    this.seed = seed;
    this.o.policy.reset(seed);
    this.instructions?.started();
    this.o.safety.reset();
    this.o.bridge.start();
    this.nextTickAt = this.o.clock.now();
    this.schedule();
  }

  /** Operator stop: nothing is sent until `resume`. */
  stop(reason: string): void {
    if (this.state === "stopped" || this.state === "closed") return;
    this.enter("stopped", reason);
  }

  /** Resume after an operator stop: a new episode (with the next instruction, if one came); ramps from the measured pose. */
  resume(): void {
    if (this.state !== "stopped") return;
    const i = this.instructions;
    if (i?.begin() === true) this.o.policy.reset(this.seed + i.count - 1);
    this.enter("starting", "resumed by operator");
  }

  /** Stop the loop and close the bridge; `reason` is logged as "closed: <reason>". */
  close(reason = "closed by duet"): void {
    this.enter("closed", reason);
    this.o.clock.clearTimeout(this.timer);
    this.o.bridge.close();
  }

  private enter(state: DeployState, reason: string): void {
    this.holdForRejection = false;
    if (state !== "running") {
      this.chunk = undefined;
      this.history = [];
      this.o.safety.reset();
    }
    if (this.state !== state || this.reason !== reason) this.o.log(`${state}: ${reason}`);
    this.state = state;
    this.reason = reason;
  }

  private onDown(epoch: number, why: string): void {
    this.downNoticedAt = this.o.clock.now();
    if (this.state === "closed") return;
    const wasStopped = this.state === "stopped";
    this.enter(
      wasStopped ? "stopped" : "disconnected",
      `link down (epoch ${epoch}: ${why}); no command will be sent until fresh observations arrive`,
    );
  }

  private schedule(): void {
    if (this.state === "closed") return;
    this.nextTickAt += this.periodMs;
    const now = this.o.clock.now();
    if (this.nextTickAt < now - this.periodMs) this.nextTickAt = now; // fell far behind: do not burst
    this.timer = this.o.clock.setTimeout(
      () => {
        void this.tick().finally(() => this.schedule());
      },
      Math.max(0, this.nextTickAt - now),
    );
  }

  /** Count a clamped command per slot; log it at once, then at most once per CLAMP_REPORT_MS with the count. */
  private countClamps(clamped: readonly string[], now: number): void {
    this.counters.clamped++;
    for (const c of clamped) {
      const slot = c.slice(0, c.indexOf(" "));
      this.clampedSlots[slot] = (this.clampedSlots[slot] ?? 0) + 1;
    }
    const rep = this.clampReport;
    rep.since++;
    if (now - rep.at < CLAMP_REPORT_MS) return;
    const more = rep.since > 1 ? ` (${rep.since} commands clamped since the last report)` : "";
    this.o.log(`clamped: ${clamped.join("; ")}${more}`);
    rep.since = 0;
    rep.at = now;
  }

  /**
   * A command the safety layer refused: hold, with ONE log line, until a command passes again. The policy keeps
   * running on fresh observations meanwhile (nothing is sent); the status line counts the refusals.
   */
  private onRejected(why: readonly string[]): void {
    if (!this.holdForRejection) {
      // Not `enter`: the policy's history and chunk stay (it goes on planning); the ramp starts over.
      const reason =
        `command rejected by the safety layer: ${why.join("; ")}; nothing is sent until commands pass for ` +
        `${RESUME_AFTER_S} s (safety in the robot-interface file)`;
      this.o.log(`hold: ${reason}`);
      this.state = "hold";
      this.o.safety.reset();
      this.holdForRejection = true;
      this.rejectedInHold = 0;
    }
    this.rejectedInHold++;
    this.passedInHold = 0;
    this.reason = `${this.rejectedInHold} command(s) rejected, the latest: ${why.join("; ")}`;
  }

  /** One control step (exposed for tests driving the loop by hand). */
  async tick(): Promise<void> {
    if (this.busy) {
      this.counters.overruns++;
      return;
    }
    this.busy = true;
    try {
      await this.step();
    } catch (e) {
      this.enter("hold", `policy failed: ${(e as Error).message}`);
    } finally {
      this.busy = false;
      const s = this.status;
      for (const fn of this.statusFns) fn(s);
    }
  }

  private async step(): Promise<void> {
    const { bridge, clock, safety, policy } = this.o;
    this.counters.ticks++;
    if (this.state === "stopped" || this.state === "closed") return;
    const now = clock.now();
    const r: ObserveResult = bridge.observe(now);
    const commanding = this.state === "running" || this.holdForRejection;
    if (!r.ok) {
      if (commanding && now - this.lastInputAt > this.o.watchdogMs) this.enter("hold", `watchdog: ${r.reason}`);
      else if (this.state !== "running") this.reason = r.reason;
      return;
    }
    this.lastInputAt = r.newestInputAt;
    this.ages.joint = r.jointAgeMs;
    this.ages.camera = r.cameraAgeMs;
    if (!commanding) {
      const waiting = this.instructions?.waiting;
      if (waiting !== undefined) {
        this.enter("starting", waiting);
        return;
      }
      this.enter("running", `observations fresh on epoch ${r.epoch}`);
    }
    const instruction = this.instructions?.current;
    if (instruction !== undefined) r.observation.instruction = instruction;
    this.history.push(r.observation);
    if (this.history.length > this.o.obsSteps) this.history.shift();
    while (this.history.length < this.o.obsSteps) this.history.unshift(this.history[0] as Observation);
    if (
      this.chunk === undefined ||
      this.chunkStep >= Math.min(this.o.actionSteps, this.chunk.horizon) ||
      this.chunkEpoch !== r.epoch
    ) {
      const chunk = await policy.predictChunk(this.history);
      this.chunk = chunk;
      this.chunkStep = 0;
      this.chunkEpoch = r.epoch;
    }
    // The world may have changed while the policy ran: same connection, still fresh, not stopped?
    const after = clock.now();
    if (
      (this.state !== "running" && !this.holdForRejection) ||
      bridge.epoch !== r.epoch ||
      !bridge.connected ||
      after - r.newestInputAt > this.o.maxCommandAgeMs ||
      (!bridge.stampedCommands && !(after - bridge.newestJointStateAt < this.periodMs))
    ) {
      this.counters.discarded++;
      return;
    }
    const chunk = this.chunk;
    const row = chunk.actions.subarray(this.chunkStep * chunk.dim, (this.chunkStep + 1) * chunk.dim);
    this.chunkStep++;
    const v = safety.filter(row, r.observation.state, this.out);
    if (v.clamped.length > 0) this.countClamps(v.clamped, after);
    if (!v.ok) {
      this.counters.rejected++;
      this.onRejected(v.rejected);
      return;
    }
    if (this.holdForRejection) {
      // Holding: this command passed, but only RESUME_AFTER_S of them in a row resume; until then nothing is sent
      // and each is checked as a ramp from the measured pose again.
      if (++this.passedInHold < this.resumeAfter) {
        safety.reset();
        return;
      }
      const n = this.rejectedInHold;
      this.enter(
        "running",
        `commands passed the safety checks for ${RESUME_AFTER_S} s after ${n} rejected (ramping from the measured pose)`,
      );
    }
    if (this.o.dryRun) {
      this.counters.commandsLogged++;
      this.o.log(
        `dry-run command${v.ramping ? " (ramp)" : ""}: [${Array.from(this.out, (x) => x.toFixed(4)).join(", ")}]`,
      );
      return;
    }
    if (bridge.sendCommand(this.out, r.epoch)) {
      this.counters.commandsSent++;
      this.latencies.push(clock.now() - r.newestInputAt);
      if (this.latencies.length > 100) this.latencies.shift();
    } else this.counters.discarded++;
  }
}
