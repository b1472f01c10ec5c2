// Training curves drawn into an RGB buffer and encoded as PNG: left panel loss (train, validation; log10 axis),
// right panel success rate in simulation (0–1). Axes with 5 ticks each; no text (the log has the numbers).
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

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
}

function axes(cv: Canvas, p: Panel): void {
  cv.line(p.x, p.y + p.h, p.x + p.w, p.y + p.h, COLORS.axis);
  cv.line(p.x, p.y, p.x, p.y + p.h, COLORS.axis);
  for (let i = 0; i <= 4; i++) {
    const tx = p.x + (p.w * i) / 4;
    const ty = p.y + (p.h * i) / 4;
    cv.line(tx, p.y + p.h, tx, p.y + p.h + 5, COLORS.axis);
    cv.line(p.x - 5, ty, p.x, ty, COLORS.axis);
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

/** PNG bytes of the curves; x axes span 0…`totalSteps`. */
export function plotCurves(curves: Curves, totalSteps: number, width = 720, height = 300): Buffer {
  const cv = new Canvas(width, height);
  const m = 30;
  const pw = (width - 3 * m) / 2;
  const left: Panel = { x: m, y: m / 2, w: pw, h: height - 2 * m };
  const right: Panel = { x: 2 * m + pw, y: m / 2, w: pw, h: height - 2 * m };
  axes(cv, left);
  axes(cv, right);
  const losses = [...curves.train, ...curves.val].map(([, v]) => v).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.log10(Math.min(...losses, 1));
  const hi = Math.log10(Math.max(...losses, 1e-3));
  const span = Math.max(1e-6, hi - lo);
  const logMap = (v: number): number => (Math.log10(Math.max(v, 1e-12)) - lo) / span;
  curve(cv, left, curves.train, totalSteps, logMap, COLORS.train);
  curve(cv, left, curves.val, totalSteps, logMap, COLORS.val);
  curve(cv, right, curves.success, totalSteps, (v) => v, COLORS.success);
  return encodePng({ width, height, data: cv.data });
}
