// The boundary between outside data (JSON files, messages, arguments) and typed values: zod schemas, one error.
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { DuetError, ValidationError, describeValue, type Issue } from "./errors.ts";

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function expectedOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected;
    case "too_small":
      return `${issue.origin === "array" ? "length " : ""}${issue.inclusive ? ">=" : ">"} ${String(issue.minimum)}`;
    case "too_big":
      return `${issue.origin === "array" ? "length " : ""}${issue.inclusive ? "<=" : "<"} ${String(issue.maximum)}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "unrecognized_keys":
      return `no unknown keys (found ${issue.keys.join(", ")})`;
    default:
      return issue.message;
  }
}

/** Validate `value` against `schema`; on failure throw one ValidationError naming `source` and every bad field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: Issue[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    expected: expectedOf(issue),
    received:
      issue.code === "unrecognized_keys" ? "extra keys" : describeValue(valueAt(value, issue.path as PropertyKey[])),
  }));
  throw new ValidationError(source, issues);
}

/** Read a JSON file and validate it. Missing files and invalid JSON are reported with the file name. */
export function loadJsonFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  return readJsonWith(() => readFileSync(file, "utf8"), file, schema);
}

/**
 * Read JSON text with `read` (any file system), parse and validate it; a read failure, invalid JSON or a bad field is
 * reported with `file`.
 */
export function readJsonWith<S extends z.ZodType>(read: () => string, file: string, schema: S): z.output<S> {
  let text: string;
  try {
    text = read();
  } catch (e) {
    throw new DuetError(`${file}: cannot read file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DuetError(`${file}: invalid JSON (${(e as Error).message})`);
  }
  return parseWith(schema, json, file);
}
