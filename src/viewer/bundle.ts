// The page's script, bundled from src/viewer/page with esbuild on first request (three.js and the sim's scene code
// included), so the page needs nothing from outside duet's own server.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { DuetError } from "../core/index.ts";

const ENTRY = fileURLToPath(new URL("./page/main.ts", import.meta.url));
let bundle: Promise<string> | null = null;

/** The page script (ES module), built once per process. A failed build is retried on the next call. */
export function pageScript(): Promise<string> {
  if (bundle === null) {
    bundle = build({
      entryPoints: [ENTRY],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: true,
      legalComments: "none",
      write: false,
      logLevel: "silent",
    }).then(
      (r) => r.outputFiles[0]!.text,
      (e: Error) => {
        bundle = null;
        throw new DuetError(`viewer: bundling the page failed (${e.message})`);
      },
    );
  }
  return bundle;
}
