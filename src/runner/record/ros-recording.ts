// `duet record --source ros`: a robot recording on a real rosbridge connection — the link, a bridge that only
// listens, the dataset, and the source that records from them (ros-source.ts).
import { RosBridge, createClock, createInterfaceLink, type Clock } from "../../bridge/index.ts";
import { commandTaps } from "./command-tap.ts";
import { rosDatasetSpec } from "./dataset-spec.ts";
import { Recorder } from "./recorder.ts";
import { RosSource, type RosSourceOptions } from "./ros-source.ts";

/** Options of `openRosRecording`. */
export interface OpenRosRecordingOptions extends Omit<RosSourceOptions, "bridge" | "link" | "clock" | "recorder"> {
  /** Dataset folder. */
  out: string;
  /** Append to an existing dataset recorded through the same interface (same features). */
  resume?: boolean;
  /** Default: the system clock. */
  clock?: Clock;
}

/** A recording from a real rosbridge connection to `url` into the dataset at `out`. */
export async function openRosRecording(
  url: string,
  options: OpenRosRecordingOptions,
): Promise<{ source: RosSource; bridge: RosBridge }> {
  const spec = options.interface;
  if (options.actions === "commanded") commandTaps(spec); // refuses an interface that cannot be tapped, before any file
  const clock = options.clock ?? createClock();
  const link = createInterfaceLink(spec, url, clock);
  const bridge = new RosBridge(spec, link, clock, { commands: false }); // a recorder only listens
  const recorder = await Recorder.open(options.out, { spec: rosDatasetSpec(spec), resume: options.resume ?? false });
  try {
    return { source: new RosSource({ ...options, bridge, link, clock, recorder }), bridge };
  } catch (e) {
    recorder.close();
    bridge.close();
    throw e;
  }
}
