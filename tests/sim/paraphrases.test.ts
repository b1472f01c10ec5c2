// The paraphrase benchmark (bench/paraphrases.json, `npm run bench -- language`): held out from training — none of
// its phrasings is, or is part of, a phrasing any scenario lists (what recordings, and so training data, are made
// of) or one the paraphrase grammar makes (what train.augment.paraphrase trains on) — at least 60 phrasings in the groups issue 38 asks for, labelled with a task and hand, each short enough for a
// text encoder of the default size; a phrasing listed twice is refused, naming where.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ByteTokenizer, textEncoderConfigSchema } from "../../src/encoders/index.ts";
import {
  DEFAULT_INSTRUCTION,
  allPhrasings,
  grammarMeanings,
  loadParaphrases,
  phrasingKey,
} from "../../src/sim/index.ts";
import { tempDir } from "../data/fixtures.ts";

const FILE = "bench/paraphrases.json";

/**
 * Every phrasing in every scenario file's task list, the single-task scenarios' instruction, and every phrasing of
 * the paraphrase grammar (filler included).
 */
function trainingPhrasings(): string[] {
  const found = [DEFAULT_INSTRUCTION, ...grammarMeanings().flatMap(allPhrasings)];
  for (const file of readdirSync("scenarios").filter((f) => f.endsWith(".json"))) {
    const scenario = JSON.parse(readFileSync(join("scenarios", file), "utf8")) as {
      tasks?: { instructions: Record<string, string[]> }[];
    };
    for (const task of scenario.tasks ?? []) found.push(...Object.values(task.instructions).flat());
  }
  return found;
}

describe("the paraphrase benchmark", () => {
  const benchmark = loadParaphrases(FILE);
  const phrasings = benchmark.groups.flatMap((g) => g.phrasings);

  it("has at least 60 phrasings in the groups the issue asks for, every task and both hands labelled", () => {
    expect(phrasings.length).toBeGreaterThanOrEqual(60);
    expect(benchmark.groups.map((g) => g.name)).toEqual([
      "synonyms",
      "word order",
      "both hands with roles",
      "negation",
      "politeness and filler",
    ]);
    for (const group of benchmark.groups)
      expect([group.name, group.phrasings.length >= 10]).toEqual([group.name, true]);
    expect(new Set(phrasings.map((p) => p.task))).toEqual(new Set(["unscrew", "lift", "handover"]));
    for (const hand of ["left", "right"] as const) {
      expect(phrasings.filter((p) => p.hand === hand).length).toBeGreaterThanOrEqual(15);
    }
  });

  it("none of its phrasings is, or is part of, a phrasing any scenario lists or the grammar makes (case and spaces ignored)", () => {
    const training = trainingPhrasings().map(phrasingKey);
    expect(training.length).toBeGreaterThan(60_000); // the scenarios and the grammar were read
    const leaked = phrasings.filter((p) => training.some((t) => t.includes(phrasingKey(p.text))));
    expect(leaked.map((p) => p.text)).toEqual([]);
  });

  it("every phrasing fits a text encoder of the default size (128 bytes), and some do not fit 62", () => {
    const defaults = new ByteTokenizer(textEncoderConfigSchema.parse({}).maxTokens);
    expect(defaults.maxTokens - 2).toBeGreaterThanOrEqual(128);
    for (const p of phrasings) expect(defaults.normalize(p.text)).toBe(p.text); // clean text, under the limit
    expect(phrasings.some((p) => new TextEncoder().encode(p.text).length > 62)).toBe(true);
  });

  it("refuses a phrasing listed twice and a group name used twice, naming where", () => {
    const file = join(tempDir("duet-paraphrases-"), "bad.json");
    const phrasing = { text: "open the bottle", task: "unscrew", hand: "any" };
    writeFileSync(
      file,
      JSON.stringify({
        description: "",
        groups: [
          { name: "a", about: "", phrasings: [phrasing] },
          { name: "a", about: "", phrasings: [{ ...phrasing, text: "Open  the bottle" }] },
        ],
      }),
    );
    expect(() => loadParaphrases(file)).toThrow(
      /groups\.1\.phrasings\.0\.text: expected a phrasing not listed before \(groups\.0\.phrasings\.0\.text has it\)[\s\S]*groups\.1\.name: expected a name no other group has/,
    );
    writeFileSync(
      file,
      JSON.stringify({
        description: "",
        groups: [{ name: "a", about: "", phrasings: [{ ...phrasing, hand: "both" }] }],
      }),
    );
    expect(() => loadParaphrases(file)).toThrow(
      /groups\.0\.phrasings\.0\.hand: expected one of "any", "left", "right"/,
    );
  });
});
