// docs/getting-started.md cannot rot: every sh block in it runs here, in order, in a scratch folder, with the tiny
// settings the guide names in its marked comment. A `duet view` that serves (no --gif/--png) is started, its page
// fetched, then stopped.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const guide = readFileSync(join(ROOT, "docs/getting-started.md"), "utf8");

/** The marked comment's substitutions: "A → B, C → D". */
function tinySettings(text: string): [string, string][] {
  const marked = /<!-- tests\/docs\/getting-started\.test\.ts[^:]*:([\s\S]*?)-->/.exec(text)?.[1];
  if (marked === undefined) throw new Error("docs/getting-started.md: the tiny-settings comment is missing");
  return marked
    .split(",")
    .map((pair) => pair.split("→").map((s) => s.trim()) as [string, string])
    .filter((pair) => pair.length === 2 && pair[0] !== "");
}

/** The guide's commands, one per line of its sh blocks, with the tiny settings applied. */
function commands(text: string): string[] {
  const subs = tinySettings(text);
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => (m[1] ?? "").split("\n"))
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) =>
      subs.reduce((l, [from, to]) => l.replaceAll(`${from} `, `${to} `).replace(new RegExp(`${from}$`), to), line),
    );
}

/** Start a serving `duet view`, fetch its page, stop it. */
async function serveOnce(command: string, cwd: string): Promise<{ status: number; page: string }> {
  const child = spawn("bash", ["-c", `exec ${command.replace("duet view", "duet view --port 0")}`], { cwd });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/?)/.exec(out);
        if (m) resolve(m[1] as string);
      });
      child.on("exit", (code) => reject(new Error(`${command}: exited ${code} before serving: ${out}`)));
    });
    const response = await fetch(url);
    return { status: response.status, page: await response.text() };
  } finally {
    child.kill("SIGINT");
  }
}

describe("docs/getting-started.md", () => {
  it("names its tiny settings, and each one changes a command of the guide", () => {
    const subs = tinySettings(guide);
    expect(subs.length).toBeGreaterThan(0);
    for (const [from] of subs) expect([from, guide.includes(from)]).toEqual([from, true]);
    expect(commands(guide).some((c) => c.includes("--episodes 20"))).toBe(false);
  });

  it("every command runs as written", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "duet-getting-started-"));
    for (const linked of ["bin", "scenarios", "robots", "configs", "models", "package.json"])
      symlinkSync(join(ROOT, linked), join(cwd, linked));
    const done: string[] = [];
    for (const command of commands(guide)) {
      if (/duet\.js view /.test(command) && !/--(gif|png) /.test(command)) {
        const { status, page } = await serveOnce(command, cwd);
        expect([command, status, page.includes("<html")]).toEqual([command, 200, true]);
      } else {
        const r = spawnSync("bash", ["-c", command], { cwd, encoding: "utf8" });
        expect([command, r.status, r.status === 0 ? "" : r.stderr.slice(-2000)]).toEqual([command, 0, ""]);
      }
      done.push(command);
    }
    // what the guide says each step leaves behind
    expect(existsSync(join(cwd, "datasets/first/meta/info.json"))).toBe(true);
    expect(existsSync(join(cwd, "runs/first/policy/model.json"))).toBe(true);
    expect(existsSync(join(cwd, "runs/first/policy/train/curves.png"))).toBe(true);
    expect(existsSync(join(cwd, "runs/first/expert.gif"))).toBe(true);
    expect(done.length).toBeGreaterThanOrEqual(7);
  }, 600_000);
});
