// Named perturbations: scenario overlays for what a policy meets once it leaves the simulator it was trained in — a
// camera mounted a little elsewhere, other light, other colours, fingers that hold by friction, a late or imprecise
// arm. `duet sim|eval --perturb` and `npm run bench -- robustness` take them by name; docs/simulator.md lists them.
import { DuetError } from "../core/index.ts";

/** A JSON value, as a scenario file holds. */
type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
/** A JSON object. */
type JsonObject = { readonly [key: string]: Json };

/** One named perturbation: what it stands for, and the scenario overlay that makes it. */
export interface Perturbation {
  /** One line: what a real cell would have to be like for this to happen. */
  summary: string;
  /**
   * A JSON merge patch (RFC 7386) over the scenario file: objects merge key by key, `null` removes a key, anything
   * else replaces. One addition: an object laid over an array of named items (`cameras`) patches the items by name.
   */
  overlay: JsonObject;
}

/** The same range [lo, hi] for each of three axes or channels. */
const each = (lo: number, hi: number): Json => [
  [lo, hi],
  [lo, hi],
  [lo, hi],
];

/** The named perturbations, each small enough that a real cell could plausibly differ so from the simulator. */
export const PERTURBATIONS: Readonly<Record<string, Perturbation>> = {
  "front-camera": {
    summary: "front camera shifted up to ±2 cm and turned up to ±3° on each axis, drawn per episode",
    overlay: { cameras: { front: { offset: { position: each(-0.02, 0.02), rotation: each(-3, 3) } } } },
  },
  "wrist-cameras": {
    summary: "both wrist cameras shifted up to ±1 cm and turned up to ±3° on each axis, drawn per episode",
    overlay: {
      cameras: {
        left_wrist: { offset: { position: each(-0.01, 0.01), rotation: each(-3, 3) } },
        right_wrist: { offset: { position: each(-0.01, 0.01), rotation: each(-3, 3) } },
      },
    },
  },
  "light-intensity": {
    summary: "every light 50% to 150% as bright, drawn per episode",
    overlay: { lighting: { intensity: [0.5, 1.5] } },
  },
  "light-direction": {
    summary: "the sun turned up to ±90° about the vertical and ±20° in elevation, drawn per episode",
    overlay: { lighting: { azimuth: [-90, 90], elevation: [-20, 20] } },
  },
  "light-color": {
    summary: "the light tinted: each colour channel 75% to 125%, drawn per episode",
    overlay: { lighting: { color: each(0.75, 1.25) } },
  },
  "object-colors": {
    summary: "a blue bottle with a yellow cap instead of a green one with a red cap",
    overlay: { colors: { bottle: "#2f5fa8", neck: "#3f78c8", cap: "#e8c22a" } },
  },
  "table-color": {
    summary: "a grey table instead of a wooden brown one",
    overlay: { colors: { table: "#7a7a7a" } },
  },
  "friction-grasp": {
    summary: "fingers that hold by friction (μ · grip force) instead of a compliant weld",
    overlay: { grasp: { model: "friction", stiffness: null, angular_stiffness: null } },
  },
  "actuation-delay": {
    summary: "every command reaches the joints 50 ms late (half a control period at 10 Hz)",
    overlay: { actuation: { delay_s: 0.05 } },
  },
  "tracking-noise": {
    summary: "joints 1–6 track their targets with a slowly varying error of 0.002 rad std",
    overlay: { actuation: { tracking_noise: 0.002 } },
  },
};

/** The names of the perturbations, in table order. */
export const PERTURBATION_NAMES: readonly string[] = Object.keys(PERTURBATIONS);

/** Lay the named perturbations over a scenario file's JSON, in order; the input is not changed. */
export function applyPerturbations(scenario: unknown, names: readonly string[]): unknown {
  let out = scenario;
  for (const name of names) {
    const p = PERTURBATIONS[name];
    if (!p) {
      throw new DuetError(`perturbation "${name}": expected one of ${PERTURBATION_NAMES.join(", ")}`);
    }
    out = mergePatch(out, p.overlay, name, "");
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** RFC 7386 merge of `patch` into `target`, with arrays of named items patched by name (see Perturbation.overlay). */
function mergePatch(target: unknown, patch: Json, name: string, path: string): unknown {
  if (!isObject(patch)) return patch;
  if (Array.isArray(target) && target.every((item) => isObject(item) && typeof item.name === "string")) {
    const items = target as Record<string, unknown>[];
    const out = [...items];
    for (const [key, value] of Object.entries(patch)) {
      const i = items.findIndex((item) => item.name === key);
      if (i < 0) {
        throw new DuetError(
          `perturbation "${name}": ${path} has no item named "${key}" (it has ${items.map((item) => item.name).join(", ") || "none"})`,
        );
      }
      out[i] = mergePatch(items[i], value, name, `${path}.${key}`) as Record<string, unknown>;
    }
    return out;
  }
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value, name, path ? `${path}.${key}` : key);
  }
  return out;
}
