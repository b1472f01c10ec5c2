// Joint plot: one arm's 7 joints and its gripper over the episode (canvas 2D), with a cursor at the current frame.
const COLORS = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#ffffff"];

/**
 * `joints: F × 16`; `offset`: the arm's first slot (0 left, 8 right); the gripper (slot offset+7, metres) is drawn ×50
 * so its 0–4 cm range is visible beside the joints' radians.
 */
export function drawJointPlot(
  canvas: HTMLCanvasElement,
  joints: readonly number[][],
  offset: number,
  frame: number,
): void {
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const { width: w, height: h } = canvas;
  ctx.fillStyle = "#15171b";
  ctx.fillRect(0, 0, w, h);
  const F = joints.length;
  if (F === 0) return;
  const value = (t: number, j: number) => (joints[t]![offset + j] ?? 0) * (j === 7 ? 50 : 1);
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < F; t++) {
    for (let j = 0; j < 8; j++) {
      lo = Math.min(lo, value(t, j));
      hi = Math.max(hi, value(t, j));
    }
  }
  if (hi - lo < 1e-6) {
    lo -= 1;
    hi += 1;
  }
  const x = (t: number) => (F === 1 ? w / 2 : (t / (F - 1)) * (w - 10) + 5);
  const y = (v: number) => h - 5 - ((v - lo) / (hi - lo)) * (h - 10);
  for (let j = 0; j < 8; j++) {
    ctx.strokeStyle = COLORS[j]!;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let t = 0; t < F; t++) {
      if (t === 0) ctx.moveTo(x(t), y(value(t, j)));
      else ctx.lineTo(x(t), y(value(t, j)));
    }
    ctx.stroke();
  }
  ctx.strokeStyle = "#aaa";
  ctx.beginPath();
  ctx.moveTo(x(frame), 0);
  ctx.lineTo(x(frame), h);
  ctx.stroke();
  ctx.fillStyle = "#aaa";
  ctx.font = "10px sans-serif";
  ctx.fillText(`${hi.toFixed(2)}`, 4, 10);
  ctx.fillText(`${lo.toFixed(2)}`, 4, h - 4);
}
