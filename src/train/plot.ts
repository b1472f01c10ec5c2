// Training curves drawn into an RGB buffer and encoded as PNG: left panel loss (train, validation; log10 axis),
// right panel success rate in simulation (0–100%). Axes with 5 labelled ticks each and a legend, in a 3×5 pixel
// font drawn at twice its size (no font files to ship or find; the log has the exact numbers).
import { encodePng } from "../core/index.ts";

/** (step, value) points of each curve. */
export interface Curves {
  train: [number, number][];
  val: [number, number][];
  success: [number, number][];
}

type Rgb = readonly [number, number, number];
const COLORS = { train: [31, 119, 180], val: [255, 127, 14], success: [44, 160, 44], axis: [60, 60, 60] } as const;

class Canvas {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 3).fill(255);
  }
  set(x: number, y: number, c: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const i = (yi * this.width + xi) * 3;
    this.data[i] = c[0];
    this.data[i + 1] = c[1];
    this.data[i + 2] = c[2];
  }
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thick = 1): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      for (let d = 0; d < thick; d++) this.set(x, y + d, c);
    }
  }
}

/** 3×5 glyphs, rows top to bottom, 3 bits each (4 = left column): what tick labels and the legend need. */
const GLYPHS: Record<string, readonly number[]> = {
  "0": [7, 5, 5, 5, 7],
  "1": [2, 6, 2, 2, 7],
  "2": [7, 1, 7, 4, 7],
  "3": [7, 1, 7, 1, 7],
  "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7],
  "6": [7, 4, 7, 5, 7],
  "7": [7, 1, 1, 1, 1],
  "8": [7, 5, 7, 5, 7],
  "9": [7, 5, 7, 1, 7],
  ".": [0, 0, 0, 0, 2],
  "-": [0, 0, 7, 0, 0],
  "%": [5, 1, 2, 4, 5],
  " ": [0, 0, 0, 0, 0],
  a: [0, 7, 1, 7, 7],
  c: [0, 7, 4, 4, 7],
  e: [7, 5, 7, 4, 7],
  i: [2, 0, 2, 2, 2],
  k: [4, 5, 6, 5, 5],
  l: [6, 2, 2, 2, 7],
  m: [0, 7, 7, 5, 5],
  n: [0, 6, 5, 5, 5],
  o: [0, 7, 5, 5, 7],
  p: [7, 5, 7, 4, 4],
  r: [0, 7, 4, 4, 4],
  s: [0, 7, 6, 1, 7],
  t: [2, 7, 2, 2, 3],
  u: [0, 5, 5, 5, 7],
  v: [0, 5, 5, 5, 2],
};
const SCALE = 2;
/** Width of one character cell, spacing included. */
const CELL = 4 * SCALE;

/** Draw `text` with its top-left corner at (x, y); characters without a glyph are left blank. */
function text(cv: Canvas, x: number, y: number, str: string, c: Rgb): void {
  [...str].forEach((ch, k) => {
    const rows = GLYPHS[ch] ?? GLYPHS[" "];
    rows?.forEach((bits, r) => {
      for (let col = 0; col < 3; col++) {
        if (!(bits & (4 >> col))) continue;
        for (let dy = 0; dy < SCALE; dy++)
          for (let dx = 0; dx < SCALE; dx++) cv.set(x + k * CELL + col * SCALE + dx, y + r * SCALE + dy, c);
      }
    });
  });
}

/** Tick label of a loss on the log axis: one significant digit and the power of ten ("3e-3"). */
function lossLabel(v: number): string {
  const [m, e] = v.toExponential(0).split("e") as [string, string];
  return `${m}e${Number(e)}`;
}

/** Step count label: 12000 → "12k" when it is a whole number of thousands, else the integer. */
function stepLabel(v: number): string {
  const r = Math.round(v);
  return r >= 1000 && r % 1000 === 0 ? `${r / 1000}k` : String(r);
}

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Axes with 5 ticks each; `yLabel(i)` labels the i-th tick from the bottom, x ticks are steps of 0…xMax. */
function axes(cv: Canvas, p: Panel, xMax: number, yLabel: (i: number) => string): void {
  cv.line(p.x, p.y + p.h, p.x + p.w, p.y + p.h, COLORS.axis);
  cv.line(p.x, p.y, p.x, p.y + p.h, COLORS.axis);
  for (let i = 0; i <= 4; i++) {
    const tx = p.x + (p.w * i) / 4;
    const ty = p.y + p.h - (p.h * i) / 4;
    cv.line(tx, p.y + p.h, tx, p.y + p.h + 5, COLORS.axis);
    cv.line(p.x - 5, ty, p.x, ty, COLORS.axis);
    const xs = stepLabel((xMax * i) / 4);
    text(cv, tx - (xs.length * CELL) / 2, p.y + p.h + 8, xs, COLORS.axis);
    const ys = yLabel(i);
    text(cv, p.x - 8 - ys.length * CELL, ty - 5, ys, COLORS.axis);
  }
}

/** Legend entries (a colour swatch, then the name) in a row at the panel's top right. */
function legend(cv: Canvas, p: Panel, entries: readonly [string, Rgb][]): void {
  let x = p.x + p.w;
  for (const [name, c] of [...entries].reverse()) {
    x -= name.length * CELL + 14;
    for (let d = 0; d < 6; d++) cv.line(x, p.y + 4 + d, x + 8, p.y + 4 + d, c);
    text(cv, x + 12, p.y + 2, name, COLORS.axis);
    x -= 8;
  }
}

function curve(
  cv: Canvas,
  p: Panel,
  pts: readonly [number, number][],
  xMax: number,
  yMap: (v: number) => number,
  c: Rgb,
): void {
  let prev: [number, number] | null = null;
  for (const [s, v] of pts) {
    if (!Number.isFinite(v)) continue;
    const x = p.x + (p.w * s) / Math.max(1, xMax);
    const y = p.y + p.h * (1 - Math.min(1, Math.max(0, yMap(v))));
    if (prev) cv.line(prev[0], prev[1], x, y, c, 2);
    else cv.set(x, y, c);
    prev = [x, y];
  }
  if (pts.length === 1 && prev)
    for (let d = -2; d <= 2; d++) cv.line(prev[0] - 2, prev[1] + d, prev[0] + 2, prev[1] + d, c);
}

/** PNG bytes of the curves; x axes span 0…`totalSteps` (labelled in steps). */
export function plotCurves(curves: Curves, totalSteps: number, width = 720, height = 300): Buffer {
  const cv = new Canvas(width, height);
  const m = 56; // room for the y tick labels
  const pw = (width - 2.5 * m) / 2;
  const top = 20;
  const h = height - top - 34;
  const left: Panel = { x: m, y: top, w: pw, h };
  const right: Panel = { x: 2 * m + pw, y: top, w: pw, h };
  const losses = [...curves.train, ...curves.val].map(([, v]) => v).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.log10(Math.min(...losses, 1));
  const hi = Math.log10(Math.max(...losses, 1e-3));
  const span = Math.max(1e-6, hi - lo);
  const logMap = (v: number): number => (Math.log10(Math.max(v, 1e-12)) - lo) / span;
  axes(cv, left, totalSteps, (i) => lossLabel(10 ** (lo + (span * i) / 4)));
  axes(cv, right, totalSteps, (i) => `${25 * i}%`);
  legend(cv, left, [
    ["train loss", COLORS.train],
    ["val loss", COLORS.val],
  ]);
  legend(cv, right, [["sim success", COLORS.success]]);
  curve(cv, left, curves.train, totalSteps, logMap, COLORS.train);
  curve(cv, left, curves.val, totalSteps, logMap, COLORS.val);
  curve(cv, right, curves.success, totalSteps, (v) => v, COLORS.success);
  return encodePng({ width, height, data: cv.data });
}
