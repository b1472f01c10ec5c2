// duet clip's and duet train's flags of the text-encoder pre-training: a --paraphrase share outside [0, 1), a
// paraphrase grammar longer than --text-max-tokens reads, and --text-from for a config without language are refused
// with one message naming the flag, before anything trains (the training itself: tests/train/text-weights.test.ts).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { longestPhrasingBytes } from "../../src/sim/index.ts";
import { tempDir } from "../policy/fixtures.ts";

function duet(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ["bin/duet.js", ...args], { encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

const longest = longestPhrasingBytes();
const clip = (...extra: string[]) => duet("clip", "--dataset", tempDir(), "--out", tempDir(), ...extra);

describe("the text-encoder pre-training flags refuse", () => {
  it.each([
    [["--paraphrase", "1"], /option '--paraphrase <p>' argument '1' is invalid\. expected a number in \[0, 1\)/],
    [["--paraphrase", "-0.1"], /option '--paraphrase <p>' argument '-0\.1' is invalid\. expected a number in \[0, 1\)/],
    [
      ["--paraphrase", "0.5"],
      `--paraphrase 0.5: the paraphrase grammar's longest phrasing is ${longest} UTF-8 bytes, and a text encoder of ` +
        `--text-max-tokens 64 reads at most 62; pass --text-max-tokens ${longest + 2} or more`,
    ],
    [
      ["--text-max-tokens", "2"],
      /option '--text-max-tokens <n>' argument '2' is invalid\. expected an integer in \[3, 512\]/,
    ],
  ] as [string[], RegExp | string][])(
    "duet clip %j",
    (extra, message) => {
      const r = clip(...extra);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    },
    60_000,
  );

  it("duet train --text-from with a config whose policy has no language", () => {
    const from = tempDir("duet-cli-text-");
    const r = duet(
      "train",
      "--dataset",
      tempDir(),
      "--config",
      "configs/tiny.json",
      "--out",
      tempDir(),
      "--text-from",
      from,
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`--text-from ${from}: configs/tiny.json has no policy.language`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
