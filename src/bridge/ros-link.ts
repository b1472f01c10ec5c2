// One logical connection to rosbridge that survives drops: heartbeat, reconnect with exponential backoff, and
// connection EPOCHS. Every successful connection gets a new epoch and a brand-new roslib `Ros` object; the old one is
// discarded with all its listeners. roslib queues every publish made while disconnected and flushes the queue on the
// next "connection" event of the same `Ros` — a discarded `Ros` never connects again, so nothing in ROSLIB's queue
// from before a drop can reach the robot after it. On top of that `publish` refuses any message whose epoch is not the
// live one.
// What this cannot prevent: a message already written to the socket sits in the kernel's buffers or in a frozen
// server (SIGSTOP: 2–3 s observed on a real ROS 1 rosbridge) and is processed when the server resumes, after the link
// was declared down. Against that, trajectory commands carry the time they were computed (./command-messages.ts) so
// the robot's controller drops late ones; unstamped ones are sent only while joint states keep arriving on the same
// connection (src/runner/deploy/controller.ts).
// Command topics are registered with `advertise` and advertised the moment each connection opens, before any
// publish: a ROS 1 subscriber connects to a new publisher only tens of ms after the advertise, and a message published
// before that is lost (or replayed late by rosbridge within that first second).
import { Action, Ros, Topic } from "roslib";
import type { Clock } from "./clock.ts";
import { wsTransportFactory } from "./transport.ts";

/** What a subscription asks rosbridge for. */
export interface SubscribeOptions {
  /** Minimum ms between messages (rosbridge throttle_rate). */
  throttleMs?: number;
  /** rosbridge queue_length (0 = newest only is sent). */
  queueLength?: number;
}

/** Connection settings, typically the robot interface's `connection` block. */
export interface LinkOptions {
  url: string;
  heartbeatMs: number;
  reconnectInitialMs: number;
  reconnectMax: number;
  connectTimeoutMs: number;
  /**
   * Failed connection attempts are logged: the first at once, later ones at most once per this many ms, with the
   * count in between (default 5000). Without a terminal this is the only sign that the server cannot be reached.
   */
  failureReportMs?: number;
}

/** A rosbridge connection that can drop and come back. */
export interface RosLink {
  /** Epoch of the live connection (0 before the first). */
  readonly epoch: number;
  readonly connected: boolean;
  /** Clock time (ms) the live connection opened; NaN while down. */
  readonly connectedAt: number;
  /** Register a topic duet publishes on: it is advertised as each connection opens, before any publish. */
  advertise(topic: string, type: string): void;
  /** Register a subscription; it is (re)established on every connection. */
  subscribe(topic: string, type: string, options: SubscribeOptions, onMessage: (msg: unknown) => void): void;
  /** Publish if `epoch` is the live connection; false (nothing sent, nothing queued) otherwise. */
  publish(topic: string, type: string, msg: unknown, epoch: number): boolean;
  /** Send a ROS 2 action goal if `epoch` is live; false otherwise. */
  sendActionGoal(action: string, type: string, goal: unknown, epoch: number): boolean;
  on(event: "up", fn: (epoch: number) => void): void;
  on(event: "down", fn: (epoch: number, reason: string) => void): void;
  on(event: "log", fn: (line: string) => void): void;
  /** Start connecting (and reconnecting after drops). */
  start(): void;
  /** Close for good: no reconnect. */
  close(): void;
  /** Counters for the status line and tests. */
  readonly stats: {
    connects: number;
    drops: number;
    refusedPublishes: number;
    malformed: number;
    failedAttempts: number;
  };
}

interface Sub {
  topic: string;
  type: string;
  options: SubscribeOptions;
  onMessage: (msg: unknown) => void;
}

/** The real link: roslib `Ros` over the `ws` transport. */
export class RoslibLink implements RosLink {
  epoch = 0;
  connected = false;
  connectedAt = NaN;
  readonly stats = { connects: 0, drops: 0, refusedPublishes: 0, malformed: 0, failedAttempts: 0 };
  private ros: Ros | undefined;
  private readonly subs: Sub[] = [];
  private readonly adverts: { topic: string; type: string }[] = [];
  /** Failed attempts since the last connection, and the last one reported (for rate-limited logging). */
  private failures = { count: 0, reported: 0, reportedAt: -Infinity, lastError: "" };
  private topics = new Map<string, Topic<unknown>>();
  private actions = new Map<string, Action<unknown, unknown, unknown>>();
  private readonly listeners = {
    up: [] as ((e: number) => void)[],
    down: [] as ((e: number, r: string) => void)[],
    log: [] as ((l: string) => void)[],
  };
  private backoff: number;
  private retryTimer: unknown;
  private closed = false;
  private started = false;

  constructor(
    private readonly options: LinkOptions,
    private readonly clock: Clock,
  ) {
    this.backoff = options.reconnectInitialMs;
  }

  on(event: "up", fn: (epoch: number) => void): void;
  on(event: "down", fn: (epoch: number, reason: string) => void): void;
  on(event: "log", fn: (line: string) => void): void;
  on(event: "up" | "down" | "log", fn: never): void {
    (this.listeners[event] as unknown[]).push(fn);
  }

  private log(line: string): void {
    for (const fn of this.listeners.log) fn(line);
  }

  advertise(topic: string, type: string): void {
    if (this.adverts.some((a) => a.topic === topic)) return;
    const a = { topic, type };
    this.adverts.push(a);
    if (this.connected && this.ros) this.applyAdvert(this.ros, a);
  }

  private applyAdvert(ros: Ros, a: { topic: string; type: string }): void {
    const t = this.topicFor(ros, a.topic, a.type);
    t.advertise();
  }

  private topicFor(ros: Ros, topic: string, type: string): Topic<unknown> {
    let t = this.topics.get(topic);
    if (!t) {
      t = new Topic<unknown>({ ros, name: topic, messageType: type, queue_size: 1, reconnect_on_close: false });
      this.topics.set(topic, t);
    }
    return t;
  }

  subscribe(topic: string, type: string, options: SubscribeOptions, onMessage: (msg: unknown) => void): void {
    const sub = { topic, type, options, onMessage };
    this.subs.push(sub);
    if (this.connected && this.ros) this.applySub(this.ros, sub);
  }

  private applySub(ros: Ros, sub: Sub): void {
    const t = new Topic<unknown>({
      ros,
      name: sub.topic,
      messageType: sub.type,
      throttle_rate: sub.options.throttleMs ?? 0,
      queue_length: sub.options.queueLength ?? 1,
      reconnect_on_close: false,
    });
    t.subscribe((msg) => {
      if (ros === this.ros && this.connected) sub.onMessage(msg);
    });
  }

  private live(epoch: number): boolean {
    return this.connected && epoch === this.epoch && this.ros !== undefined && this.ros.isConnected;
  }

  publish(topic: string, type: string, msg: unknown, epoch: number): boolean {
    if (!this.live(epoch) || !this.ros) {
      this.stats.refusedPublishes++;
      return false;
    }
    this.topicFor(this.ros, topic, type).publish(msg);
    return true;
  }

  sendActionGoal(action: string, type: string, goal: unknown, epoch: number): boolean {
    if (!this.live(epoch) || !this.ros) {
      this.stats.refusedPublishes++;
      return false;
    }
    let a = this.actions.get(action);
    if (!a) {
      a = new Action<unknown, unknown, unknown>({ ros: this.ros, name: action, actionType: type });
      this.actions.set(action, a);
    }
    a.sendGoal(
      goal,
      () => undefined,
      undefined,
      (err) => this.log(`action ${action}: goal failed (${err})`),
    );
    return true;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    const ros = new Ros({
      transportFactory: wsTransportFactory({
        heartbeatMs: this.options.heartbeatMs,
        connectTimeoutMs: this.options.connectTimeoutMs,
        onMalformed: (line) => {
          this.stats.malformed++;
          this.log(`malformed message from rosbridge dropped: ${line}`);
        },
      }),
    });
    this.ros = ros;
    let opened = false;
    ros.on("connection", () => {
      if (ros !== this.ros || this.closed) return;
      opened = true;
      this.epoch++;
      this.stats.connects++;
      this.connected = true;
      this.connectedAt = this.clock.now();
      this.backoff = this.options.reconnectInitialMs;
      if (this.failures.count > 0)
        this.log(`connected to ${this.options.url} after ${this.failures.count} failed attempt(s)`);
      this.failures = { count: 0, reported: 0, reportedAt: -Infinity, lastError: "" };
      for (const a of this.adverts) this.applyAdvert(ros, a);
      for (const sub of this.subs) this.applySub(ros, sub);
      for (const fn of this.listeners.up) fn(this.epoch);
    });
    ros.on("close", (ev) => {
      if (ros !== this.ros) return;
      const wasUp = this.connected;
      this.connected = false;
      this.connectedAt = NaN;
      this.discard(ros);
      if (!opened) this.failed();
      if (wasUp) {
        this.stats.drops++;
        const code = (ev as { code?: number } | undefined)?.code;
        for (const fn of this.listeners.down)
          fn(this.epoch, `connection closed${code === undefined ? "" : ` (code ${code})`}`);
      }
      if (!this.closed) this.reportFailure(this.scheduleReconnect(opened));
    });
    ros.on("error", (ev) => {
      if (ros !== this.ros) return;
      const msg =
        ev instanceof Error ? ev.message : ((ev as { message?: string } | undefined)?.message ?? "transport error");
      if (opened) this.log(`rosbridge: ${msg}`);
      else this.failures.lastError = msg;
    });
    ros.connect(this.options.url).catch((e: unknown) => {
      if (ros !== this.ros) return;
      this.failures.lastError = String(e);
      this.failed();
      this.reportFailure(this.scheduleReconnect(false));
    });
  }

  private failed(): void {
    this.failures.count++;
    this.stats.failedAttempts++;
  }

  /** Log failed attempts: the first at once, then at most once per `failureReportMs` (`delay`: until the next try). */
  private reportFailure(delay: number | undefined): void {
    const f = this.failures;
    if (f.count === 0 || f.count === f.reported || delay === undefined) return;
    const now = this.clock.now();
    if (f.reported > 0 && now - f.reportedAt < (this.options.failureReportMs ?? 5000)) return;
    const why = connectError(f.lastError, this.options.connectTimeoutMs);
    const more = f.reported > 0 ? `, ${f.count - f.reported} since the last report` : "";
    this.log(
      `cannot connect to ${this.options.url}: ${why} (attempt ${f.count}${more}); retrying in ${duration(delay)}, ` +
        `then every ${duration(this.options.reconnectMax)} at most, until it answers — is rosbridge running there? ` +
        "Ctrl-C stops",
    );
    f.reported = f.count;
    f.reportedAt = now;
  }

  private discard(ros: Ros): void {
    this.topics = new Map();
    this.actions = new Map();
    ros.removeAllListeners();
    this.ros = undefined;
    ros.close();
  }

  /** Schedule the next attempt; returns its delay (ms), or undefined when closed. */
  private scheduleReconnect(afterUp: boolean): number | undefined {
    if (this.closed) return undefined;
    const delay = afterUp ? this.options.reconnectInitialMs : this.backoff;
    if (!afterUp) this.backoff = Math.min(this.backoff * 2, this.options.reconnectMax);
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => this.connect(), delay);
    return delay;
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.retryTimer);
    const ros = this.ros;
    const wasUp = this.connected;
    this.connected = false;
    this.connectedAt = NaN;
    if (ros) this.discard(ros);
    if (wasUp) for (const fn of this.listeners.down) fn(this.epoch, "closed by duet");
  }
}

/** A delay for a log line: "200 ms", "5 s", "2.5 s". */
function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`;
}

/** What node's socket error codes mean, for the failure line. */
const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  ECONNRESET: "connection reset",
};

/**
 * A failed attempt's reason in words: "connect ECONNREFUSED 127.0.0.1:9" → "connection refused (ECONNREFUSED)";
 * no error at all → no websocket answer within the connect timeout; anything else as received.
 */
export function connectError(error: string, connectTimeoutMs: number): string {
  if (error === "") return `no websocket answer within ${connectTimeoutMs} ms`;
  const code = /\b(E[A-Z_]{3,})\b/.exec(error)?.[1];
  const words = code === undefined ? undefined : CONNECT_ERRORS[code];
  return words === undefined ? error : `${words} (${code})`;
}

/** The link the product uses. */
export function createRosLink(options: LinkOptions, clock: Clock): RosLink {
  return new RoslibLink(options, clock);
}
