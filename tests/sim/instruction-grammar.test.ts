// The paraphrase grammar (train.augment.paraphrase): many phrasings per task and hand, each with one meaning; it
// produces every phrasing the multi-task scenarios list, with the scenario's meaning, and what it draws is what it
// enumerates. (That none of its phrasings leaks the held-out benchmark is tests/sim/paraphrases.test.ts.)
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/index.ts";
import {
  allPhrasings,
  drawPhrasing,
  grammarMeanings,
  loadScenario,
  longestPhrasingBytes,
  meaningOf,
  phrasingKey,
  rephrase,
  scenarioPhrasings,
} from "../../src/sim/index.ts";

describe("the paraphrase grammar", () => {
  const meanings = grammarMeanings();

  it("has hundreds of phrasings for every task and hand, each with one meaning", () => {
    expect(meanings).toHaveLength(9);
    const owner = new Map<string, string>();
    const twice: string[] = [];
    for (const m of meanings) {
      const all = allPhrasings(m);
      expect([m, all.length >= 300]).toEqual([m, true]);
      const tag = `${m.task}/${m.hand ?? "any"}`;
      for (const p of all) {
        const key = phrasingKey(p);
        if ((owner.get(key) ?? tag) !== tag) twice.push(`${key}: ${owner.get(key)} and ${tag}`);
        owner.set(key, tag);
      }
    }
    expect(twice).toEqual([]);
  });

  it("binds roles: both hands named in one phrasing, the holding hand first or last", () => {
    const left = allPhrasings({ task: "unscrew", hand: "left" });
    expect(left).toContain("the left hand holds the bottle and the right hand unscrews the cap");
    expect(left).toContain("your right hand unscrews the cap while your left hand holds the bottle");
    expect(left).toContain("unscrew the cap but do not hold the bottle with your right hand");
    expect(meaningOf("the right hand holds the bottle and the left hand unscrews the cap")).toEqual({
      task: "unscrew",
      hand: "right",
    });
  });

  it("produces every phrasing of the multi-task scenarios with the meaning the scenario gives it", () => {
    for (const file of ["scenarios/multi-task.json", "scenarios/unscrew-named.json"]) {
      for (const p of scenarioPhrasings(loadScenario(file))) {
        expect([file, p.instruction, meaningOf(p.instruction)]).toEqual([
          file,
          p.instruction,
          { task: p.task, hand: p.hand },
        ]);
      }
    }
  });

  it("draws only phrasings it enumerates, of the meaning asked, with and without filler", () => {
    const rng = new Rng(7);
    for (const m of meanings) {
      const all = new Set(allPhrasings(m));
      const drawn = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const text = drawPhrasing(rng, m);
        expect([text, all.has(text)]).toEqual([text, true]);
        expect(meaningOf(text)).toEqual(m);
        drawn.add(text);
      }
      expect(drawn.size).toBeGreaterThan(50);
    }
  });

  it("rephrases only what it knows: a scenario phrasing to another of its meaning, other text to null", () => {
    const rng = new Rng(1);
    const out = rephrase("hold the bottle in your left hand and unscrew the cap", rng);
    expect(out && meaningOf(out)).toEqual({ task: "unscrew", hand: "left" });
    expect(rephrase("dance", rng)).toBeNull();
    expect(rephrase("unscrew the bottle cap and dance", rng)).toBeNull();
  });

  it("says its longest phrasing in UTF-8 bytes, which a policy's default text encoder (128 bytes) reads", () => {
    const lengths = meanings.flatMap(allPhrasings).map((p) => new TextEncoder().encode(p).length);
    const longest = longestPhrasingBytes();
    expect(lengths).toContain(longest);
    expect(lengths.every((n) => n <= longest)).toBe(true);
    expect(longest).toBeLessThanOrEqual(128);
  });
});
