// The parsed value of a benchmark's option, with commander's argument parsers (src/cli/args.ts), so a bad value is
// refused as the commands refuse it, naming the option.
import { DuetError } from "../src/core/index.ts";

/** Parse `value` of option `name` with a commander-style parser (`fallback` when absent), naming the option. */
export function option<T>(name: string, value: string | undefined, parse: (v: string) => T, fallback: T): T {
  if (value === undefined) return fallback;
  try {
    return parse(value);
  } catch (e) {
    throw new DuetError(`--${name}: ${(e as Error).message}`);
  }
}

/** The value after `--name` in `args` (the raw argument list), else `fallback`. */
export function argValue(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
}
