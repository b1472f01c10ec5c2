// runner/replay: what a run leaves for the viewer — replay files (poses per step, optionally the chunks a policy
// considered) and the live feed of a running episode to `duet view`.
export { LIVE_PATH, LiveClient, liveMessageSchema, liveStepHook } from "./live.ts";
export type { LiveClientOptions, LiveMessage } from "./live.ts";
export { loadReplayWithChunks, replayChunkSchema, replayWithChunksSchema } from "./replay-chunks.ts";
export type { ReplayChunk, ReplayWithChunks } from "./replay-chunks.ts";
export { REPLAY_VERSION, ReplayRecorder, loadReplay, replaySchema } from "./replay-file.ts";
export type { Replay } from "./replay-file.ts";
