// Waiting in real time for what arrives over a socket: the protocol tests here and the runner's end-to-end tests
// (tests/runner/deploy, tests/runner/record) poll with these.

/** Wait until `cond()` holds (polling every 5 ms); reject naming `what` after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
