// sim/render: headless CPU rasterizer cameras over the three.js scene graph.
export { Rasterizer } from "./Rasterizer.ts";
export type { RasterizerOptions } from "./Rasterizer.ts";
export { linearToSrgb, channelToByte } from "./colorSpace.ts";
