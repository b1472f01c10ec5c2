// The viewer's server without a browser: sources (replay file, run folder, dataset), bad paths, port in use,
// the live stream from a LiveClient to a page socket, chunk paths.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { WebSocket } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { ArmKinematics, createEnv, loadScenario } from "../../src/sim/index.ts";
import { LiveClient, liveStepHook, loadReplayWithChunks } from "../../src/runner/replay/index.ts";
import { startViewer, type ServerMessage, type ViewerEpisode, type ViewerServer } from "../../src/viewer/index.ts";
import { SCENARIO_FILE, fixtureAction, tempDir, writeFixtureReplay } from "./fixtures.ts";

const servers: ViewerServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Parameters<typeof startViewer>[0]): Promise<{ server: ViewerServer; logs: string[] }> {
  const logs: string[] = [];
  const server = await startViewer({ port: 0, scenario: SCENARIO_FILE, log: (l) => logs.push(l), ...options });
  servers.push(server);
  return { server, logs };
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("duet view server", () => {
  it("serves the page, its bundled script and the episodes of a run folder, with chunk paths by FK", async () => {
    const dir = tempDir("run");
    writeFixtureReplay({ steps: 4, seed: 2, dir, chunks: true });
    writeFixtureReplay({ steps: 3, seed: 10, dir });
    const { server } = await start({ source: dir });
    const html = await (await fetch(server.url)).text();
    expect(html).toContain('<script type="module" src="/app.js">');
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/); // nothing from outside
    const js = await fetch(`${server.url}app.js`);
    expect(js.headers.get("content-type")).toContain("javascript");
    const script = await js.text();
    expect(script).toContain("WebGLRenderer");
    expect(script).not.toMatch(/from\s*["']https?:/);
    const { body: source } = await getJson(`${server.url}api/source`);
    expect(source.kind).toBe("replay-folder");
    expect((source.episodes as { id: string }[]).map((e) => e.id)).toEqual(["episode_2", "episode_10"]);
    const { body } = await getJson(`${server.url}api/episode/episode_2`);
    const ep = body as unknown as ViewerEpisode;
    expect([ep.poses.length, ep.joints.length, ep.actions.length]).toEqual([5, 5, 4]);
    expect(ep.chunks).toHaveLength(1);
    expect(ep.chunks[0]!.paths.map((p) => `${p.arm}${p.candidate}${p.executed}`)).toEqual([
      "left0true",
      "right0true",
      "left1false",
      "right1false",
    ]);
    // the executed left path's first point is the TCP of the chunk's first left joint targets
    const replay = loadReplayWithChunks(join(dir, "episode_2.json"));
    const kin = new ArmKinematics(loadScenario(SCENARIO_FILE).robotDescription, "left");
    kin.forward(replay.chunks![0]!.candidates[0]!.slice(0, 7));
    expect(ep.chunks[0]!.paths[0]!.points.slice(0, 3)).toEqual([kin.tcp[9], kin.tcp[10], kin.tcp[11]]);
  });

  it("reports a missing path in the terminal log and to the page, and keeps serving", async () => {
    const missing = join(tempDir("missing"), "runs", "nope");
    const { server, logs } = await start({ source: missing });
    expect(server.sourceError).toContain(`${missing}: no such file or folder`);
    expect(logs).toEqual([`duet view: ${server.sourceError}`]);
    const { body } = await getJson(`${server.url}api/source`);
    expect(body.error).toBe(server.sourceError);
    const ep = await getJson(`${server.url}api/episode/episode_1`);
    expect([ep.status, ep.body.error]).toEqual([404, server.sourceError]);
  });

  it("reports a corrupt replay with the file and the bad fields", async () => {
    const dir = tempDir("corrupt");
    const file = join(dir, "episode_1.json");
    writeFileSync(file, JSON.stringify({ version: 1, scenario: "x", fps: -1, bodies: [], poses: "no" }));
    const { server } = await start({ source: file });
    expect(server.sourceError).toContain(file);
    for (const field of ["fps", "poses", "states", "actions", "outcome"]) expect(server.sourceError).toContain(field);
    // in a run folder, the corrupt episode's error comes when it is requested — in the page and the log
    const good = writeFixtureReplay({ steps: 2, seed: 0, dir });
    expect(good).toBe(join(dir, "episode_0.json"));
    const run = await start({ source: dir });
    const res = await getJson(`${run.server.url}api/episode/episode_1`);
    expect(res.status).toBe(422);
    expect(res.body.error).toContain(`${file}: `);
    expect(run.logs.join("\n")).toContain(`/api/episode/episode_1: ${file}`);
    expect((await getJson(`${run.server.url}api/episode/episode_0`)).status).toBe(200);
  });

  it("refuses a folder that is neither a run nor a dataset", async () => {
    const dir = tempDir("empty");
    const { server } = await start({ source: dir });
    expect(server.sourceError).toBe(
      `${dir}: neither a run folder (no episode_<seed>.json replays) nor a dataset (no meta/info.json); ` +
        `record replays with \`duet sim --replay ${dir}\``,
    );
  });

  it("says when the port is in use and what to do", async () => {
    const { server } = await start({});
    await expect(startViewer({ port: server.port, log: () => {} })).rejects.toThrow(
      `port ${server.port} on 127.0.0.1 is already in use (another \`duet view\`?); choose another with --port ${server.port + 1}, or --port 0 for any free port`,
    );
  });

  it("relays a live run from LiveClient to pages, and reports bad live messages", async () => {
    const { server, logs } = await start({});
    const page = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const received: ServerMessage[] = [];
    page.on("message", (d) => received.push(JSON.parse(String(d)) as ServerMessage));
    await new Promise((r) => page.once("open", r));
    const replay = loadReplayWithChunks(writeFixtureReplay({ steps: 2 }));
    const client = await LiveClient.connect(server.url);
    client.begin("fixture", 10, replay.bodies);
    client.frame(0, replay.poses[0]!, replay.states[0]);
    client.end(true);
    const raw = new WebSocket(`ws://127.0.0.1:${server.port}/live`);
    await new Promise((r) => raw.once("open", r));
    raw.send(JSON.stringify({ type: "frame", step: -1, poses: [] }));
    for (let i = 0; i < 100 && received.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received.map((m) => m.type)).toEqual(["live-begin", "live-frame", "live-end", "error"]);
    expect(received[1]).toEqual({ type: "live-frame", step: 0, poses: replay.poses[0], state: replay.states[0] });
    expect((received[3] as { message: string }).message).toContain("step: expected >= 0, received -1");
    expect(logs.join("\n")).toContain("step: expected >= 0, received -1");
    await client.close();
    raw.close();
    page.close();
    expect(() => client.frame(1, replay.poses[1]!)).toThrow("the connection is closed");
  });

  it("streams a rollout through liveStepHook", async () => {
    const { server } = await start({});
    const page = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const received: ServerMessage[] = [];
    page.on("message", (d) => received.push(JSON.parse(String(d)) as ServerMessage));
    await new Promise((r) => page.once("open", r));
    const scenario = loadScenario(SCENARIO_FILE);
    const env = createEnv(scenario, { cameras: false });
    const client = await LiveClient.connect(server.url);
    const hook = liveStepHook(client, env, "fixture seed 1");
    env.reset(1);
    for (let t = 0; t < 3; t++) {
      const action = fixtureAction(scenario, t);
      const obs = env.step(action);
      hook(t, obs.observation, action, obs);
    }
    for (let i = 0; i < 100 && received.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received.map((m) => m.type)).toEqual(["live-begin", "live-frame", "live-frame", "live-frame"]);
    expect(received.slice(1).map((m) => (m as { step: number }).step)).toEqual([1, 2, 3]);
    expect((received[3] as { poses: number[] }).poses).toEqual(Array.from(env.world.bodyPoses()));
    await client.close();
    page.close();
  });

  it("LiveClient fails clearly when no viewer listens", async () => {
    const { server } = await start({});
    const port = server.port;
    await server.close();
    servers.length = 0;
    await expect(LiveClient.connect(`http://127.0.0.1:${port}`)).rejects.toThrow(
      `live viewer ws://127.0.0.1:${port}/live: cannot connect`,
    );
  });
});
