// Incoming ROS messages as they arrive through rosbridge (JSON), narrowed from `unknown` at the boundary.
// A guard returns the message typed, or a list of problems that ends up in one log line.
import { stampToSeconds } from "./stamp.ts";

/** sensor_msgs/JointState, the fields duet reads. `position[i]` belongs to `name[i]`; order is not guaranteed. */
export interface JointStateMsg {
  /** Stamp in seconds, undefined when the header has no readable stamp. */
  stamp: number | undefined;
  name: readonly string[];
  position: readonly number[];
}

/** sensor_msgs/CompressedImage: `data` is base64 (rosbridge's encoding of uint8[]) or a number array. */
export interface CompressedImageMsg {
  stamp: number | undefined;
  format: string;
  data: Uint8Array;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function headerStamp(msg: Record<string, unknown>): number | undefined {
  return isObject(msg.header) ? stampToSeconds(msg.header.stamp) : undefined;
}

/** Narrow a JointState; problems are returned as human-readable strings (never thrown). */
export function parseJointState(msg: unknown): JointStateMsg | { problems: string[] } {
  if (!isObject(msg)) return { problems: [`expected a sensor_msgs/JointState object, received ${typeof msg}`] };
  const problems: string[] = [];
  const { name, position } = msg;
  if (!Array.isArray(name) || !name.every((n) => typeof n === "string"))
    problems.push("name: expected an array of strings");
  if (!Array.isArray(position)) problems.push("position: expected an array of numbers");
  else {
    const bad = position.findIndex((p) => typeof p !== "number" || !Number.isFinite(p));
    if (bad >= 0) problems.push(`position.${bad}: expected a finite number, received ${JSON.stringify(position[bad])}`);
  }
  if (Array.isArray(name) && Array.isArray(position) && name.length !== position.length)
    problems.push(`position: expected ${name.length} values (one per name), received ${position.length}`);
  if (problems.length > 0) return { problems };
  return { stamp: headerStamp(msg), name: name as string[], position: position as number[] };
}

/** Narrow a CompressedImage, decoding base64 data. */
export function parseCompressedImage(msg: unknown): CompressedImageMsg | { problems: string[] } {
  if (!isObject(msg)) return { problems: [`expected a sensor_msgs/CompressedImage object, received ${typeof msg}`] };
  const problems: string[] = [];
  const format = typeof msg.format === "string" ? msg.format : "";
  let data: Uint8Array | undefined;
  if (typeof msg.data === "string") data = Buffer.from(msg.data, "base64");
  else if (Array.isArray(msg.data) && msg.data.every((b) => typeof b === "number")) data = Uint8Array.from(msg.data);
  else problems.push("data: expected a base64 string or an array of bytes");
  if (data !== undefined && data.length === 0) problems.push("data: empty");
  if (problems.length > 0 || data === undefined) return { problems };
  return { stamp: headerStamp(msg), format, data };
}

/** std_msgs/String: its `data` (an instruction on the interface's instruction topic). */
export function parseStringMessage(msg: unknown): { data: string } | { problems: string[] } {
  if (!isObject(msg)) return { problems: [`expected a std_msgs/String object, received ${typeof msg}`] };
  if (typeof msg.data !== "string")
    return { problems: [`data: expected a string, received ${JSON.stringify(msg.data)}`] };
  return { data: msg.data };
}

export function hasProblems<T>(r: T | { problems: string[] }): r is { problems: string[] } {
  return isObject(r) && Array.isArray((r as { problems?: unknown }).problems);
}
