import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../src/core/index.ts";
import { PERTURBATIONS, PERTURBATION_NAMES, createEnv, drawAppearance, loadScenario } from "../../src/sim/index.ts";
import { CAMERAS, FILE, expertRun, meanAbsDiff, sha256, variant } from "./fixtures.ts";

describe("the unperturbed scenario", () => {
  // SHA-256 of scenarios/bottle-cap.json, seed 1, scripted expert (mode drawn), computed with the code before
  // perturbations existed (commit d33cefe). A change that alters them changes every unperturbed episode: only an
  // intended change of the nominal scene may regenerate them (print these hashes from expertRun(FILE, 1, 40)), and
  // its commit says so.
  const BEFORE = {
    reset: {
      front: "ca736ac56b56f67c295c644f3c0db263a7467db7c3d24b505b5d6a24f1eba5db",
      left_wrist: "bcf15845081e8dbb1c7ededa7068101df4f1259f9252c76071765bbebe674e1c",
      right_wrist: "19dbb5fe93c3cf1a680d6a4463a4acc45b5270dff9ecb99dd22e801ffd3b3eb6",
    },
    step40: {
      front: "c86aaef9cdea934a4fe55974decf7fbb277dfec84fbfc4c66b34f9cfda5e1320",
      left_wrist: "6115abba9c14345661104bd236b9370f5e41b47b1ed6e67f3d5a7a880a413ecb",
      right_wrist: "2d4fc435f018b39837d93827123513164433049ed6387679268976d06193238a",
    },
    states: "8fcba54e7a6a92fc3a7bcc6fe3aa5a37870b5556fdf76ab6090c7fab86f21b25",
  };

  it("renders and simulates bit for bit as before perturbations existed (stored hashes)", () => {
    const run = expertRun(FILE, 1, 40);
    for (const c of CAMERAS) {
      expect([c, sha256(run.first.images[c]!.data)]).toEqual([c, BEFORE.reset[c]]);
      expect([c, sha256(run.last.images[c]!.data)]).toEqual([c, BEFORE.step40[c]]);
    }
    expect(sha256(run.states)).toBe(BEFORE.states);
  });

  it("every perturbation field at its nominal value gives the same bytes as the fields absent", () => {
    const nominal = JSON.parse(readFileSync(FILE, "utf8")) as Record<string, unknown> & {
      cameras: Record<string, unknown>[];
    };
    const zero = [
      [0, 0],
      [0, 0],
      [0, 0],
    ];
    const file = variant({
      cameras: nominal.cameras.map((c) => ({ ...c, offset: { position: zero, rotation: zero } })),
      lighting: { intensity: [1, 1], color: [1, 1, 1].map(() => [1, 1]), azimuth: [0, 0], elevation: [0, 0] },
      colors: { table: "#8a6f4e", bottle: "#2e8b57", neck: "#3aa86a", cap: "#d62728" },
      grasp: { model: { weld: 1 }, stiffness: 3000, angular_stiffness: 30 },
      actuation: { delay_s: 0, tracking_noise: 0 },
    });
    const absent = expertRun(FILE, 7, 30);
    const present = expertRun(file, 7, 30);
    for (const c of CAMERAS) {
      expect(sha256(present.first.images[c]!.data)).toBe(sha256(absent.first.images[c]!.data));
      expect(sha256(present.last.images[c]!.data)).toBe(sha256(absent.last.images[c]!.data));
    }
    expect(sha256(present.states)).toBe(sha256(absent.states));
  });
});

describe("named perturbations", () => {
  /**
   * What each perturbation that changes the picture must change at seed 1's reset: the least mean absolute
   * difference (per byte, of 255) for the cameras it must change, about half of what was measured when it was
   * written. A camera offset must leave the other cameras' pictures as they were.
   */
  const VISUAL: Record<string, { min: Partial<Record<(typeof CAMERAS)[number], number>>; only?: boolean }> = {
    "front-camera": { min: { front: 5 }, only: true }, // measured 11.4
    "wrist-cameras": { min: { left_wrist: 3, right_wrist: 1.5 }, only: true }, // 7.9, 3.6
    "light-intensity": { min: { front: 5, left_wrist: 5, right_wrist: 5 } }, // 12.0–13.1
    "light-direction": { min: { front: 1.5, left_wrist: 1.5, right_wrist: 1.5 } }, // 3.9–4.3
    "light-color": { min: { front: 0.7, left_wrist: 0.7, right_wrist: 0.7 } }, // 1.5–1.6
    "object-colors": { min: { front: 0.2, left_wrist: 0.1 } }, // 0.45, 0.23: the bottle is ~100 of 9216 pixels
    "table-color": { min: { front: 7, left_wrist: 7, right_wrist: 7 } }, // 15.0–16.5
  };
  /** The perturbations that change how the arms move or hold, each tested on its own below. */
  const MOTION = ["friction-grasp", "actuation-delay", "tracking-noise"];

  it("each one is tested here", () => {
    expect([...Object.keys(VISUAL), ...MOTION].sort()).toEqual([...PERTURBATION_NAMES].sort());
  });

  const base = createEnv(FILE).reset(1);
  for (const [name, { min, only }] of Object.entries(VISUAL)) {
    it(`${name} changes what the cameras see, and not the episode`, () => {
      const env = createEnv(FILE, { perturb: [name] });
      const obs = env.reset(1);
      for (const c of CAMERAS) {
        const d = meanAbsDiff(base.images[c]!.data, obs.images[c]!.data);
        if (min[c] !== undefined) expect(d, c).toBeGreaterThan(min[c]);
        else if (only) expect([c, d]).toEqual([c, 0]);
      }
      // the appearance has a random stream of its own: the bottle's pose and the cap's tightness are drawn as before
      const unperturbed = createEnv(FILE, { cameras: false });
      unperturbed.reset(1);
      const { appearance: _a, ...params } = env.world.params;
      const { appearance: _b, ...before } = unperturbed.world.params;
      expect(params).toEqual(before);
    });
  }

  it("camera offsets and light are drawn per episode, within their ranges", () => {
    const scenario = loadScenario(FILE, ["front-camera", "light-intensity"]);
    const looks = [1, 2, 3].map((seed) => drawAppearance(scenario, seed));
    const fronts = looks.map((l) => l.cameras.front!);
    expect(new Set(fronts.map((f) => f.position[0])).size).toBe(3);
    for (const f of fronts) {
      for (const x of f.position) expect(Math.abs(x)).toBeLessThanOrEqual(0.02);
      for (const r of f.rotation) expect(Math.abs(r)).toBeLessThanOrEqual((3 * Math.PI) / 180);
    }
    for (const l of looks) {
      expect(l.cameras.left_wrist).toBeNull();
      expect(l.light.intensity).toBeGreaterThanOrEqual(0.5);
      expect(l.light.intensity).toBeLessThanOrEqual(1.5);
    }
    expect(drawAppearance(scenario, 2)).toEqual(looks[1]);
  });

  it("friction-grasp: the fingers hold by friction, and the held bottle moves otherwise than in the weld", () => {
    expect(loadScenario(FILE, ["friction-grasp"]).grasp).toEqual({ model: "friction" });
    const weld = expertRun(FILE, 1, 50, [], false);
    const friction = expertRun(FILE, 1, 50, ["friction-grasp"], false);
    const a = weld.last.environmentState!;
    const b = friction.last.environmentState!;
    const most = Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
    expect(most).toBeGreaterThan(0.01); // measured 0.036 m: the bottle grasped at step 31 shifts in the fingers
  });

  it("actuation-delay: a command moves the joints 50 ms late, so half as far in the first control period", () => {
    const moved = (perturb: string[]): number => {
      const env = createEnv(FILE, { perturb, cameras: false });
      const home = env.reset(1).state;
      const action = Float32Array.from(home);
      action[0] = home[0]! + 0.5; // left joint 1: far enough that it moves at its velocity limit all the while
      const after = env.step(action).observation.state;
      return after[0]! - home[0]!;
    };
    const prompt = moved([]);
    expect(prompt).toBeGreaterThan(0.1);
    // 12 of the 24 physics steps of one control period (0.05 s at 240 Hz) still hold the old target
    expect(moved(["actuation-delay"]) / prompt).toBeCloseTo(0.5, 9);
  });

  it("tracking-noise: the arms miss their targets by the scenario's tracking error (SimEnv's actuationNoise)", () => {
    const hold = (env: ReturnType<typeof createEnv>): Float32Array => {
      const home = env.reset(5).state;
      const states: number[] = [];
      for (let t = 0; t < 20; t++) states.push(...env.step(home).observation.state);
      return Float32Array.from(states);
    };
    const noisy = hold(createEnv(FILE, { perturb: ["tracking-noise"], cameras: false }));
    const option = hold(createEnv(FILE, { actuationNoise: 0.002, cameras: false }));
    const still = hold(createEnv(FILE, { cameras: false }));
    expect(sha256(noisy)).toBe(sha256(option));
    const most = Math.max(...noisy.map((x, i) => Math.abs(x - still[i]!)));
    expect(most).toBeGreaterThan(0.001);
    expect(most).toBeLessThan(0.02);
  });

  it("are listed in docs/simulator.md with their summaries", () => {
    const doc = readFileSync("docs/simulator.md", "utf8");
    for (const [name, p] of Object.entries(PERTURBATIONS)) {
      expect([name, doc.includes(`| \`${name}\``), doc.includes(p.summary)]).toEqual([name, true, true]);
    }
  });
});

describe("perturbation fields: validation", () => {
  it("refuses an unknown perturbation, naming the known ones", () => {
    expect(() => loadScenario(FILE, ["fog"])).toThrow(/perturbation "fog": expected one of front-camera, /);
  });

  it("refuses a camera the scenario does not have, naming those it has", () => {
    const nominal = JSON.parse(readFileSync(FILE, "utf8")) as { cameras: { name: string }[] };
    const file = variant({ cameras: nominal.cameras.slice(0, 1) });
    expect(() => loadScenario(file, ["wrist-cameras"])).toThrow(
      'perturbation "wrist-cameras": cameras has no item named "left_wrist" (it has front)',
    );
  });

  it("refuses bad fields with the file, the path, what was expected and what was found", () => {
    const file = variant({
      lighting: { intensity: [1.5, 0.5], elevation: [0, 120] },
      colors: { cap: "red" },
      actuation: { delay_s: 0.013 },
    });
    let error: unknown;
    try {
      loadScenario(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const message = (error as ValidationError).message;
    expect(message).toContain(file);
    expect(message).toContain("lighting.intensity: expected range [lo, hi] with lo <= hi, received [1.5,0.5]");
    expect(message).toContain("lighting.elevation.1: expected <= 90, received 120");
    expect(message).toContain(
      'colors.cap: expected a colour "#rrggbb" or a range {"hue": [lo, hi], "saturation": [lo, hi], "value": [lo, hi]}, received "red"',
    );
    // the delay is checked once the fields parse
    expect(() => loadScenario(variant({ actuation: { delay_s: 0.013 } }))).toThrow(
      /actuation\.delay_s: expected a whole number of physics steps/,
    );
  });
});
