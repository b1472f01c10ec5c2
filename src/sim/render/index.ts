// sim/render: headless CPU rasterizer cameras over the three.js scene graph.
export { Rasterizer } from "./rasterizer.ts";
export type { RasterizerOptions } from "./rasterizer.ts";
export { linearToSrgb, channelToByte } from "./color-space.ts";
