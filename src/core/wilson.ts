// Binomial confidence interval for success rates.

/** 95% Wilson score interval for `successes` out of `n` trials. Returns [0, 1] for n = 0. */
export function wilson95(successes: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.959963984540054;
  const p = successes / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  // the bounds are exactly 0 with no successes and 1 with no failures (rounding would leave e.g. 3.5e-18)
  return [successes === 0 ? 0 : Math.max(0, centre - half), successes === n ? 1 : Math.min(1, centre + half)];
}
