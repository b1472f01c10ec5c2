// The websocket under roslib: the `ws` package with a ping/pong heartbeat, a connect timeout, and a send that
// drops (and counts) instead of buffering when the socket is not open. Incoming frames are narrowed before roslib
// sees them: a frame that is not a JSON object with a string `op` is reported through `onMalformed` and dropped.
import { AbstractTransport, type ITransportFactory, type RosbridgeMessage } from "roslib";
import { WebSocket, type RawData } from "ws";

/** Options of the websocket transport. */
export interface TransportOptions {
  /** Ping period (ms); no pong for two periods terminates the socket (→ roslib "close"). */
  heartbeatMs: number;
  /** Terminate a socket that has not opened after this long (ms). */
  connectTimeoutMs: number;
  /** Called with a one-line description of each malformed incoming frame. */
  onMalformed: (line: string) => void;
}

/** A roslib transport over one `ws` socket. */
export class WsTransport extends AbstractTransport {
  /** Messages not sent because the socket was not open (never queued). */
  dropped = 0;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private lastPong = 0;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: TransportOptions,
  ) {
    super();
    socket.on("open", () => {
      clearTimeout(this.connectTimer);
      this.lastPong = performance.now();
      this.heartbeat = setInterval(() => this.beat(), options.heartbeatMs);
      this.emit("open", { type: "open" });
    });
    socket.on("pong", () => (this.lastPong = performance.now()));
    socket.on("close", (code, reason) => {
      this.stopTimers();
      this.emit("close", { type: "close", code, reason: reason.toString() });
    });
    socket.on("error", (err) => this.emit("error", err));
    socket.on("message", (data, isBinary) => this.receive(data, isBinary));
    this.connectTimer = setTimeout(() => {
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    }, options.connectTimeoutMs);
  }

  private beat(): void {
    if (performance.now() - this.lastPong > 2 * this.options.heartbeatMs) {
      this.socket.terminate();
      return;
    }
    if (this.socket.readyState === WebSocket.OPEN) this.socket.ping();
  }

  private stopTimers(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.connectTimer);
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.options.onMalformed("binary frame (duet asks rosbridge for JSON only)");
      return;
    }
    const text = data.toString();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.options.onMalformed(`not JSON: ${text.slice(0, 80)}`);
      return;
    }
    if (parsed === null || typeof parsed !== "object" || typeof (parsed as { op?: unknown }).op !== "string") {
      this.options.onMalformed(`not a rosbridge message (no string "op"): ${text.slice(0, 80)}`);
      return;
    }
    const msg = parsed as { op: string; id?: unknown };
    if (msg.op === "service_response" && typeof msg.id !== "string") {
      this.options.onMalformed("service_response without id");
      return;
    }
    this.handleRawMessage(parsed);
  }

  send(message: RosbridgeMessage): void {
    if (this.socket.readyState !== WebSocket.OPEN) {
      this.dropped++;
      return;
    }
    this.socket.send(JSON.stringify(message));
  }
  close(): void {
    this.stopTimers();
    this.socket.terminate();
  }
  isConnecting(): boolean {
    return this.socket.readyState === WebSocket.CONNECTING;
  }
  isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }
  isClosing(): boolean {
    return this.socket.readyState === WebSocket.CLOSING;
  }
  isClosed(): boolean {
    return this.socket.readyState === WebSocket.CLOSED;
  }
}

/** A roslib transport factory that opens a `ws` socket per connection. */
export function wsTransportFactory(options: TransportOptions): ITransportFactory {
  return (url: string) => Promise.resolve(new WsTransport(new WebSocket(url), options));
}
