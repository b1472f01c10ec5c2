// The operator's side of the instruction topic: a client on the other side of rosbridge (an operator's web page, or
// `rostopic pub` through the server) that publishes std_msgs/String instructions, over its own roslib connection.
import { createClock, createRosLink, type RosLink } from "../../../src/bridge/index.ts";
import type { RosbridgeTestServer } from "../../bridge/rosbridge-server.ts";
import { waitFor } from "../../bridge/wait.ts";

/** A connected operator client that publishes on `topic`; `say(text)` waits until duet's subscription exists. */
export interface Operator {
  say(text: string): Promise<void>;
  close(): void;
}

export async function connectOperator(server: RosbridgeTestServer, topic: string): Promise<Operator> {
  const link: RosLink = createRosLink(
    // a long heartbeat: loading a model blocks this thread for longer than two short periods
    { url: server.url, heartbeatMs: 10_000, reconnectInitialMs: 50, reconnectMax: 1000, connectTimeoutMs: 3000 },
    createClock(),
  );
  link.advertise(topic, "std_msgs/String");
  link.start();
  await waitFor("the operator connected", () => link.connected);
  return {
    async say(text: string): Promise<void> {
      // not latched: a message published before duet has subscribed is lost, as on a real server
      await waitFor(`a subscriber of ${topic}`, () => server.subscribers(topic) > 0 && link.connected);
      if (!link.publish(topic, "std_msgs/String", { data: text }, link.epoch))
        throw new Error(`the operator could not publish on ${topic}`);
    },
    close: () => link.close(),
  };
}
