import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ALL_HELD_OUT,
  BASELINE_GROUP,
  LANGUAGE_FILE,
  groupRows,
  languageSection,
  readLanguageRun,
  targetsReading,
  type LanguageRun,
  type PhrasingResult,
} from "../../src/cli/language-run.ts";
import { ValidationError } from "../../src/core/index.ts";

const phrasing = (group: string, text: string, successes: number, held: number, named = 4): PhrasingResult => ({
  group,
  text,
  task: "unscrew",
  hand: named ? "left" : "any",
  bytes: text.length,
  refused: false,
  episodes: 4,
  successes,
  named_hand: { episodes: named, held },
});

const results: PhrasingResult[] = [
  phrasing(BASELINE_GROUP, "unscrew the cap holding the bottle with your left hand", 4, 4),
  phrasing(BASELINE_GROUP, "unscrew the cap", 3, 0, 0),
  phrasing("synonyms", "twist the lid off, left gripper holds", 4, 3),
  phrasing("negation", "open the bottle, not with your right hand", 2, 1),
  {
    ...phrasing("negation", "x".repeat(70), 0, 0),
    bytes: 70,
    refused: true,
    episodes: 0,
    named_hand: { episodes: 0, held: 0 },
  },
];

function run(policy: string): LanguageRun {
  return {
    command: `npm run bench -- language --policy ${policy} --seeds 4`,
    policy,
    scenario: "scenarios/multi-task.json",
    paraphrases: "bench/paraphrases.json",
    seeds: [1_000_000, 1_000_003],
    seeds_per_phrasing: 4,
    workers: 2,
    guidance: 1,
    limit: 62,
    limit_unit: "UTF-8 bytes",
    groups: groupRows(results),
    phrasings: results,
    wall_s: 1,
  };
}

describe("language benchmark run", () => {
  it("pools each group, and every held-out phrasing in one last row", () => {
    const rows = groupRows(results);
    expect(rows.map((r) => r.group)).toEqual([BASELINE_GROUP, "synonyms", "negation", ALL_HELD_OUT]);
    const all = rows.at(-1)!;
    expect([all.phrasings, all.refused, all.episodes, all.successes]).toEqual([3, 1, 8, 6]);
    expect(all.named_hand).toMatchObject({ episodes: 8, held: 4, rate: 0.5 });
    expect(rows[0]!.named_hand).toMatchObject({ episodes: 4, held: 4, rate: 1 });
  });

  it("reads the targets against the run: missed by how many points, or met", () => {
    const reading = targetsReading(groupRows(results));
    expect(reading).toContain("held-out phrasings: 50% (4/8) against ≥ 90% (aim 98%): missed by 40.0 points.");
    expect(reading).toContain("scenario's own phrasings: 100% (4/4) against ≥ 95%: met.");
  });

  it("gives a model directory's saved run a card section, and refuses another model's or a miscounted one", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "duet-language-")), "multi-task-unet");
    expect(languageSection(undefined)).toBe("");
    mkdirSync(dir);
    expect(readLanguageRun(dir)).toBeUndefined();
    writeFileSync(join(dir, LANGUAGE_FILE), JSON.stringify(run("models/multi-task-unet")));
    const section = languageSection(readLanguageRun(dir));
    expect(section).toContain("## Instructions in other words");
    expect(section).toContain("| all held-out phrasings | 3 (1) | 8 | 6/8 (75%) |");
    expect(section).toContain("missed by 40.0 points.");

    writeFileSync(join(dir, LANGUAGE_FILE), JSON.stringify(run("runs/other")));
    expect(() => readLanguageRun(dir)).toThrow(ValidationError);
    expect(() => readLanguageRun(dir)).toThrow(/policy.*multi-task-unet/s);
    const miscounted = run("models/multi-task-unet");
    miscounted.groups[0] = { ...miscounted.groups[0]!, episodes: 99 };
    writeFileSync(join(dir, LANGUAGE_FILE), JSON.stringify(miscounted));
    expect(() => readLanguageRun(dir)).toThrow(/groups/);
  });
});
