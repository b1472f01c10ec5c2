// Every command's --help: one line that says what it does, the flags, one example that names only real flags; and
// `duet --help` groups the commands by what a user does.
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/program.ts";

function helpOf(cmd: Command): string {
  let out = "";
  cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}

/** Every command below the root except commander's own `help`, with its path from the root. */
function commands(cmd: Command, path: string[] = []): [string[], Command][] {
  return cmd.commands
    .filter((c) => c.name() !== "help")
    .flatMap((c) => [[[...path, c.name()], c] as [string[], Command], ...commands(c, [...path, c.name()])]);
}

describe("duet --help", () => {
  const program = buildProgram();

  it("bin/duet.js runs from any working directory (tsx is found from the launcher, not from the cwd)", () => {
    const launcher = fileURLToPath(new URL("../../bin/duet.js", import.meta.url));
    const r = spawnSync(process.execPath, [launcher, "--help"], { cwd: tmpdir(), encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain("Simulate:");
  });

  it("groups the commands by what a user does, in that order", () => {
    const help = helpOf(program);
    const headings = ["Simulate:", "Data:", "Train:", "Deploy:", "Look:"].map((h) => help.indexOf(`\n${h}\n`));
    expect(headings.every((at) => at > 0)).toBe(true);
    expect([...headings].sort((a, b) => a - b)).toEqual(headings);
    expect(help.slice(headings[0], headings[1])).toMatch(/\n {2}sim .*\n[\s\S]* {2}eval /);
    expect(help.slice(headings[4])).toMatch(/\n {2}view /);
  });

  for (const [path, cmd] of commands(program)) {
    it(`duet ${path.join(" ")} --help: a one-line summary, the flags, one runnable example`, () => {
      const help = helpOf(cmd);
      const summary = cmd.summary();
      expect(summary.length).toBeGreaterThan(20);
      expect(summary).not.toContain("\n");
      expect(help.split("\n").slice(2).join(" ").replace(/\s+/g, " ")).toContain(summary);
      const example = /\nExample:\n {2}(.+)\n+$/.exec(help)?.[1] ?? "";
      expect(example.startsWith(`duet ${path.join(" ")} `)).toBe(true);
      const known = new Set(cmd.options.map((o) => o.long));
      const flags = example.match(/ --[a-z-]+/g)?.map((f) => f.trim()) ?? [];
      expect(flags.filter((f) => !known.has(f))).toEqual([]);
      for (const o of cmd.options) expect(help).toContain(o.long ?? "");
    });
  }
});
