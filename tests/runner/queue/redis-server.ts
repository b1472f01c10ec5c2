// A real redis-server for the queue's tests and benchmark, on a free port of 127.0.0.1, and real `duet worker`
// processes on it. Debian's redis-server (`.ci/run` installs it through scripts/ensure-redis.sh).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REDIS = process.env["DUET_REDIS_SERVER"] ?? "redis-server";

/** A running redis-server. */
export interface RedisServer {
  url: string;
  port: number;
  /** Stop it gracefully (SIGTERM: an append-only file is flushed first) and wait until it has exited. */
  stop(): Promise<void>;
  /** Start it again on the same port and folder (its data back from the append-only file, when it keeps one). */
  restart(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether a PING over TCP answers PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("error", () => resolve(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => {
      resolve(d.toString().startsWith("+PONG"));
      socket.destroy();
    });
  });
}

/**
 * Start redis-server on a free port. `persist`: keep an append-only file (fsync'd every second, and at a graceful
 * stop) in a fresh folder, so a restart keeps the data; otherwise nothing is saved.
 */
export async function startRedis(options: { persist?: boolean } = {}): Promise<RedisServer> {
  if (spawnSync(REDIS, ["--version"]).status !== 0) {
    throw new Error(
      `${REDIS} not found: the queue's tests need Redis; install it with \`apt-get install redis-server\` ` +
        "(scripts/ensure-redis.sh does it), or set DUET_REDIS_SERVER to a redis-server binary",
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "duet-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    options.persist ? "yes" : "no",
  ];
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    let log = "";
    const proc = spawn(REDIS, args, { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.on("data", (d: Buffer) => (log += d.toString()));
    proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    child = proc;
    for (let i = 0; i < 200; i++) {
      if (proc.exitCode !== null) throw new Error(`redis-server on port ${port} exited:\n${log}`);
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`redis-server on port ${port} did not answer within 5 s:\n${log}`);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === null || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill("SIGTERM");
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, restart: start };
}

/** A `duet worker` process (in its own process group, so a kill takes the launcher and the command). */
export interface WorkerProcess {
  /** Its stderr so far: a line per seed started and done. */
  log(): string;
  /** Resolves once stderr matches `pattern` (rejects after 60 s, or if it exits first). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** SIGKILL to the whole group, as a machine that dies: nothing is finished or released. */
  kill9(): Promise<void>;
  /** SIGTERM: finish the seed in hand, then exit; resolves with its stdout. */
  stop(): Promise<string>;
}

/** Start `duet worker --queue url …args`. */
export function startWorker(url: string, args: readonly string[] = []): WorkerProcess {
  const child = spawn(process.execPath, ["bin/duet.js", "worker", "--queue", url, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    log: () => stderr,
    waitFor: async (pattern) => {
      for (let waited = 0; waited < 60_000; waited += 25) {
        const m = pattern.exec(stderr);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`duet worker: ${pattern} did not appear; its stderr:\n${stderr}`);
    },
    kill9: async () => {
      process.kill(-(child.pid as number), "SIGKILL");
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      return stdout;
    },
  };
}
