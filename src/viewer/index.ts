// viewer: the browser page (three.js WebGLRenderer over the simulator's scene code) and its server — episode replay,
// live frames, teleoperation recorded into datasets — plus pictures of episodes rendered by the CPU rasterizer.
export { startViewer } from "./server.ts";
export type { ViewerOptions, ViewerServer, SourceInfo } from "./server.ts";
export { ViewerSource } from "./source.ts";
export type { EpisodeEntry, SourceKind, SourceOptions } from "./source.ts";
export { TeleopSession } from "./teleop.ts";
export type { TeleopOptions } from "./teleop.ts";
export { chunkPaths, episodeFromReplay } from "./episode.ts";
export type { ViewerEpisode, ChunkPath, ChunkPaths, EpisodeCamera } from "./episode.ts";
export { EpisodeRenderer, episodeGif, episodePng, gifFrameIndices } from "./media.ts";
export type { MediaOptions, PosedEpisode } from "./media.ts";
export { pageScript } from "./bundle.ts";
export type { PageMessage, ServerMessage, TeleopTarget } from "./protocol.ts";
export { VIEW_POSITION, VIEW_TARGET, VIEW_FOV } from "./viewpoint.ts";
