// scripts/model-card.ts: the card lays out what training and `duet eval --json` left in a model directory.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { train, trainConfigSchema } from "../../src/train/index.ts";
import { tempDir, tinyConfig, writeTinyDataset } from "../policy/fixtures.ts";

let model = "";
beforeAll(async () => {
  const dataset = await writeTinyDataset();
  model = tempDir("duet-card-");
  const config = trainConfigSchema.parse(
    tinyConfig({ policy: { observeState: false, actions: "relative" }, train: { steps: 10, valEvery: 0 } }),
  );
  // what `duet train` stores (src/cli/train.ts)
  await train({ dataset, config, out: model, provenance: { command: "duet train --dataset T --config C --out M" } });
  // the shape `duet eval --json` prints (last line), written here as the test's input
  const outcome = (seed: number, success: boolean, holder: string) => ({ seed, success, steps: 200, holder });
  const summary = {
    episodes: 4,
    successes: 3,
    success_rate: 0.75,
    wilson95: [0.3006, 0.9544],
    per_episode: [
      outcome(1000000, true, "left"),
      outcome(1000001, true, "right"),
      outcome(1000002, true, "left"),
      outcome(1000003, false, "none"),
    ],
  };
  writeFileSync(join(model, "eval.json"), `progress line\n${JSON.stringify(summary)}\n`);
}, 120_000);

const card = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "scripts/model-card.ts", ...args], { encoding: "utf8" });

describe("model card", () => {
  it("writes README.md with the record command, the training run and the evaluation with modes", () => {
    execFileSync(process.execPath, [
      "--import",
      "tsx",
      "scripts/model-card.ts",
      model,
      "--record",
      "duet record --scenario scenarios/bottle-cap.json --source expert --episodes 2 --seed 7 --out D",
    ]);
    const text = readFileSync(join(model, "README.md"), "utf8");
    expect(text).toContain("node bin/duet.js record --scenario scenarios/bottle-cap.json --source expert --episodes 2");
    expect(text).toContain("the joint state is not an input");
    expect(text).toContain("relative actions");
    expect(text).toContain("**3/4 successes, 75.0%**");
    expect(text).toContain("30.1%–95.4%");
    expect(text).toMatch(/\| left holds \| 2 \(50.0%\) \| 2 \|/);
    expect(text).toMatch(/\| no arm held it \| 1 \(25.0%\) \| 0 \|/);
    expect(text).toContain("seeds 1000000–1000003");
    expect(text).toContain("node bin/duet.js train --dataset T --config C --out M");
  });

  it("lists every command of a continued run, oldest first, the run it started from and a sampling noise scale", () => {
    const file = join(model, "model.json");
    const m = JSON.parse(readFileSync(file, "utf8")) as {
      provenance: Record<string, unknown>;
      config: { scheduler: Record<string, unknown> };
    };
    const before = JSON.stringify(m);
    m.provenance.earlier_commands = ["duet train --dataset T --config C0 --out M"];
    m.provenance.command = "duet train --dataset T --config C --out M --init-from M0";
    m.provenance.init_from = { model: "M0", steps: 6000, wall_s: 4000 };
    const steps = m.provenance.steps as number;
    const wall = m.provenance.wall_s as number;
    m.config.scheduler.noiseScale = 0.5;
    writeFileSync(file, JSON.stringify(m));
    try {
      expect(card(model, "--record", "duet record …").status).toBe(0);
      const text = readFileSync(join(model, "README.md"), "utf8");
      expect(text).toMatch(
        /--config C0 --out M\n {4}node bin\/duet.js train --dataset T --config C --out M --init-from M0/,
      );
      expect(text).toContain("starting from noise of standard deviation 0.5");
      expect(text).toContain("Later commands continued the run");
      expect(text).toContain(
        `started from the weights of \`M0\` (6000 steps, 4000 s): ${6000 + steps} steps and ${4000 + wall} s of training in all`,
      );
    } finally {
      writeFileSync(file, before);
    }
  });

  it("names the run whose frozen observer a run trained on, and the training time of both", () => {
    const file = join(model, "model.json");
    const before = readFileSync(file, "utf8");
    const m = JSON.parse(before) as { provenance: Record<string, unknown> };
    m.provenance.earlier_commands = ["duet train --dataset T --config C0 --out M0"];
    m.provenance.command = "duet train --dataset T --config C --out M --observer-from M0";
    m.provenance.observer_from = { model: "M0", steps: 4000, wall_s: 1500 };
    const wall = m.provenance.wall_s as number;
    writeFileSync(file, JSON.stringify(m));
    try {
      expect(card(model, "--record", "duet record …").status).toBe(0);
      const text = readFileSync(join(model, "README.md"), "utf8");
      expect(text).toMatch(/--config C0 --out M0\n {4}node bin\/duet.js train .* --observer-from M0/);
      expect(text).toContain(
        `The camera encoders are those of \`M0\` (4000 steps, 1500 s), frozen: each frame's features were computed once and only the rest of the policy trained here; ${1500 + wall} s of training in all.`,
      );
    } finally {
      writeFileSync(file, before);
    }
  });

  it("refuses without --record or without eval.json", () => {
    const noRecord = card(model);
    expect(noRecord.status).not.toBe(0);
    expect(noRecord.stderr).toMatch(/--record/);
    const empty = tempDir("duet-card-");
    const noEval = card(empty, "--record", "duet record …");
    expect(noEval.status).not.toBe(0);
    expect(noEval.stderr).toMatch(/model.json|eval.json/);
  });
});
