// Import direction and cycles (see docs/design.md, "Layers and the direction of imports").
// Each layer lists the layers it may import; anything else under src/ is forbidden.
const allowed = {
  core: [],
  nn: ["core"],
  runtime: ["core"],
  data: ["core"],
  sim: ["core"],
  bridge: ["core"],
  encoders: ["core", "nn", "runtime"],
  policy: ["core", "nn", "runtime", "encoders"],
  train: ["core", "nn", "runtime", "data", "encoders", "policy"],
  runner: ["core", "nn", "runtime", "data", "sim", "bridge", "encoders", "policy"],
  viewer: ["core", "sim", "runner", "data"],
  cli: ["core", "nn", "runtime", "data", "sim", "bridge", "encoders", "policy", "train", "runner", "viewer"],
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
    // bench/ and scripts/ are checked too (cycles, onnxruntime and roslib only through src/runtime and src/bridge):
    // they may use any layer and the tests' fixtures (bench/bridge.ts times the protocol-faithful rosbridge server);
    // the product never uses them
    name: "src-not-importing-tools",
    severity: "error",
    comment: "src/ may not import bench/, scripts/ or tests/",
    from: { path: "^src/" },
    to: { path: "^(bench|scripts|tests)/" },
  },
  {
    name: "onnxruntime-only-in-runtime",
    severity: "error",
    comment: "src/runtime is the only module that imports onnxruntime-node",
    from: { path: "^(src/(?!runtime/)|bench/|scripts/)" },
    to: { path: "onnxruntime-node" },
  },
  {
    name: "roslib-only-in-bridge",
    severity: "error",
    from: { path: "^(src/(?!bridge/)|bench/|scripts/)" },
    to: { path: "roslib" },
  },
  {
    // the queue's engine and its Redis client stay behind src/runner/queue (the CLI may name BullMQ's own types)
    name: "bullmq-only-in-queue",
    severity: "error",
    comment: "only src/runner/queue (and src/cli) import bullmq; only src/runner/queue imports ioredis",
    from: { path: "^(src/(?!runner/queue/|cli/)|bench/|scripts/)" },
    to: { path: "node_modules/(bullmq|ioredis)/" },
  },
  {
    name: "ioredis-only-in-queue",
    severity: "error",
    from: { path: "^src/cli/" },
    to: { path: "node_modules/ioredis/" },
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
