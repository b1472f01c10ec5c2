// Rows computed ahead and kept on disk (src/train/row-file.ts): committed rows are read back, a block cut short is cut
// off, a count beyond the file is refused, and rows of another identity are refused or replaced as the caller says.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RowFile, type RowFileOptions } from "../../src/train/row-file.ts";
import { tempDir } from "../policy/fixtures.ts";

const refuse = (differs: readonly string[]): Error => new Error(`other ${differs.join(", ")}`);

function open(path: string, o: Partial<RowFileOptions> = {}): RowFile {
  return RowFile.open({ path, identity: { a: 1, b: [2, 3] }, rows: 5, rowSize: 2, otherIdentity: refuse, ...o });
}

describe("RowFile", () => {
  it("keeps committed rows, and continues after an interruption cut a block short", () => {
    const path = join(tempDir("duet-rows-"), "sub", "rows");
    const f = open(path);
    expect(f.done).toBe(0);
    f.data.set([1, 2, 3, 4, 5, 6]);
    f.commit(2);
    f.commit(3);
    expect(JSON.parse(readFileSync(`${path}.json`, "utf8"))).toEqual({ identity: { a: 1, b: [2, 3] }, rowsDone: 3 });
    appendFileSync(`${path}.f32`, new Uint8Array(5)); // a block written, its count not
    const again = open(path);
    expect(again.done).toBe(3);
    expect([...again.data]).toEqual([1, 2, 3, 4, 5, 6, 0, 0, 0, 0]);
    again.data.set([7, 8, 9, 10], 6);
    again.commit(5);
    expect([...new Float32Array(new Uint8Array(readFileSync(`${path}.f32`)).buffer)]).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
  });

  it("refuses a file shorter than its count, and rows of another identity unless told to replace them", () => {
    const path = join(tempDir("duet-rows-"), "rows");
    const f = open(path);
    f.data.set([1, 2, 3, 4]);
    f.commit(2);
    expect(() => open(path, { identity: { a: 1, b: [2, 4], c: 0 } })).toThrow("other b, c");
    const replaced = open(path, { identity: { a: 2 }, otherIdentity: () => "replace" });
    expect(replaced.done).toBe(0);
    expect(readFileSync(`${path}.f32`).length).toBe(0);
    expect(JSON.parse(readFileSync(`${path}.json`, "utf8"))).toEqual({ identity: { a: 2 }, rowsDone: 0 });
    writeFileSync(`${path}.json`, JSON.stringify({ identity: { a: 2 }, rowsDone: 1 }));
    expect(() => open(path, { identity: { a: 2 } })).toThrow(`${path}.f32: shorter than ${path}.json says (1 rows)`);
  });
});
