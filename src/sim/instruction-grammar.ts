// A paraphrase grammar for the bottle tasks: many phrasings of each task and hand — other verbs and nouns, other word
// orders, both hands named with their roles, negations, filler — for training language-conditioned policies on more
// than a scenario's few phrasings (train.augment.paraphrase). It is written apart from the held-out benchmark
// (bench/paraphrases.json): tests/sim/paraphrases.test.ts enumerates every phrasing here and fails if a benchmark
// phrasing is one of them or part of one. The grammar also produces every phrasing scenarios/multi-task.json and
// unscrew-named.json list, with the meaning the scenario gives it (tested), so a recording's instructions can be
// looked up (`meaningOf`) without the scenario.
import { ARMS, otherArm, type Arm, type Rng } from "../core/index.ts";
import type { TaskName } from "./scenario.ts";
import { phrasingKey } from "./tasks.ts";

/** What a phrasing asks: the task and the hand it names (null: none; the holding, lifting or giving hand). */
export interface Meaning {
  readonly task: TaskName;
  readonly hand: Arm | null;
}

/**
 * Words a placeholder stands for. {H} the named hand, {O} the other one (the same wording: "your left arm" goes with
 * "your right arm"); the rest are verb phrases.
 */
const SLOTS: Record<string, readonly string[]> = {
  hold: ["hold", "grasp", "grip", "steady"],
  unscrew: [
    "unscrew the cap",
    "unscrew the lid",
    "unscrew the bottle cap",
    "twist the cap off",
    "twist the lid off",
    "screw the cap off",
    "turn the cap off",
    "remove the cap",
    "remove the bottle cap",
    "take the cap off",
    "take the cap off the bottle",
    "take off the cap",
    "get the cap off",
    "get the lid off",
  ],
  unscrews: [
    "unscrews the cap",
    "unscrews the lid",
    "twists the cap off",
    "removes the cap",
    "takes the cap off",
    "takes off the lid",
    "turns the cap off",
  ],
  lift: ["lift the bottle", "pick up the bottle", "lift up the bottle", "hoist the bottle", "lift the bottle up"],
  lifts: ["lifts the bottle", "picks up the bottle", "lifts up the bottle", "hoists the bottle"],
  give: ["hand", "pass", "move", "give"],
};

/** How a hand is named; {H} and {O} of one phrasing use the same entry. */
const HANDS: readonly ((arm: Arm) => string)[] = [
  (a) => `your ${a} hand`,
  (a) => `your ${a} arm`,
  (a) => `your ${a} gripper`,
  (a) => `the ${a} hand`,
  (a) => `the ${a} gripper`,
];

/** Templates by task, for a named hand and for none ("any"). */
const TEMPLATES: Record<TaskName, { named: readonly string[]; any: readonly string[] }> = {
  unscrew: {
    named: [
      "{hold} the bottle with {H} and {unscrew}",
      "{hold} the bottle in {H} and {unscrew}",
      "{unscrew} holding the bottle with {H}",
      "{unscrew} while {H} holds the bottle",
      "{unscrew} using {O} while {H} holds the bottle",
      "{H} holds the bottle and {O} {unscrews}",
      "{O} {unscrews} while {H} holds the bottle",
      "use {H} to hold the bottle and {O} to {unscrew}",
      "{unscrew} using {O}",
      "{unscrew} but do not hold the bottle with {O}",
      "{hold} the bottle with {H}, not {O}, and {unscrew}",
    ],
    any: ["{unscrew}", "{unscrew} with one hand holding the bottle", "{hold} the bottle and {unscrew}"],
  },
  lift: {
    named: [
      "lift the bottle with {H}",
      "{lift} with {H}",
      "use {H} to {lift}",
      "{lift} using {H} and leave {O} alone",
      "{H} {lifts}",
      "{lift} but do not use {O}",
      "do not use {O}, {lift} with {H}",
    ],
    any: ["{lift}", "{lift} with one hand", "{lift} off the table", "{lift} from the table"],
  },
  handover: {
    named: [
      "hand the bottle from your {h} hand to your {o}",
      "{give} the bottle from {H} to {O}",
      "{lift} with {H} and {give} it to {O}",
      "{O} takes the bottle from {H}",
      "{give} the bottle over, starting with {H}",
      "{give} the bottle over but do not start with {O}",
    ],
    any: [
      "hand the bottle over",
      "{give} the bottle to your other hand",
      "{give} the bottle to the other arm",
      "{give} the bottle from one hand to the other",
      "{give} the bottle across to the other hand",
      "switch hands with the bottle",
      "let the other hand take the bottle",
    ],
  },
};

/** Words before and after a phrasing (politeness, filler); the first of each is none. */
const BEFORE = ["", "now ", "go ahead and ", "can you ", "I want you to "];
const AFTER = ["", " please", " now", " for me"];

/** Every way to fill `template` for `hand` (null: a template without hands). */
function expand(template: string, hand: Arm | null): string[] {
  let out = [template];
  if (hand) {
    const o = otherArm(hand);
    out = HANDS.map((name) =>
      template.replaceAll("{H}", name(hand)).replaceAll("{O}", name(o)).replaceAll("{h}", hand).replaceAll("{o}", o),
    );
    out = [...new Set(out)];
  }
  for (const [slot, words] of Object.entries(SLOTS)) {
    const key = `{${slot}}`;
    out = out.flatMap((t) => (t.includes(key) ? words.map((w) => t.replaceAll(key, w)) : [t]));
  }
  return out;
}

function templatesOf(meaning: Meaning): readonly string[] {
  const t = TEMPLATES[meaning.task];
  return meaning.hand ? t.named : t.any;
}

/** Every meaning the grammar has phrasings for: each task with no hand and with each hand named. */
export function grammarMeanings(): Meaning[] {
  return (Object.keys(TEMPLATES) as TaskName[]).flatMap((task) => [null, ...ARMS].map((hand) => ({ task, hand })));
}

/** Every phrasing of `meaning` without filler (the grammar's core), in a fixed order. */
export function corePhrasings(meaning: Meaning): string[] {
  return [...new Set(templatesOf(meaning).flatMap((t) => expand(t, meaning.hand)))];
}

/** Every phrasing of `meaning`, filler included (large: for checks, not for drawing). */
export function allPhrasings(meaning: Meaning): string[] {
  return corePhrasings(meaning).flatMap((core) => BEFORE.flatMap((b) => AFTER.map((a) => b + core + a)));
}

/** A phrasing of `meaning` drawn from `rng`: a template, then each word choice, then filler (30% / 20% of draws). */
export function drawPhrasing(rng: Rng, meaning: Meaning): string {
  const templates = templatesOf(meaning);
  const template = templates[rng.int(templates.length)] as string;
  let text = template;
  if (meaning.hand) {
    const name = HANDS[rng.int(HANDS.length)] as (arm: Arm) => string;
    const o = otherArm(meaning.hand);
    text = text
      .replaceAll("{H}", name(meaning.hand))
      .replaceAll("{O}", name(o))
      .replaceAll("{h}", meaning.hand)
      .replaceAll("{o}", o);
  }
  for (const [slot, words] of Object.entries(SLOTS)) {
    text = text.replaceAll(`{${slot}}`, () => words[rng.int(words.length)] as string);
  }
  const before = rng.next() < 0.3 ? (BEFORE[1 + rng.int(BEFORE.length - 1)] as string) : "";
  const after = rng.next() < 0.2 ? (AFTER[1 + rng.int(AFTER.length - 1)] as string) : "";
  return before + text + after;
}

let index: Map<string, Meaning> | null = null;

/** The meaning of one of the grammar's phrasings (case, spaces and filler ignored); null for any other text. */
export function meaningOf(text: string): Meaning | null {
  if (!index) {
    index = new Map();
    for (const m of grammarMeanings()) for (const p of corePhrasings(m)) index.set(phrasingKey(p), m);
  }
  let key = phrasingKey(text);
  const before = BEFORE.slice(1).find((b) => key.startsWith(b.toLowerCase()));
  if (before && !index.has(key)) key = key.slice(before.length);
  const after = AFTER.slice(1).find((a) => key.endsWith(a));
  if (after && !index.has(key)) key = key.slice(0, -after.length);
  return index.get(key) ?? null;
}

/** Another phrasing of `text`'s meaning drawn from `rng` (train.augment.paraphrase); null for text the grammar lacks. */
export function rephrase(text: string, rng: Rng): string | null {
  const meaning = meaningOf(text);
  return meaning && drawPhrasing(rng, meaning);
}

/** UTF-8 bytes of the grammar's longest phrasing, filler included: what a text encoder reading any draw must take. */
export function longestPhrasingBytes(): number {
  const utf8 = new TextEncoder();
  return grammarMeanings()
    .flatMap(allPhrasings)
    .reduce((n, p) => Math.max(n, utf8.encode(p).length), 0);
}
