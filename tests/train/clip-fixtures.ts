// Tiny fixtures of the CLIP side (tests/train/prior.test.ts, tests/train/goal-embedding.test.ts): a learnable
// multi-task recording, the meanings of its instructions, and the options of a tiny clip run and a tiny prior.
import type { InstructionMeaning } from "../../src/train/index.ts";
import { CAM, observation, type TinyData } from "../policy/fixtures.ts";

/** The prior's denoiser, small. */
export const TOY_NET = { denoiser: { width: 64, depth: 2, stepEmbedDim: 32 } };

// A learnable multi-task dataset: episode e does task ⌊e/2⌋ mod 2 (its colour channel) holding with e mod 2 (left,
// else right: the fixtures' mode; the holding side of the frame brightens with t), its instruction naming the hand
// when ⌊e/4⌋ is odd.
const TASKS: readonly [task: string, phrase: string][] = [
  ["unscrew", "unscrew the cap"],
  ["lift", "lift the bottle"],
];
export const MEANINGS = new Map<string, InstructionMeaning>(
  TASKS.flatMap(([task, phrase]): [string, InstructionMeaning][] => [
    [phrase, { task, hand: null }],
    [`${phrase} with your left hand`, { task, hand: "left" }],
    [`${phrase} with your right hand`, { task, hand: "right" }],
  ]),
);
export const handed: TinyData = {
  observation: (e, t) => {
    const k = Math.floor(e / 2) % 2;
    const left = e % 2 === 1;
    const data = new Uint8Array(CAM * CAM * 3).map((_, i) => {
      const column = Math.floor(i / 3) % CAM;
      const lit = column < CAM / 2 === left ? 20 * t : 0;
      return (i % 3 === k ? 120 : 40) + lit + ((i * 7 + e * 13) % 10);
    });
    return { ...observation(e, t), images: { front: { width: CAM, height: CAM, data } } };
  },
  action: () => 0,
  task: (e) => {
    const phrase = TASKS[Math.floor(e / 2) % 2]![1];
    return Math.floor(e / 4) % 2 ? `${phrase} with your ${e % 2 ? "left" : "right"} hand` : phrase;
  },
};
export const TINY_CLIP = {
  steps: 80,
  batch: 8,
  lr: 3e-3,
  seed: 0,
  valShare: 0.34,
  lastFrames: 2,
  image: { patch: 4, dim: 16, depth: 1, heads: 2, featureDim: 16 },
  text: { maxTokens: 48, dim: 16, depth: 1, heads: 2, featureDim: 16 },
};
export const TINY_PRIOR = { config: TOY_NET, steps: 400, batch: 32, lr: 2e-3, lastFrames: 2 };
