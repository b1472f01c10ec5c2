// npm run bench -- <name> [args]: runs bench/<name>.ts and prints its result as exactly one JSON line on stdout
// (progress goes to stderr). Each benchmark exports `run(args): Promise<Record<string, unknown>>`.
import { DuetError } from "../src/core/index.ts";

const BENCHMARKS = [
  "sim",
  "render",
  "train",
  "vision",
  "policy",
  "record",
  "bridge",
  "robustness",
  "queue",
  "language",
] as const;

const [benchName, ...args] = process.argv.slice(2);
if (benchName === undefined || !(BENCHMARKS as readonly string[]).includes(benchName)) {
  console.error(`usage: npm run bench -- <${BENCHMARKS.join("|")}> [args]`);
  process.exit(2);
}
const mod = (await import(`./${benchName}.ts`)) as { run(args: string[]): Promise<Record<string, unknown>> };
try {
  console.log(JSON.stringify(await mod.run(args)));
} catch (e) {
  // a bad argument or input: its message, as duet prints it, not a stack trace
  if (e instanceof DuetError) {
    process.stderr.write(`bench ${benchName}: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
