// A tiny scenario for recording tests: the bottle-cap-easy scene with a short time limit and 12×12 cameras, so an
// expert episode is a dozen control steps.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Write the tiny scenario into a fresh temp folder; returns its path. `timeLimitS` sets the episode length. */
export function tinyScenario(timeLimitS = 1.2): string {
  const s = JSON.parse(readFileSync("scenarios/bottle-cap-easy.json", "utf8")) as {
    robot: string;
    time_limit_s: number;
    cameras: { width: number; height: number }[];
  };
  s.robot = resolve("robots/panda-pair.json");
  s.time_limit_s = timeLimitS;
  for (const c of s.cameras) {
    c.width = 12;
    c.height = 12;
  }
  const file = join(mkdtempSync(join(tmpdir(), "duet-scn-")), "tiny.json");
  writeFileSync(file, JSON.stringify(s));
  return file;
}

/** Every file under `dir` (relative path → bytes), sorted by path. */
export function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string): void => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(p);
      else out.set(p, readFileSync(join(dir, p)));
    }
  };
  walk("");
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}
