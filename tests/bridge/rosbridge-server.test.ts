// The test server reproduces the real rosbridge's quirks (see rosbridge-server.ts); these tests pin them down.
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { RosbridgeTestServer } from "./rosbridge-server.ts";
import { waitFor } from "./wait.ts";

let server: RosbridgeTestServer | undefined;
afterEach(async () => {
  await server?.kill();
  server = undefined;
});

async function client(url: string): Promise<{ ws: WebSocket; inbox: unknown[]; closed: () => boolean }> {
  const ws = new WebSocket(url);
  const inbox: unknown[] = [];
  let closed = false;
  ws.on("message", (d) => inbox.push(JSON.parse(d.toString())));
  ws.on("close", () => (closed = true));
  await new Promise((r) => ws.once("open", r));
  return { ws, inbox, closed: () => closed };
}

describe("rosbridge test server", () => {
  it("a bare JSON number kills a ROS 1 connection", async () => {
    server = await RosbridgeTestServer.start({ rosVersion: 1 });
    const c = await client(server.url);
    c.ws.send("42");
    await waitFor("connection closed", c.closed, 2000);
    expect(server.log[0]).toMatch(/'int' object has no attribute 'get'/);
  });

  it("a bare JSON number is only logged by a ROS 2 server", async () => {
    server = await RosbridgeTestServer.start({ rosVersion: 2 });
    const c = await client(server.url);
    c.ws.send("42");
    c.ws.send(JSON.stringify({ op: "call_service", id: "s1", service: "/nope", args: {} }));
    await waitFor("service response", () => c.inbox.length === 1, 2000);
    expect(c.closed()).toBe(false);
    expect(server.log).toEqual(["[client 1] Received a message without an op"]);
    expect(c.inbox[0]).toEqual({
      op: "service_response",
      id: "s1",
      service: "/nope",
      values: "Service /nope does not exist",
      result: false,
    });
    c.ws.close();
  });

  it("drops bad publishes silently: the error is only in the server's log", async () => {
    server = await RosbridgeTestServer.start({ rosVersion: 2 });
    const pub = await client(server.url);
    const sub = await client(server.url);
    sub.ws.send(JSON.stringify({ op: "subscribe", topic: "/cmd", type: "std_msgs/Float64MultiArray" }));
    pub.ws.send(JSON.stringify({ op: "publish", topic: "/cmd", msg: { data: [1] } })); // not advertised
    pub.ws.send(JSON.stringify({ op: "advertise", topic: "/cmd", type: "std_msgs/Float64MultiArray" }));
    pub.ws.send(JSON.stringify({ op: "publish", topic: "/cmd", msg: { data: [1, null] } })); // NaN serialises as null
    pub.ws.send(JSON.stringify({ op: "publish", topic: "/cmd", msg: { data: [1, 2] } }));
    await waitFor("good message delivered", () => sub.inbox.length === 1, 2000);
    expect(sub.inbox).toEqual([{ op: "publish", topic: "/cmd", msg: { data: [1, 2] } }]);
    expect(pub.inbox).toEqual([]);
    expect(server.log).toHaveLength(2);
    expect(server.log[0]).toContain("not yet advertised");
    expect(server.log[1]).toContain("data must be float64[] — dropped");
    pub.ws.close();
    sub.ws.close();
  });

  it("std_msgs/String as rosbridge 0.11.17 did: a missing data arrives empty, a number is dropped silently", async () => {
    server = await RosbridgeTestServer.start({ rosVersion: 1 });
    const heard: unknown[] = [];
    server.onTopic("/duet/instruction", (m) => heard.push(m));
    const pub = await client(server.url);
    const sub = await client(server.url);
    sub.ws.send(JSON.stringify({ op: "subscribe", topic: "/duet/instruction", type: "std_msgs/String" }));
    pub.ws.send(JSON.stringify({ op: "advertise", topic: "/duet/instruction", type: "std_msgs/String" }));
    for (const msg of [{ data: "unscrew the cap" }, { data: 5 }, {}])
      pub.ws.send(JSON.stringify({ op: "publish", topic: "/duet/instruction", msg }));
    await waitFor("two messages delivered", () => sub.inbox.length === 2, 2000);
    const want = [{ data: "unscrew the cap" }, { data: "" }];
    expect(sub.inbox).toEqual(want.map((msg) => ({ op: "publish", topic: "/duet/instruction", msg })));
    expect(heard).toEqual(want);
    expect(pub.inbox).toEqual([]);
    expect(server.log).toEqual([
      "[client 1] publish /duet/instruction (std_msgs/String): data must be string — dropped",
    ]);
    pub.ws.close();
    sub.ws.close();
  });

  it("throttles subscriptions by throttle_rate and answers ROS 2 action goals", async () => {
    server = await RosbridgeTestServer.start({ rosVersion: 2 });
    const c = await client(server.url);
    c.ws.send(JSON.stringify({ op: "subscribe", topic: "/fast", type: "std_msgs/Empty", throttle_rate: 10_000 }));
    server.advertiseAction("/fjt", (args) => ({ got: args.x }));
    c.ws.send(
      JSON.stringify({
        op: "send_action_goal",
        id: "g1",
        action: "/fjt",
        action_type: "control_msgs/action/FollowJointTrajectory",
        args: { x: 3 },
      }),
    );
    await waitFor("action result", () => c.inbox.length === 1, 2000);
    for (let i = 0; i < 5; i++) server.publish("/fast", {});
    await waitFor("one throttled message", () => c.inbox.length === 2, 2000);
    await new Promise((r) => setTimeout(r, 50));
    expect(c.inbox).toEqual([
      { op: "action_result", id: "g1", action: "/fjt", values: { got: 3 }, status: 4, result: true },
      { op: "publish", topic: "/fast", msg: {} },
    ]);
    c.ws.close();
  });

  it("freeze holds every frame (in, out, pings, new connections) and delivers all of it on resume", async () => {
    server = await RosbridgeTestServer.start({ rosVersion: 1 });
    const srv = server;
    const pub = await client(server.url);
    const sub = await client(server.url);
    const heard: unknown[] = [];
    server.onTopic("/cmd", (m) => heard.push(m));
    sub.ws.send(JSON.stringify({ op: "subscribe", topic: "/cmd", type: "std_msgs/Float64MultiArray" }));
    pub.ws.send(JSON.stringify({ op: "advertise", topic: "/cmd", type: "std_msgs/Float64MultiArray" }));
    await waitFor("subscribed", () => srv.subscribers("/cmd") === 1, 2000);
    server.freeze();
    expect(server.frozen).toBe(true);
    const sentAt = performance.now();
    pub.ws.send(JSON.stringify({ op: "publish", topic: "/cmd", msg: { data: [7] } }));
    server.publish("/cmd", { data: [8] }); // a ROS node's message to the subscribed client
    let pong = false;
    pub.ws.on("pong", () => (pong = true));
    pub.ws.ping();
    let opened = false;
    const late = new WebSocket(server.url);
    late.on("open", () => (opened = true));
    await new Promise((r) => setTimeout(r, 300));
    expect([heard, sub.inbox, pong, opened, server.received]).toEqual([[], [], false, false, []]);
    const resumedAt = performance.now();
    server.resume();
    await waitFor("everything delivered", () => sub.inbox.length === 2 && pong && opened, 2000);
    expect(heard).toEqual([{ data: [7] }]);
    expect(sub.inbox).toEqual([
      { op: "publish", topic: "/cmd", msg: { data: [8] } },
      { op: "publish", topic: "/cmd", msg: { data: [7] } },
    ]);
    const r = server.received[0];
    expect(r?.sentAt).toBeGreaterThanOrEqual(sentAt);
    expect(r?.sentAt).toBeLessThan(resumedAt);
    expect(r?.at).toBeGreaterThanOrEqual(resumedAt);
    for (const c of [pub.ws, sub.ws, late]) c.close();
  });

  it("late subscription: before subscribeDelayMs a new publisher's messages are lost (ROS 2) or replayed (ROS 1)", async () => {
    for (const rosVersion of [2, 1] as const) {
      server = await RosbridgeTestServer.start({ rosVersion, subscribeDelayMs: 200 });
      const heard: { m: unknown; at: number }[] = [];
      server.onTopic("/cmd", (m) => heard.push({ m, at: performance.now() }));
      const pub = await client(server.url);
      pub.ws.send(JSON.stringify({ op: "advertise", topic: "/cmd", type: "std_msgs/Float64MultiArray" }));
      pub.ws.send(JSON.stringify({ op: "publish", topic: "/cmd", msg: { data: [1] } }));
      await new Promise((r) => setTimeout(r, 300));
      pub.ws.send(JSON.stringify({ op: "publish", topic: "/cmd", msg: { data: [2] } }));
      const srv = server;
      await waitFor("second message", () => heard.some((h) => (h.m as { data: number[] }).data[0] === 2), 2000);
      if (rosVersion === 2) {
        expect(heard.map((h) => h.m)).toEqual([{ data: [2] }]);
        expect(srv.lateSubscription).toEqual({ dropped: 1, replayed: 0 });
      } else {
        expect(heard.map((h) => h.m)).toEqual([{ data: [1] }, { data: [2] }]);
        expect(srv.lateSubscription).toEqual({ dropped: 0, replayed: 1 });
      }
      pub.ws.close();
      await server.kill();
      server = undefined;
    }
  });
});
