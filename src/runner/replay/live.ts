// Live viewing: a running sim (or deploy) streams body poses to `duet view` over a websocket. The wire format is
// defined here, next to the client the runner uses; the viewer's server (src/viewer) validates it on arrival.
import { WebSocket } from "ws";
import { z } from "zod";
import { DuetError } from "../../core/index.ts";
import type { BodySpec, SimEnv } from "../../sim/index.ts";
import type { StepHook } from "../rollout/episode.ts";

/** Path on the viewer's server where producers connect. */
export const LIVE_PATH = "/live";

/** Producer → viewer messages. */
export const liveMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("begin"),
    /** Shown in the page, e.g. "bottle-cap seed 3". */
    name: z.string(),
    fps: z.number().positive(),
    /** Body descriptions (sim bodies.ts), in pose order. */
    bodies: z.array(z.any()).min(1),
  }),
  z.object({
    type: z.literal("frame"),
    step: z.int().nonnegative(),
    /** `poses: Nbodies·7` (position xyz, quaternion xyzw). */
    poses: z.array(z.number()),
    /** The 16 measured joint positions, when known. */
    state: z.array(z.number()).optional(),
  }),
  z.object({ type: z.literal("end"), success: z.boolean().optional() }),
]);
export type LiveMessage = z.output<typeof liveMessageSchema>;

/** Options for `LiveClient.connect`. */
export interface LiveClientOptions {
  /** Give up connecting after this many ms (default 5000). */
  timeoutMs?: number;
}

/**
 * Streams one run's poses to a viewer: `begin` once per episode, `frame` per control step, `end`, `close`.
 * Sending after the viewer went away throws a DuetError (the caller decides whether the run goes on without it).
 */
export class LiveClient {
  private constructor(
    private readonly socket: WebSocket,
    readonly url: string,
  ) {}

  /** Connect to `duet view` at `url` (e.g. "ws://127.0.0.1:8080/live" or "http://127.0.0.1:8080"). */
  static connect(url: string, options: LiveClientOptions = {}): Promise<LiveClient> {
    const target = liveUrl(url);
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(target);
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new DuetError(`live viewer ${target}: no connection after ${timeoutMs} ms; is \`duet view\` running?`));
      }, timeoutMs);
      socket.once("open", () => {
        clearTimeout(timer);
        socket.removeAllListeners("error");
        socket.on("error", () => {}); // reported by send() once the socket is closed
        resolve(new LiveClient(socket, target));
      });
      socket.once("error", (e) => {
        clearTimeout(timer);
        reject(new DuetError(`live viewer ${target}: cannot connect (${e.message}); is \`duet view\` running?`));
      });
    });
  }

  begin(name: string, fps: number, bodies: readonly BodySpec[]): void {
    this.send({ type: "begin", name, fps, bodies: [...bodies] });
  }

  /** `poses: Nbodies·7`; `state`: the 16 measured joints, optional. */
  frame(step: number, poses: ArrayLike<number>, state?: ArrayLike<number>): void {
    const message: LiveMessage = { type: "frame", step, poses: Array.from(poses) };
    if (state !== undefined) message.state = Array.from(state);
    this.send(message);
  }

  end(success?: boolean): void {
    this.send(success === undefined ? { type: "end" } : { type: "end", success });
  }

  /** Close the connection; resolves once closed. */
  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.close();
    });
  }

  private send(message: LiveMessage): void {
    if (this.socket.readyState !== WebSocket.OPEN) {
      throw new DuetError(`live viewer ${this.url}: the connection is closed`);
    }
    this.socket.send(JSON.stringify(message));
  }
}

function liveUrl(url: string): string {
  const u = new URL(url);
  if (u.protocol === "http:") u.protocol = "ws:";
  if (u.protocol === "https:") u.protocol = "wss:";
  if (u.pathname === "/" || u.pathname === "") u.pathname = LIVE_PATH;
  return u.toString();
}

/**
 * A rollout step hook (runEpisode's `onStep`) that streams a SimEnv episode to a viewer: `begin` with the bodies at the
 * episode's first step, then every step's poses and measured joints; `end` when the env says done.
 */
export function liveStepHook(client: LiveClient, env: SimEnv, name: string): StepHook {
  return (step, _observation, _action, result) => {
    if (step === 0) client.begin(name, env.controlHz, env.world.specs);
    client.frame(step + 1, env.world.bodyPoses(), result.observation.state);
    if (result.done) client.end(result.success);
  };
}
