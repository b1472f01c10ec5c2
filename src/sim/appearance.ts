// What an episode looks like beyond its bodies' shapes: each camera's offset from its nominal pose, the light and the
// colours, drawn from the scenario's ranges (cameras[].offset, lighting, colors) on a random stream of their own.
import { Rng } from "../core/index.ts";
import { COLORED_PARTS, COLORS, type PartColors, type Vec3 } from "./bodies.ts";
import type { ColorSpec, HsvRange, Scenario } from "./scenario.ts";
import { NOMINAL_LIGHT, type SceneLight } from "./scene.ts";

/** A camera's drawn offset: a shift in its mount frame and a turn about its own axes. */
export interface CameraOffset {
  /** Shift (m) in the mount frame, added to both the position and the look-at point. */
  position: Vec3;
  /** Turn (rad) about the camera's right, up and viewing axes (three's XYZ Euler order), applied after aiming. */
  rotation: Vec3;
}

/** An episode's appearance. */
export interface Appearance {
  /** By camera name: the drawn offset, or null where the camera has no `offset` (it sits at its pose). */
  cameras: Record<string, CameraOffset | null>;
  light: SceneLight;
  /** The table's, bottle's, neck's and cap's colours (the bodies carry them, so replays and the viewer show them). */
  colors: PartColors;
}

/**
 * XORed into the episode seed for this stream, so drawing an appearance takes nothing from the streams that draw the
 * bottle's pose, the task, the expert's noise or the sound: an unperturbed episode stays what it was.
 */
const APPEARANCE_STREAM = 0x2b0c7a1d;
const DEG = Math.PI / 180;

/**
 * The appearance of the episode with `seed`. Every camera takes 6 draws, the light 6 and each coloured part 3, in that
 * order, whether or not the scenario perturbs them, so a perturbation added to one camera, the light or one part leaves
 * the others' draws as they were. A range [v, v] draws exactly v, so zero-width ranges give the nominal look bit for
 * bit; a fixed colour ignores its draws.
 */
export function drawAppearance(scenario: Scenario, seed: number): Appearance {
  const rng = new Rng((seed ^ APPEARANCE_STREAM) >>> 0);
  const draw = ([lo, hi]: readonly [number, number], scale = 1): number => rng.uniform(lo, hi) * scale;
  const cameras: Record<string, CameraOffset | null> = {};
  for (const c of scenario.cameras) {
    const p = c.offset?.position ?? ZERO_RANGES;
    const r = c.offset?.rotation ?? ZERO_RANGES;
    const position: Vec3 = [draw(p[0]), draw(p[1]), draw(p[2])];
    const rotation: Vec3 = [draw(r[0], DEG), draw(r[1], DEG), draw(r[2], DEG)];
    cameras[c.name] = c.offset ? { position, rotation } : null;
  }
  const l = scenario.lighting;
  const intensity = draw(l?.intensity ?? ONE);
  const tint: Vec3 = [draw(l?.color[0] ?? ONE), draw(l?.color[1] ?? ONE), draw(l?.color[2] ?? ONE)];
  const azimuth = draw(l?.azimuth ?? ZERO, DEG);
  const elevation = draw(l?.elevation ?? ZERO, DEG);
  const colors = {} as PartColors;
  for (const part of COLORED_PARTS) {
    const hsv: Vec3 = [rng.next(), rng.next(), rng.next()];
    colors[part] = partColor(scenario.colors?.[part], COLORS[part], hsv);
  }
  return { cameras, light: { intensity, tint, sun: turnSun(NOMINAL_LIGHT.sun, azimuth, elevation) }, colors };
}

/** A part's colour: the default where the scenario sets none, its fixed colour, or its range at the draws `u` (in [0, 1)). */
function partColor(spec: ColorSpec | undefined, fallback: number, u: Readonly<Vec3>): number {
  if (spec === undefined) return fallback;
  if (typeof spec === "number") return spec;
  return hsvColor(spec, u);
}

/** The colour at `u` (uniform draws in [0, 1), one per channel) in an HSV range, as the number 0xrrggbb (sRGB). */
function hsvColor({ hue, saturation, value }: HsvRange, u: Readonly<Vec3>): number {
  const at = ([lo, hi]: readonly [number, number], x: number): number => lo + (hi - lo) * x;
  const h = (((at(hue, u[0]) % 360) + 360) % 360) / 60;
  const s = at(saturation, u[1]);
  const v = at(value, u[2]);
  // the standard HSV → RGB: each channel is v less the part of v·s the hue takes from it
  const channel = (n: number): number => {
    const k = (n + h) % 6;
    return Math.round(255 * (v - v * s * Math.max(0, Math.min(k, 4 - k, 1))));
  };
  return (channel(5) << 16) | (channel(3) << 8) | channel(1);
}

const ZERO: [number, number] = [0, 0];
const ONE: [number, number] = [1, 1];
const ZERO_RANGES: readonly [[number, number], [number, number], [number, number]] = [ZERO, ZERO, ZERO];

/**
 * The sun's direction turned by `azimuth` about the vertical, then raised by `elevation` (rad) in its vertical plane.
 * Written so that zero angles return `sun` exactly (x·1 − y·0 = x; h·1 − z·0 = h, and x·(h/h) = x).
 */
function turnSun(sun: Readonly<Vec3>, azimuth: number, elevation: number): Vec3 {
  const [x0, y0, z] = sun;
  const ca = Math.cos(azimuth);
  const sa = Math.sin(azimuth);
  const x = x0 * ca - y0 * sa;
  const y = x0 * sa + y0 * ca;
  const h = Math.hypot(x, y);
  const ce = Math.cos(elevation);
  const se = Math.sin(elevation);
  const scale = (h * ce - z * se) / h;
  return [x * scale, y * scale, h * se + z * ce];
}
