// runner/record: the one recorder (a dataset and the episode in progress, committed atomically) and the sources that
// feed it — the simulator's expert or a policy's takeover, and a robot through rosbridge; the viewer's teleoperation
// feeds it too (src/viewer).
export { boundaryTopics } from "./boundary-topics.ts";
export type { BoundaryTopics } from "./boundary-topics.ts";
export { CommandTap, commandTaps } from "./command-tap.ts";
export type { Tap } from "./command-tap.ts";
export { envSpec, rosDatasetSpec, specFromEnv } from "./dataset-spec.ts";
export type { SpecNames } from "./dataset-spec.ts";
export { Recorder } from "./recorder.ts";
export { openRosRecording } from "./ros-recording.ts";
export type { OpenRosRecordingOptions } from "./ros-recording.ts";
export { NO_SEED, RosSource } from "./ros-source.ts";
export type { ActionSource, RosRecordResult, RosRecordState, RosRecordStatus, RosSourceOptions } from "./ros-source.ts";
export { scenarioIdentity } from "./scenario-identity.ts";
export { recordEpisodes, recordJobOf } from "./sim-source.ts";
export type { RecordOptions, RecordProgress, RecordResult } from "./sim-source.ts";
