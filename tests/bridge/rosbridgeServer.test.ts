// The test server reproduces the real rosbridge's quirks (see rosbridgeServer.ts); these tests pin them down.
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { RosbridgeTestServer } from "./rosbridgeServer.ts";
import { waitFor } from "./harness.ts";

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
});
