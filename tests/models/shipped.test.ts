// The shipped models in models/: each loads for the bottle-cap scenario's robot and cameras, stays small enough for
// git, and its card states the evaluation its eval.json holds. `npm start` runs one of them.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPolicy, readPolicyModel } from "../../src/policy/index.ts";
import { createEnv } from "../../src/sim/index.ts";

const MODELS = "models";
const shipped = existsSync(MODELS)
  ? readdirSync(MODELS).filter((d) => existsSync(join(MODELS, d, "model.json")))
  : [];

describe("shipped models", () => {
  it("npm start runs a shipped model on the bottle-cap scenario", () => {
    const start = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: { start: string } }).scripts.start;
    const policy = /--policy (\S+)/.exec(start)?.[1];
    expect(start).toContain("--scenario scenarios/bottle-cap.json");
    expect(shipped.map((d) => join(MODELS, d))).toContain(policy);
  });

  for (const name of shipped) {
    it(`${name}: loads for the scenario, files under 20 MB, the card matches eval.json`, async () => {
      const dir = join(MODELS, name);
      const env = createEnv("scenarios/bottle-cap.json", { cameras: true });
      const policy = await loadPolicy(dir, {
        expect: {
          stateDim: 16,
          actionDim: 16,
          cameras: env.cameras.map((c) => ({ name: c })),
          controlHz: env.controlHz,
          environmentNames: null, // a shipped policy must not need the simulator's privileged scene state
        },
      });
      expect(policy.actionHorizon).toBeGreaterThan(0);
      for (const f of readdirSync(dir)) {
        if (statSync(join(dir, f)).isFile()) expect([f, statSync(join(dir, f)).size < 20e6]).toEqual([f, true]);
      }
      const card = readFileSync(join(dir, "README.md"), "utf8");
      // eval.json and any eval-*.json (one per instruction for a language-conditioned policy)
      for (const file of readdirSync(dir).filter((f) => /^eval(-.+)?\.json$/.test(f))) {
        const ev = JSON.parse(readFileSync(join(dir, file), "utf8").trim().split("\n").at(-1)!) as {
          episodes: number;
          successes: number;
        };
        expect([file, card.includes(`**${ev.successes}/${ev.episodes} successes`)]).toEqual([file, true]);
      }
      expect(card).toContain((readPolicyModel(dir).provenance.command as string).replace(/^duet /, ""));
    });
  }
});
