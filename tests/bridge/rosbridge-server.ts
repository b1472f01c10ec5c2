// A rosbridge v2 protocol server for tests, on 127.0.0.1 with the `ws` package.
//
// The real rosbridge_server (Python, ROS 1 or ROS 2) cannot run here: no ROS installation. This server reproduces the
// facts of the real one that duet depends on:
//   - ops: advertise / unadvertise / publish / subscribe (throttle_rate, queue_length) / unsubscribe / call_service →
//     service_response / send_action_goal → action_result (ROS 2 actions) / cancel_action_goal;
//   - a publish that fails (unknown topic type, message that does not fit its type) is DROPPED SILENTLY: the error goes
//     only to the server's own log (`log`), never to the client; fields a message leaves out get their defaults
//     (std_msgs/String: `{}` arrives as `{"data": ""}`, a number as `data` is dropped: both observed on 0.11.17);
//   - a bare JSON number as a frame kills a ROS 1 connection (rosbridge 1.x crashes on `msg.get` of an int); ROS 2
//     servers log it;
//   - a publish only reaches subscribers of other clients and server-side listeners; nothing is queued for clients
//     that are not connected;
//   - LATE SUBSCRIPTION (`subscribeDelayMs`): a client's advertise creates a ROS publisher, and the graph's subscribers
//     (the robot's controllers, other clients) connect to it only this long after; a message published before that
//     is lost — except on ROS 1 (`replayFirstSecond`, default for ROS 1), where rosbridge keeps what a new publisher
//     sent in its first second and replays it to a subscriber that connects in that second: the message arrives late,
//     bunched with the next (observed on rosbridge 0.11.17: a first command lost in 2 of 9 starts, the first two 0–77
//     ms apart);
//   - FREEZE (`freeze()` … `resume()`, a server stopped with SIGSTOP): nothing is read, processed, answered or sent
//     while frozen — incoming frames, pings (so the client's heartbeat fails), new connections and outgoing messages
//     are all held, and on resume everything held is processed and delivered in order, including publishes from a
//     client that gave up on the connection meanwhile (the kernel had them in the socket buffer). This is how a
//     command reached a real robot 2–3 s after it was computed.
// Not reproduced (duet does not use them): fragments, PNG/CBOR/BSON compression, authentication, set_level.
import { WebSocketServer, WebSocket } from "ws";

/**
 * One message a client published: `at` when the ROS graph got it (performance.now), `sentAt` when its frame reached
 * the server's socket (≈ when the client sent it; earlier than `at` only for frames held by a freeze).
 */
export interface Received {
  topic: string;
  type: string;
  msg: Record<string, unknown>;
  at: number;
  sentAt: number;
  client: number;
}

interface Subscription {
  client: Client;
  id: string | undefined;
  throttleMs: number;
  lastSent: number;
}

/** A client's publisher on a topic, and whether the graph's subscribers have connected to it yet. */
interface Advertisement {
  type: string;
  at: number;
  /** false until `subscribeDelayMs` after the advertise: publishes before are lost (or held for the ROS 1 replay). */
  connected: boolean;
  /** ROS 1: messages of the first second kept for subscribers that connect in it. */
  replay: Record<string, unknown>[];
}

interface Client {
  id: number;
  ws: WebSocket;
  advertised: Map<string, Advertisement>;
}

type Validator = (msg: Record<string, unknown>) => string | undefined;

const isNumArray = (v: unknown): boolean =>
  Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x));

function trajectoryProblem(t: unknown): string | undefined {
  if (t === null || typeof t !== "object") return "trajectory missing";
  const tr = t as Record<string, unknown>;
  if (!Array.isArray(tr.joint_names) || !tr.joint_names.every((n) => typeof n === "string"))
    return "joint_names must be string[]";
  if (!Array.isArray(tr.points) || tr.points.length === 0) return "points must be a non-empty array";
  for (const p of tr.points as Record<string, unknown>[]) {
    if (!isNumArray(p.positions) || (p.positions as number[]).length !== tr.joint_names.length)
      return "points[].positions must be finite float64[] of joint_names' length";
  }
  return undefined;
}

/** Field checks per message type (what rosbridge's message conversion would refuse). */
const validators: Record<string, Validator> = {
  "std_msgs/Float64MultiArray": (m) => (isNumArray(m.data) ? undefined : "data must be float64[]"),
  "trajectory_msgs/JointTrajectory": (m) => trajectoryProblem(m),
  "control_msgs/FollowJointTrajectoryActionGoal": (m) =>
    m.goal && typeof m.goal === "object"
      ? trajectoryProblem((m.goal as Record<string, unknown>).trajectory)
      : "goal missing",
  "std_msgs/Bool": (m) => (typeof m.data === "boolean" ? undefined : "data must be bool"),
  // an instruction on the interface's instruction topic: a non-string `data` is refused (a missing one: see defaults)
  "std_msgs/String": (m) => (typeof m.data === "string" ? undefined : "data must be string"),
  "std_msgs/Empty": () => undefined,
};

/**
 * Fields rosbridge fills in when a published message leaves them out (message conversion starts from the type's
 * default instance): observed on rosbridge 0.11.17, `{}` published as std_msgs/String arrives as `{"data": ""}`.
 */
const defaults: Record<string, Record<string, unknown>> = { "std_msgs/String": { data: "" } };

/** Options of the test server. */
export interface ServerOptions {
  /** 0 = any free port. */
  port?: number;
  rosVersion: 1 | 2;
  /** Subscribers connect to a newly advertised publisher this long after its advertise (ms; default 0: at once). */
  subscribeDelayMs?: number;
  /** Replay a publisher's first second to subscribers that connect in it (default: true on ROS 1, false on ROS 2). */
  replayFirstSecond?: boolean;
  /** The time (ms) subscriptions' throttle_rate is measured in (default performance.now; lockstep runs: virtual). */
  throttleClock?: () => number;
}

/** What the server holds while frozen. */
interface Frozen {
  frames: { c: Client; text: string; at: number }[];
  out: { c: Client; text: string }[];
  pings: { ws: WebSocket; data: Buffer }[];
  upgrades: (() => void)[];
}

/** A rosbridge v2 server with a ROS graph of topics, services and actions handled in-process. */
export class RosbridgeTestServer {
  /** Server-side log: where the real server reports errors. */
  readonly log: string[] = [];
  /** Every publish accepted from any client. */
  readonly received: Received[] = [];
  /** Every action goal accepted: action name, args, time. */
  readonly goals: { action: string; args: Record<string, unknown>; at: number; client: number }[] = [];
  private readonly clients = new Set<Client>();
  private readonly subs = new Map<string, Subscription[]>();
  private readonly topicListeners = new Map<string, ((msg: Record<string, unknown>) => void)[]>();
  private readonly services = new Map<string, (args: unknown) => unknown>();
  private readonly actions = new Map<string, (args: Record<string, unknown>) => unknown>();
  private nextClient = 1;
  /** Messages lost because no subscriber had connected to their publisher yet, and messages replayed late (ROS 1). */
  readonly lateSubscription = { dropped: 0, replayed: 0 };
  private readonly subscribeDelayMs: number;
  private readonly replayFirstSecond: boolean;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly throttleClock: () => number;

  private constructor(
    private readonly wss: WebSocketServer,
    readonly port: number,
    readonly rosVersion: 1 | 2,
    options: ServerOptions,
    private readonly frozenRef: { frozen: Frozen | null },
  ) {
    this.subscribeDelayMs = options.subscribeDelayMs ?? 0;
    this.replayFirstSecond = options.replayFirstSecond ?? rosVersion === 1;
    this.throttleClock = options.throttleClock ?? (() => performance.now());
    wss.on("connection", (ws) => this.accept(ws));
  }

  static start(options: ServerOptions): Promise<RosbridgeTestServer> {
    const frozenRef: { frozen: Frozen | null } = { frozen: null };
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host: "127.0.0.1",
        port: options.port ?? 0,
        autoPong: false, // pongs are ours: a frozen server does not answer pings
        verifyClient: (_info, done: (ok: boolean) => void) => {
          if (frozenRef.frozen) frozenRef.frozen.upgrades.push(() => done(true));
          else done(true);
        },
      });
      wss.once("error", reject);
      wss.once("listening", () => {
        const addr = wss.address();
        const port = typeof addr === "object" && addr !== null ? addr.port : 0;
        resolve(new RosbridgeTestServer(wss, port, options.rosVersion, options, frozenRef));
      });
    });
  }

  /** Whether the server is frozen. */
  get frozen(): boolean {
    return this.frozenRef.frozen !== null;
  }

  /** Stop the server like SIGSTOP: from now on nothing is read, answered or sent until `resume`. */
  freeze(): void {
    this.frozenRef.frozen ??= { frames: [], out: [], pings: [], upgrades: [] };
  }

  /** SIGCONT: deliver what was held for the clients, then process every frame held, in order. */
  resume(): void {
    const held = this.frozenRef.frozen;
    if (!held) return;
    this.frozenRef.frozen = null;
    for (const o of held.out) if (o.c.ws.readyState === WebSocket.OPEN) o.c.ws.send(o.text);
    for (const p of held.pings) if (p.ws.readyState === WebSocket.OPEN) p.ws.pong(p.data);
    for (const u of held.upgrades) u();
    for (const f of held.frames) this.handle(f.c, f.text, f.at);
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Subscriptions of connected clients to `topic` (a subscribe op has been processed). */
  subscribers(topic: string): number {
    return (this.subs.get(topic) ?? []).length;
  }

  /** Kill the server: every connection is cut without a close handshake, like a crashed process. */
  kill(): Promise<void> {
    this.frozenRef.frozen = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  /** A ROS node publishes `msg` on `topic`: delivered to subscribed clients (honouring throttle_rate). */
  publish(topic: string, msg: unknown): void {
    const now = this.throttleClock();
    for (const s of this.subs.get(topic) ?? []) {
      if (s.throttleMs > 0 && now - s.lastSent < s.throttleMs) continue;
      s.lastSent = now;
      this.send(s.client, { op: "publish", topic, msg });
    }
  }

  /** Send a raw text frame to every client (for malformed-message tests). */
  sendRaw(text: string): void {
    for (const c of this.clients) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(text);
  }

  /** A ROS node subscribed to `topic` inside the graph. */
  onTopic(topic: string, fn: (msg: Record<string, unknown>) => void): void {
    this.topicListeners.set(topic, [...(this.topicListeners.get(topic) ?? []), fn]);
  }

  /** A ROS service in the graph. */
  advertiseService(name: string, handler: (args: unknown) => unknown): void {
    this.services.set(name, handler);
  }

  /** A ROS 2 action server in the graph; its handler's return value is the result. */
  advertiseAction(name: string, handler: (args: Record<string, unknown>) => unknown): void {
    this.actions.set(name, handler);
  }

  private send(c: Client, msg: unknown): void {
    const frozen = this.frozenRef.frozen;
    if (frozen) frozen.out.push({ c, text: JSON.stringify(msg) });
    else if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(msg));
  }

  private accept(ws: WebSocket): void {
    const client: Client = { id: this.nextClient++, ws, advertised: new Map() };
    this.clients.add(client);
    ws.on("ping", (data) => {
      const frozen = this.frozenRef.frozen;
      if (frozen) frozen.pings.push({ ws, data });
      else ws.pong(data);
    });
    ws.on("close", () => {
      this.clients.delete(client);
      for (const [topic, list] of this.subs)
        this.subs.set(
          topic,
          list.filter((s) => s.client !== client),
        );
    });
    ws.on("message", (data) => {
      const frozen = this.frozenRef.frozen;
      if (frozen) frozen.frames.push({ c: client, text: data.toString(), at: performance.now() });
      else this.handle(client, data.toString(), performance.now());
    });
  }

  /** `sentAt`: when the frame reached the socket. */
  private handle(c: Client, text: string, sentAt: number): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.log.push(`[client ${c.id}] Unable to load JSON message: ${text.slice(0, 60)}`);
      return;
    }
    if (typeof msg === "number") {
      if (this.rosVersion === 1) {
        this.log.push(`[client ${c.id}] AttributeError: 'int' object has no attribute 'get' — connection closed`);
        c.ws.terminate();
      } else this.log.push(`[client ${c.id}] Received a message without an op`);
      return;
    }
    if (msg === null || typeof msg !== "object" || typeof (msg as { op?: unknown }).op !== "string") {
      this.log.push(`[client ${c.id}] Received a message without an op`);
      return;
    }
    const m = msg as Record<string, unknown> & { op: string };
    const topic = typeof m.topic === "string" ? m.topic : "";
    switch (m.op) {
      case "advertise":
        if (typeof m.type !== "string") this.log.push(`[client ${c.id}] advertise ${topic}: missing type`);
        else if (!c.advertised.has(topic)) this.advertise(c, topic, m.type);
        return;
      case "unadvertise":
        c.advertised.delete(topic);
        return;
      case "subscribe": {
        const list = this.subs.get(topic) ?? [];
        list.push({
          client: c,
          id: typeof m.id === "string" ? m.id : undefined,
          throttleMs: typeof m.throttle_rate === "number" ? m.throttle_rate : 0,
          lastSent: -Infinity,
        });
        this.subs.set(topic, list);
        return;
      }
      case "unsubscribe":
        this.subs.set(
          topic,
          (this.subs.get(topic) ?? []).filter((s) => s.client !== c),
        );
        return;
      case "publish":
        this.onPublish(c, topic, m.msg, sentAt);
        return;
      case "call_service": {
        const service = typeof m.service === "string" ? m.service : "";
        const h = this.services.get(service);
        if (!h)
          this.send(c, {
            op: "service_response",
            id: m.id,
            service,
            values: `Service ${service} does not exist`,
            result: false,
          });
        else this.send(c, { op: "service_response", id: m.id, service, values: h(m.args), result: true });
        return;
      }
      case "send_action_goal": {
        const action = typeof m.action === "string" ? m.action : "";
        const h = this.actions.get(action);
        const args = (m.args ?? {}) as Record<string, unknown>;
        if (!h) {
          this.log.push(`[client ${c.id}] send_action_goal: action ${action} does not exist`);
          this.send(c, { op: "action_result", id: m.id, action, values: {}, status: 6, result: false });
          return;
        }
        this.goals.push({ action, args, at: performance.now(), client: c.id });
        this.send(c, { op: "action_result", id: m.id, action, values: h(args), status: 4, result: true });
        return;
      }
      case "cancel_action_goal":
        return;
      default:
        this.log.push(`[client ${c.id}] Unknown operation: ${m.op}`);
    }
  }

  /** A new publisher: the graph's subscribers connect to it `subscribeDelayMs` later (see the header). */
  private advertise(c: Client, topic: string, type: string): void {
    const a: Advertisement = { type, at: performance.now(), connected: this.subscribeDelayMs <= 0, replay: [] };
    c.advertised.set(topic, a);
    if (a.connected) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      a.connected = true;
      const replay = performance.now() - a.at <= 1000 ? a.replay : [];
      this.lateSubscription.dropped += a.replay.length - replay.length;
      a.replay = [];
      for (const rec of replay) {
        this.lateSubscription.replayed++;
        this.log.push(
          `[client ${c.id}] ${topic}: a message of the publisher's first second replayed to a late subscriber`,
        );
        this.deliver(c, topic, rec);
      }
    }, this.subscribeDelayMs);
    this.timers.add(t);
  }

  private onPublish(c: Client, topic: string, msg: unknown, sentAt: number): void {
    const ad = c.advertised.get(topic);
    const type = ad?.type;
    if (ad === undefined || type === undefined) {
      this.log.push(
        `[client ${c.id}] publish ${topic}: Cannot infer topic type for topic ${topic} as it is not yet advertised`,
      );
      return;
    }
    if (msg === null || typeof msg !== "object") {
      this.log.push(`[client ${c.id}] publish ${topic}: message is not an object`);
      return;
    }
    const rec = { ...defaults[type], ...(msg as Record<string, unknown>) };
    const problem = validators[type]?.(rec);
    if (problem !== undefined) {
      this.log.push(`[client ${c.id}] publish ${topic} (${type}): ${problem} — dropped`);
      return;
    }
    this.received.push({ topic, type, msg: rec, at: performance.now(), sentAt, client: c.id });
    if (!ad.connected) {
      if (this.replayFirstSecond && performance.now() - ad.at < 1000) ad.replay.push(rec);
      else {
        this.lateSubscription.dropped++;
        this.log.push(`[client ${c.id}] ${topic}: no subscriber connected to the new publisher yet — message lost`);
      }
      return;
    }
    this.deliver(c, topic, rec);
  }

  /** A publish of client `c` reaches the graph's listeners and the other clients' subscriptions. */
  private deliver(c: Client, topic: string, rec: Record<string, unknown>): void {
    for (const fn of this.topicListeners.get(topic) ?? []) fn(rec);
    for (const s of this.subs.get(topic) ?? [])
      if (s.client !== c) this.send(s.client, { op: "publish", topic, msg: rec });
  }
}
