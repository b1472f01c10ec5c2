// A progress bar on stderr (stdout stays clean for --json), silent when stderr is not a terminal unless forced.
import cliProgress from "cli-progress";

/** A bar over `total` items; `update(done, text)` redraws. On a non-TTY it prints nothing. */
export function progressBar(label: string, total: number): { update(done: number, text?: string): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} {text} eta {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { text: "" });
  return {
    update: (done, text = "") => bar.update(done, { text }),
    stop: () => bar.stop(),
  };
}

/**
 * Says once on stderr, whether or not it is a terminal, that a queue run is waiting with no worker connected (a run
 * with no workers waits for them; without this a piped or --json run would wait without a word).
 */
export function noWorkerNote(url: string): (workers: number) => void {
  let said = false;
  return (workers) => {
    if (workers > 0 || said) return;
    said = true;
    process.stderr.write(
      `duet: no worker is connected to ${url} yet; the seeds wait for one: duet worker --queue ${url}\n`,
    );
  };
}
