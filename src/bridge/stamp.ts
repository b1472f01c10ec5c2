// ROS time stamps: ROS 1 writes {secs, nsecs}, ROS 2 writes {sec, nanosec}. Both are read; each version writes its own.

/** 1 or 2: which ROS the bridge talks to. */
export type RosVersion = 1 | 2;

export type Ros1Stamp = { secs: number; nsecs: number };
export type Ros2Stamp = { sec: number; nanosec: number };

/** Seconds since the epoch from either stamp format; undefined when `stamp` is neither. */
export function stampToSeconds(stamp: unknown): number | undefined {
  if (stamp === null || typeof stamp !== "object") return undefined;
  const s = stamp as Record<string, unknown>;
  if (typeof s.sec === "number" && typeof s.nanosec === "number") return s.sec + s.nanosec * 1e-9;
  if (typeof s.secs === "number" && typeof s.nsecs === "number") return s.secs + s.nsecs * 1e-9;
  return undefined;
}

/** A stamp for `seconds` in the format of `version`. */
export function makeStamp(version: RosVersion, seconds: number): Ros1Stamp | Ros2Stamp {
  const whole = Math.floor(seconds);
  const nanos = Math.min(999_999_999, Math.round((seconds - whole) * 1e9));
  return version === 1 ? { secs: whole, nsecs: nanos } : { sec: whole, nanosec: nanos };
}
