// Worker threads started from one bundled ES module instead of through tsx: the entry and the TypeScript it imports
// are compiled by esbuild into a single module once per process, which each worker loads from a data: URL with
// Node's own loader (packages by their resolved file URLs). A tsx worker resolved and loaded every module of the
// graph through tsx's hooks: ≈1 s per worker before its first episode on this 2-core VM, against ≈0.4 s bundled
// (docs/experiments/simulator.md, "Recording with two workers").
import { isBuiltin } from "node:module";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { DuetError } from "../../core/index.ts";

/** Bare imports (packages) stay outside the bundle, as the file URLs Node would load for them from here. */
const packagesByUrl: Plugin = {
  name: "packages-by-url",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      isBuiltin(args.path)
        ? { path: args.path, external: true }
        : { path: import.meta.resolve(args.path), external: true },
    );
  },
};

/** Bundles by entry URL, built once per process. */
const bundles = new Map<string, Promise<URL>>();

/**
 * The module at `entry` (a file URL of a TypeScript file) and everything it imports from this repository, as one ES
 * module in a data: URL. Modules in the graph must not read `import.meta` at load time (it would be the bundle's).
 * A failed build is retried on the next call.
 */
export function workerBundle(entry: URL): Promise<URL> {
  let bundle = bundles.get(entry.href);
  if (bundle === undefined) {
    bundle = build({
      entryPoints: [fileURLToPath(entry)],
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      write: false,
      logLevel: "silent",
      plugins: [packagesByUrl],
    }).then(
      (r) => new URL(`data:text/javascript;base64,${Buffer.from(r.outputFiles[0]!.contents).toString("base64")}`),
      (e: Error) => {
        bundles.delete(entry.href);
        throw new DuetError(`worker threads: bundling ${fileURLToPath(entry)} failed (${e.message})`);
      },
    );
    bundles.set(entry.href, bundle);
  }
  return bundle;
}

/**
 * Start a worker thread running `bundle` (from `workerBundle`) with `workerData`. It gets no `execArgv` of this
 * process: the `--import` preloads (tsx, the SIGINT acknowledgement) are of no use to it.
 */
export function startBundledWorker(bundle: URL, workerData: unknown): Worker {
  return new Worker(bundle, { workerData, execArgv: [] });
}
