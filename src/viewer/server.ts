// `duet view`'s server: node:http on 127.0.0.1 serving the page, its script (bundled here), episodes as JSON and
// camera frames as PNG; a websocket for pages (/ws: live frames and teleoperation) and one for producers (/live).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { DuetError, parseWith } from "../core/index.ts";
import { LIVE_PATH, liveMessageSchema, type LiveMessage } from "../runner/replay/index.ts";
import { pageScript } from "./bundle.ts";
import { PAGE_HTML } from "./html.ts";
import { pageMessageSchema, type ServerMessage } from "./protocol.ts";
import { ViewerSource } from "./source.ts";
import { TeleopSession, type TeleopOptions } from "./teleop.ts";

/** Options for `startViewer`. */
export interface ViewerOptions {
  /** Run or dataset to show (replay file, folder of replays, dataset folder). Default: none (live / teleop only). */
  source?: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 8080. */
  port?: number;
  /** Scenario file for re-simulating dataset episodes and for chunk paths (see SourceOptions). */
  scenario?: string;
  /** Teleoperate and record into a dataset. Default: off. */
  teleop?: TeleopOptions;
  /** Where the server reports problems (a bad source, a bad message). Default: stderr. */
  log?: (line: string) => void;
  /** A source that cannot be opened rejects (with its DuetError) instead of serving a page that shows the error.
   * Default false. */
  requireSource?: boolean;
}

/** A running viewer. */
export interface ViewerServer {
  readonly url: string;
  readonly port: number;
  /** Why the source could not be opened (also shown in the page), or null. */
  readonly sourceError: string | null;
  close(): Promise<void>;
}

/** Page-visible state of the source: GET /api/source. */
export interface SourceInfo {
  path: string | null;
  kind: string | null;
  episodes: { id: string; label: string }[];
  error: string | null;
  teleop: boolean;
}

/** Start the server; rejects with a DuetError when the port is taken. A bad source does not stop it (see sourceError). */
export async function startViewer(options: ViewerOptions = {}): Promise<ViewerServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let source: ViewerSource | null = null;
  let sourceError: string | null = null;
  if (options.source !== undefined) {
    try {
      source = await ViewerSource.open(
        options.source,
        options.scenario === undefined ? {} : { scenario: options.scenario },
      );
    } catch (e) {
      if (options.requireSource) throw e;
      sourceError = message(e);
      log(`duet view: ${sourceError}`);
    }
  }
  const pages = new Set<WebSocket>();
  const broadcast = (m: ServerMessage) => {
    const text = JSON.stringify(m);
    for (const p of pages) if (p.readyState === WebSocket.OPEN) p.send(text);
  };
  const teleop = options.teleop ? await TeleopSession.open(options.teleop, broadcast) : null;
  let lastLiveBegin: ServerMessage | null = null;
  const info: SourceInfo = {
    path: options.source ?? null,
    kind: source?.kind ?? null,
    episodes: source?.entries ?? [],
    error: sourceError,
    teleop: teleop !== null,
  };

  const server = createServer((req, res) => {
    handle(req, res, source, info).catch((e: unknown) => {
      const text = message(e);
      log(`duet view: ${req.url}: ${text}`);
      if (!res.headersSent) sendJson(res, e instanceof DuetError ? 422 : 500, { error: text });
      else res.end();
    });
  });
  const pageSockets = new WebSocketServer({ noServer: true });
  const liveSockets = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const wss = path === "/ws" ? pageSockets : path === LIVE_PATH ? liveSockets : null;
    if (!wss) {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  });

  pageSockets.on("connection", (ws) => {
    pages.add(ws);
    ws.on("close", () => pages.delete(ws));
    if (teleop) ws.send(JSON.stringify(teleop.beginMessage()));
    else if (lastLiveBegin) ws.send(JSON.stringify(lastLiveBegin));
    ws.on("message", (data: RawData) => {
      if (!teleop) return;
      try {
        const m = parseWith(pageMessageSchema, JSON.parse(String(data)), "page message");
        if (m.type === "teleop-target") {
          teleop.setTarget(m.arm, { position: m.position, quaternion: m.quaternion, gripper: m.gripper });
          teleop.start();
        } else if (m.type === "teleop-save") teleop.save();
        else teleop.discard();
      } catch (e) {
        const text = message(e);
        log(`duet view: ${text}`);
        ws.send(JSON.stringify({ type: "error", message: text } satisfies ServerMessage));
      }
    });
  });

  liveSockets.on("connection", (ws) => {
    ws.on("message", (data: RawData) => {
      let m: LiveMessage;
      try {
        m = parseWith(liveMessageSchema, JSON.parse(String(data)), "live message");
      } catch (e) {
        const text = message(e);
        log(`duet view: ${text}`);
        broadcast({ type: "error", message: text });
        return;
      }
      if (m.type === "begin") {
        lastLiveBegin = { type: "live-begin", name: m.name, fps: m.fps, bodies: m.bodies };
        broadcast(lastLiveBegin);
      } else if (m.type === "frame") {
        broadcast(
          m.state === undefined
            ? { type: "live-frame", step: m.step, poses: m.poses }
            : { type: "live-frame", step: m.step, poses: m.poses, state: m.state },
        );
      } else broadcast(m.success === undefined ? { type: "live-end" } : { type: "live-end", success: m.success });
    });
  });

  const port = options.port ?? 8080;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      teleop?.close();
      reject(
        e.code === "EADDRINUSE"
          ? new DuetError(
              `port ${port} on 127.0.0.1 is already in use (another \`duet view\`?); ` +
                `choose another with --port ${port + 1}, or --port 0 for any free port`,
            )
          : e.code === "EACCES"
            ? new DuetError(`port ${port}: permission denied; choose a port above 1023 with --port`)
            : e,
      );
    });
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  // Bundle now so the first page load is fast and a broken bundle is reported at start.
  await pageScript();
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    sourceError,
    close: () => close(server, [pageSockets, liveSockets], teleop),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, source: ViewerSource | null, info: SourceInfo) {
  const url = new URL(req.url ?? "/", "http://x");
  const parts = url.pathname
    .split("/")
    .filter((p) => p !== "")
    .map(decodeURIComponent);
  if (req.method !== "GET") return sendJson(res, 405, { error: `${req.method} not allowed` });
  if (parts.length === 0) return send(res, 200, "text/html; charset=utf-8", PAGE_HTML);
  if (parts[0] === "app.js" && parts.length === 1) {
    return send(res, 200, "text/javascript; charset=utf-8", await pageScript());
  }
  if (parts[0] === "api") {
    if (parts[1] === "source" && parts.length === 2) return sendJson(res, 200, info);
    if (source === null) {
      return sendJson(res, 404, { error: info.error ?? "no run or dataset given (duet view PATH)" });
    }
    if (parts[1] === "episode" && parts.length === 3) return sendJson(res, 200, await source.episode(parts[2]!));
    if (parts[1] === "frame" && parts.length === 5) {
      const png = await source.framePng(parts[2]!, parts[3]!, Number(parts[4]));
      return send(res, 200, "image/png", png);
    }
  }
  if (parts[0] === "favicon.ico") return send(res, 204, "image/x-icon", "");
  return sendJson(res, 404, { error: `not found: ${url.pathname}` });
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, "application/json", JSON.stringify(value));
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function close(server: Server, sockets: WebSocketServer[], teleop: TeleopSession | null): Promise<void> {
  teleop?.close();
  for (const wss of sockets) {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  }
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
