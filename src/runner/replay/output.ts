// Output files of a run (replays, camera frames): folders created on demand, and errors that name the file and say
// why in words rather than with node's stack.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuetError, encodePng, type Observation } from "../../core/index.ts";

/** Write an observation's camera images as `<dir>/<camera>/<step>.png`. */
export function writeFrames(dir: string, step: number, observation: Observation): void {
  for (const [camera, frame] of Object.entries(observation.images)) {
    const cameraDir = join(dir, camera);
    ensureOutputDir(cameraDir, "frames folder");
    writeOutput(join(cameraDir, `${String(step).padStart(4, "0")}.png`), encodePng(frame), "camera frame");
  }
}

/**
 * Create folder `dir` (and its parents) for output, or throw a DuetError naming it (`what`: "--frames", "replay
 * folder") and the reason: a file in the way, no permission.
 */
export function ensureOutputDir(dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new DuetError(`${what} ${dir}: cannot be created as a folder (${reason(e)}); name a folder to write into`);
  }
}

/** Write `data` to `file`, or throw a DuetError naming the file, `what` it is and the reason. */
export function writeOutput(file: string, data: string | Uint8Array, what: string): void {
  try {
    writeFileSync(file, data);
  } catch (e) {
    throw new DuetError(`${file}: cannot write the ${what} (${reason(e)})`);
  }
}

/** A file-system error in words: its code's meaning, without node's stack. */
function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    ENOTDIR: "a path component is a file, not a folder",
    EEXIST: "a file of that name is in the way",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EROFS: "read-only file system",
    ENOSPC: "no space left on the device",
  };
  return code ? `${code}: ${words[code] ?? (e as Error).message}` : (e as Error).message;
}
