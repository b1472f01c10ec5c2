// The ROS topics that bound the episodes of a robot recording, besides the terminal's keys: std_msgs/Empty messages
// an operator's tool (a foot pedal, a teleoperation GUI) publishes.

/** std_msgs/Empty topics that start, stop (commit) and discard an episode. */
export interface BoundaryTopics {
  start: string;
  stop: string;
  discard: string;
}

/** Boundary topics under a prefix: `<prefix>/start`, `<prefix>/stop`, `<prefix>/discard`. */
export function boundaryTopics(prefix = "/duet/record"): BoundaryTopics {
  const p = prefix.replace(/\/$/, "");
  return { start: `${p}/start`, stop: `${p}/stop`, discard: `${p}/discard` };
}
