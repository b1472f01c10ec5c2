import { describe, expect, it } from "vitest";
import { INFERENCE_ONLY_FIELDS, inferenceSchema, policyConfigSchema } from "../../../src/policy/index.ts";

describe("policy.inference", () => {
  it("reads a config of the layout before it (Ta and ensemble at the top, DDIM steps and noise in scheduler)", () => {
    const old = policyConfigSchema.parse({
      actionSteps: 1,
      ensemble: 0.75,
      scheduler: { prediction: "sample", inferenceSteps: 5, noiseScale: 0.5 },
    });
    expect(old.inference).toEqual({ actionSteps: 1, ensemble: 0.75, inferenceSteps: 5, noiseScale: 0.5 });
    expect(old.scheduler.prediction).toBe("sample");
    expect(old).toEqual(
      policyConfigSchema.parse({
        scheduler: { prediction: "sample" },
        inference: { actionSteps: 1, ensemble: 0.75, inferenceSteps: 5, noiseScale: 0.5 },
      }),
    );
    // where a setting is given in both places, inference wins
    expect(policyConfigSchema.parse({ actionSteps: 2, inference: { actionSteps: 3 } }).inference.actionSteps).toBe(3);
  });

  it("is the one list of what a resumed run may change, and validates against the network's fields", () => {
    expect(INFERENCE_ONLY_FIELDS).toEqual([["inference"]]);
    expect(Object.keys(inferenceSchema.shape).sort()).toEqual([
      "actionSteps",
      "ensemble",
      "guidance",
      "inferenceSteps",
      "noiseScale",
    ]);
    expect(() => policyConfigSchema.parse({ predSteps: 4, inference: { actionSteps: 5 } })).toThrow(
      /"actionSteps"[\s\S]*≤ predSteps \(4\)/,
    );
    expect(() => policyConfigSchema.parse({ scheduler: { trainSteps: 8 }, inference: { inferenceSteps: 9 } })).toThrow(
      /"inferenceSteps"[\s\S]*≤ trainSteps \(8\)/,
    );
  });
});
