// Per-episode randomisation for recording robust demonstrations: colours drawn from HSV ranges, grasp models drawn
// by weight, their validation, and scenarios/bottle-cap-randomized.json against the robustness benchmark.
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/core/index.ts";
import { SimEnv, createEnv, drawAppearance, loadScenario } from "../../src/sim/index.ts";
import { CAMERAS, FILE, expertRun, meanAbsDiff, sha256, variant } from "./fixtures.ts";

/** A colour 0xrrggbb as hue (degrees, [0, 360)), saturation and value ([0, 1]). */
function hsvOf(color: number): [number, number, number] {
  const [r, g, b] = [(color >> 16) & 255, (color >> 8) & 255, color & 255].map((c) => c / 255) as [
    number,
    number,
    number,
  ];
  const v = Math.max(r, g, b);
  const d = v - Math.min(r, g, b);
  const h = d === 0 ? 0 : v === r ? ((g - b) / d) % 6 : v === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return [(h * 60 + 360) % 360, v === 0 ? 0 : d / v, v];
}

describe("colours drawn per episode", () => {
  const hue = (lo: number, hi: number, s: [number, number] = [1, 1], v: [number, number] = [1, 1]) => ({
    hue: [lo, hi],
    saturation: s,
    value: v,
  });

  it("an HSV range of zero width gives that colour exactly; a hue range may cross 0", () => {
    const file = variant({
      colors: { table: hue(240, 240), bottle: hue(-240, -240), neck: hue(0, 0, [0, 0], [0.6, 0.6]), cap: "#123456" },
    });
    const colors = drawAppearance(loadScenario(file), 1).colors;
    expect(colors).toEqual({ table: 0x0000ff, bottle: 0x00ff00, neck: 0x999999, cap: 0x123456 });
    const reds = loadScenario(variant({ colors: { cap: hue(-30, 30) } }));
    for (let seed = 0; seed < 50; seed++) {
      const [h] = hsvOf(drawAppearance(reds, seed).colors.cap);
      expect(Math.min(h, 360 - h)).toBeLessThanOrEqual(30.5); // 8-bit rounding moves a hue by well under 0.5°
    }
  });

  it("are drawn per episode within their ranges, the same for the same seed, and leave every other draw as it was", () => {
    const range = { hue: [200, 260], saturation: [0.3, 0.6], value: [0.4, 0.8] };
    const scenario = loadScenario(variant({ colors: { bottle: range } }));
    const drawn = [1, 2, 3, 4].map((seed) => drawAppearance(scenario, seed).colors.bottle);
    expect(new Set(drawn).size).toBe(4);
    for (const c of drawn) {
      const [h, s, v] = hsvOf(c);
      expect(h).toBeGreaterThanOrEqual(199.5);
      expect(h).toBeLessThanOrEqual(260.5);
      expect(s).toBeGreaterThanOrEqual(0.29);
      expect(s).toBeLessThanOrEqual(0.61);
      expect(v).toBeGreaterThanOrEqual(0.39);
      expect(v).toBeLessThanOrEqual(0.81);
    }
    expect(drawAppearance(scenario, 3).colors.bottle).toBe(drawn[2]);
    const nominal = loadScenario(FILE);
    for (const seed of [1, 2]) {
      const { colors, ...look } = drawAppearance(scenario, seed);
      const { colors: defaults, ...before } = drawAppearance(nominal, seed);
      expect(look).toEqual(before);
      expect({ ...colors, bottle: defaults.bottle }).toEqual(defaults);
      expect(SimEnv.drawParams(scenario, seed).bottleX).toBe(SimEnv.drawParams(nominal, seed).bottleX);
    }
  });

  /** The least mean absolute difference (per byte) a range must make at seed 1's reset: about half of what it did. */
  const VISIBLE: [string, Record<string, unknown>, Partial<Record<(typeof CAMERAS)[number], number>>][] = [
    // measured 23.6, 24.8, 26.1
    ["table", { table: hue(180, 240, [0.3, 0.5], [0.5, 0.7]) }, { front: 10, left_wrist: 10, right_wrist: 10 }],
    // measured 1.06, 0.60: the bottle is ~100 of 9216 pixels
    [
      "bottle, neck and cap",
      { bottle: hue(200, 260), neck: hue(200, 260), cap: hue(40, 60) },
      { front: 0.5, left_wrist: 0.3 },
    ],
  ];
  const base = createEnv(FILE).reset(1);
  for (const [what, colors, min] of VISIBLE) {
    it(`a range for the ${what} changes what the cameras see`, () => {
      const obs = createEnv(variant({ colors })).reset(1);
      for (const [c, least] of Object.entries(min)) {
        expect(meanAbsDiff(base.images[c]!.data, obs.images[c]!.data), c).toBeGreaterThan(least);
      }
    });
  }
});

describe("grasp models drawn per episode", () => {
  const mixed = variant({ grasp: { model: { weld: 3, friction: 1 }, stiffness: 3000, angular_stiffness: 30 } });

  it("are drawn by weight, the same for the same seed, without changing the episode's other draws", () => {
    const scenario = loadScenario(mixed);
    const nominal = loadScenario(FILE);
    const grasps = Array.from({ length: 200 }, (_, seed) => SimEnv.drawParams(scenario, seed).grasp);
    const friction = grasps.filter((g) => g === "friction").length;
    expect(friction).toBeGreaterThan(30); // 50 expected of 200 at weights 3 : 1
    expect(friction).toBeLessThan(70);
    expect(grasps.filter((g) => g === "weld").length).toBe(200 - friction);
    for (const seed of [0, 1, 2]) {
      const { grasp, ...params } = SimEnv.drawParams(scenario, seed);
      const { grasp: fixed, ...before } = SimEnv.drawParams(nominal, seed);
      expect([grasp, fixed]).toEqual([grasps[seed], "weld"]);
      expect(params).toEqual(before);
    }
  });

  it("an episode that drew a model plays as the scenario with that model fixed, and says which it drew", () => {
    const scenario = loadScenario(mixed);
    const seedOf = (model: string): number => {
      let seed = 0;
      while (SimEnv.drawParams(scenario, seed).grasp !== model) seed++;
      return seed;
    };
    for (const [model, perturb] of [
      ["friction", ["friction-grasp"]],
      ["weld", []],
    ] as const) {
      const seed = seedOf(model);
      const drawn = expertRun(mixed, seed, 50, [], false);
      const fixed = expertRun(FILE, seed, 50, [...perturb], false);
      expect([model, sha256(drawn.states)]).toEqual([model, sha256(fixed.states)]);
      expect(drawn.env.step(drawn.last.state).info.grasp).toBe(model);
      expect(fixed.env.step(fixed.last.state).info.grasp).toBeUndefined();
    }
  });
});

describe("randomisation fields: validation", () => {
  /** The error message of loading a variant with `fields`. */
  const messageOf = (fields: Record<string, unknown>): string => {
    try {
      loadScenario(variant(fields));
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      return (e as ValidationError).message;
    }
    throw new Error("loaded without an error");
  };

  it("refuses colour ranges inverted, outside [0, 1] or ±360°, or with unknown keys, naming the field", () => {
    const message = messageOf({
      colors: {
        table: { hue: [90, 30], saturation: [0, 1], value: [0, 1] },
        bottle: { hue: [0, 360], saturation: [-0.1, 0.5], value: [0.5, 1.2] },
        neck: { hue: [0, 400], saturation: [0.6, 0.2], value: [0, 1] },
        cap: { hue: [0, 360], saturation: [0, 1], value: [0, 1], alpha: [0, 1] },
      },
    });
    expect(message).toContain("colors.table.hue: expected range [lo, hi] with lo <= hi, received [90,30]");
    expect(message).toContain("colors.bottle.saturation.0: expected >= 0, received -0.1");
    expect(message).toContain("colors.bottle.value.1: expected <= 1, received 1.2");
    expect(message).toContain("colors.neck.hue.1: expected <= 360, received 400");
    expect(message).toContain("colors.neck.saturation: expected range [lo, hi] with lo <= hi, received [0.6,0.2]");
    expect(message).toContain("colors.cap: expected no unknown keys (found alpha)");
  });

  it("refuses an unknown grasp model, weights that are not positive, none, or stiffness without a weld", () => {
    const grasp = (model: unknown, extra = {}) => messageOf({ grasp: { model, ...extra } });
    expect(grasp("suction")).toContain(
      'grasp.model: expected one of "friction", "weld", or weights by model such as {"weld": 3, "friction": 1}, received "suction"',
    );
    const weights = grasp({ weld: 0, friction: -1 });
    expect(weights).toContain("grasp.model.weld: expected > 0, received 0");
    expect(weights).toContain("grasp.model.friction: expected > 0, received -1");
    expect(grasp({ suction: 1 })).toContain("grasp.model: expected no unknown keys (found suction)");
    expect(grasp({})).toContain("grasp.model: expected at least one of friction, weld");
    expect(grasp({ friction: 1 }, { stiffness: 3000 })).toContain(
      'grasp: expected stiffness and angular_stiffness only with model "weld" or weights that give it one',
    );
    expect(loadScenario(variant({ grasp: { model: { friction: 1, weld: 1 }, stiffness: 3000 } })).grasp).toEqual({
      model: { friction: 1, weld: 1 },
      stiffness: 3000,
    });
  });
});

describe("scenarios/bottle-cap-randomized.json", () => {
  const randomized = loadScenario("scenarios/bottle-cap-randomized.json");

  /** Every [lo, hi] range in `value`, by its path. */
  function ranges(value: unknown, path = ""): [string, [number, number]][] {
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number")) {
      return [[path, value as [number, number]]];
    }
    if (typeof value !== "object" || value === null) return [];
    return Object.entries(value).flatMap(([k, v]) => ranges(v, `${path}.${k}`));
  }

  it("draws every camera offset and light the benchmark perturbs from a wider range around it", () => {
    for (const name of ["front-camera", "wrist-cameras", "light-intensity", "light-direction", "light-color"]) {
      const perturbed = loadScenario(FILE, [name]);
      const found = ranges({ cameras: perturbed.cameras.map((c) => c.offset ?? null), lighting: perturbed.lighting });
      const wide = new Map(
        ranges({ cameras: randomized.cameras.map((c) => c.offset ?? null), lighting: randomized.lighting }),
      );
      expect(found.length).toBeGreaterThan(0);
      for (const [path, [lo, hi]] of found) {
        const [a, b] = wide.get(path)!;
        expect([name, path, a <= lo && hi <= b]).toEqual([name, path, true]);
        if (lo < hi) expect([name, path, a < lo && hi < b]).toEqual([name, path, true]);
      }
    }
  });

  it("holds the benchmark's colours and the nominal ones inside its colour ranges, and both grasp models", () => {
    const fixed = [
      loadScenario(FILE, ["object-colors", "table-color"]).colors!,
      drawAppearance(loadScenario(FILE), 0).colors,
    ];
    for (const colors of fixed) {
      for (const part of ["table", "bottle", "neck", "cap"] as const) {
        const range = randomized.colors![part] as { hue: number[]; saturation: number[]; value: number[] };
        const [h, s, v] = hsvOf(colors[part] as number);
        const within = (x: number, [lo, hi]: number[]) => lo! <= x && x <= hi!;
        expect([part, within(h, range.hue), within(s, range.saturation), within(v, range.value)]).toEqual([
          part,
          true,
          true,
          true,
        ]);
      }
    }
    expect(randomized.grasp.model).toEqual({ weld: 3, friction: 1 });
  });
});
