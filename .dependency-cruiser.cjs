// Import direction and cycles (see docs/design.md, "Layers and the direction of imports").
// Each layer lists the layers it may import; anything else under src/ is forbidden.
const allowed = {
  core: [],
  nn: ["core"],
  runtime: ["core"],
  data: ["core"],
  sim: ["core"],
  bridge: ["core"],
  vision: ["core", "nn", "runtime"],
  policy: ["core", "nn", "runtime", "vision"],
  train: ["core", "nn", "runtime", "data", "vision", "policy"],
  runner: ["core", "nn", "runtime", "data", "sim", "bridge", "vision", "policy"],
  viewer: ["core", "sim", "runner", "data"],
  cli: ["core", "nn", "runtime", "data", "sim", "bridge", "vision", "policy", "train", "runner", "viewer"],
};
const layers = Object.keys(allowed);
const forbidden = layers.map((layer) => ({
  name: `${layer}-imports`,
  severity: "error",
  comment: `${layer} may import only: ${[layer, ...allowed[layer]].join(", ")}`,
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(?!(${[layer, ...allowed[layer]].join("|")})/)` },
}));
forbidden.push(
  { name: "no-cycles", severity: "error", from: {}, to: { circular: true } },
  {
    name: "onnxruntime-only-in-runtime",
    severity: "error",
    comment: "src/runtime is the only module that imports onnxruntime-node",
    from: { path: "^src/(?!runtime/)" },
    to: { path: "onnxruntime-node" },
  },
  {
    name: "roslib-only-in-bridge",
    severity: "error",
    from: { path: "^src/(?!bridge/)" },
    to: { path: "roslib" },
  },
);
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
