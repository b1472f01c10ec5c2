// Errors are data: a validation error collects every issue (path, expected, received) and is thrown once.

/** Base class for errors a user is meant to read: the message says what, where, and what to do. */
export class DuetError extends Error {
  override name = "DuetError";
}

/** One problem found while validating a value. `path` is a dotted field path such as `arms.0.dh.3.a`. */
export interface Issue {
  path: string;
  expected: string;
  received: string;
}

/** Every issue found in one source (a file, a message, an argument list), thrown once. */
export class ValidationError extends DuetError {
  override name = "ValidationError";
  constructor(
    readonly source: string,
    readonly issues: readonly Issue[],
  ) {
    super(
      `${source}: ${issues.length} invalid field${issues.length === 1 ? "" : "s"}\n` +
        issues.map((i) => `  - ${i.path || "(root)"}: expected ${i.expected}, received ${i.received}`).join("\n"),
    );
  }
}

/** Short, single-line rendering of a received value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing (missing)";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  if (text === undefined) return typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
