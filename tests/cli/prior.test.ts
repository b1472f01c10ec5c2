// duet prior's flags: bad values, a scenario without tasks and a folder that is no clip run are refused with one
// message naming the flag or file, before anything trains (the training itself: tests/train/prior.test.ts).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { tempDir } from "../policy/fixtures.ts";

function prior(...extra: string[]): { status: number | null; stderr: string } {
  const base = ["--clip", tempDir("duet-prior-cli-"), "--dataset", tempDir(), "--out", tempDir()];
  const r = spawnSync(process.execPath, ["bin/duet.js", "prior", ...base, ...extra], { encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

describe("duet prior refuses", () => {
  it.each([
    [["--steps", "0"], /option '--steps <n>' argument '0' is invalid\. expected an integer >= 1/],
    [
      ["--sampling-steps", "101"],
      /'--sampling-steps <n>' argument '101' is invalid\. expected an integer in \[1, 100\]/,
    ],
    [["--lr", "fast"], /option '--lr <x>' argument 'fast' is invalid\. expected a number in/],
    [["--scenario", "scenarios/bottle-cap.json"], /bottle-cap\.json has no task list/],
    [
      [],
      /--clip .*duet-prior-cli-\w+: no .*image\.onnx, .*text\.onnx, .*result\.json; give the output folder of a finished duet clip run/,
    ],
  ])(
    "%j",
    (extra, message) => {
      const r = prior(...extra);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    },
    60_000,
  );
});
