// The written files follow the LeRobot v3.0 layout: every meta key, every column name and parquet type.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parquetMetadata, type SchemaElement } from "hyparquet";
import { describe, expect, it } from "vitest";
import { writeFixture } from "./fixtures.ts";

/** Top-level columns as `name: TYPE` (groups show their leaves: LIST<FLOAT>, struct{bytes:BYTE_ARRAY,...}). */
function columns(file: string): Record<string, string> {
  const bytes = readFileSync(file);
  const schema = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).schema;
  const out: Record<string, string> = {};
  let i = 1;
  const describe = (): string => {
    const el = schema[i++] as SchemaElement;
    if (el.type !== undefined) return `${el.type}${el.converted_type === "UTF8" ? "(UTF8)" : ""}`;
    const children: string[] = [];
    for (let c = 0; c < (el.num_children ?? 0); c++) {
      const name = (schema[i] as SchemaElement).name;
      children.push(`${name}:${describe()}`);
    }
    // 3-level lists as pyarrow writes them: <name> (LIST) { repeated group list { element } }.
    if (el.converted_type === "LIST") return `LIST<${/^list:\{element:(.*)\}$/.exec(children[0] ?? "")?.[1] ?? "?"}>`;
    return `{${children.join(",")}}`;
  };
  while (i < schema.length) {
    const name = (schema[i] as SchemaElement).name;
    out[name] = describe();
  }
  return out;
}

describe("LeRobot v3.0 layout", () => {
  it("writes the folder tree and meta/info.json with every key of the specification", async () => {
    const root = await writeFixture(3);
    const tree = (dir: string): string[] =>
      readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
        d.isDirectory() ? tree(join(dir, d.name)) : [join(dir, d.name)],
      );
    expect(tree(".").sort()).toEqual([
      "data/chunk-000/file-000.parquet",
      "meta/episodes/chunk-000/file-000.parquet",
      "meta/info.json",
      "meta/stats.json",
      "meta/tasks.parquet",
    ]);
    const info = JSON.parse(readFileSync(join(root, "meta/info.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(info).sort()).toEqual(
      [
        "codebase_version",
        "robot_type",
        "total_episodes",
        "total_frames",
        "total_tasks",
        "chunks_size",
        "data_files_size_in_mb",
        "video_files_size_in_mb",
        "fps",
        "splits",
        "data_path",
        "video_path",
        "features",
      ].sort(),
    );
    expect(info).toMatchObject({
      codebase_version: "v3.0",
      robot_type: "test_bimanual",
      total_episodes: 3,
      total_frames: 16,
      total_tasks: 2,
      chunks_size: 1000,
      fps: 10,
      splits: { train: "0:3" },
      data_path: "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
      video_path: "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
    });
    expect(info["features"]).toEqual({
      "observation.state": { dtype: "float32", shape: [3], names: ["s0", "s1", "s2"] },
      action: { dtype: "float32", shape: [4], names: ["a0", "a1", "a2", "a3"] },
      "observation.images.top": { dtype: "image", shape: [6, 8, 3], names: ["height", "width", "channels"] },
      "observation.images.wrist": { dtype: "image", shape: [4, 5, 3], names: ["height", "width", "channels"] },
      timestamp: { dtype: "float32", shape: [1], names: null },
      frame_index: { dtype: "int64", shape: [1], names: null },
      episode_index: { dtype: "int64", shape: [1], names: null },
      index: { dtype: "int64", shape: [1], names: null },
      task_index: { dtype: "int64", shape: [1], names: null },
    });
  });

  it("writes data, episodes and tasks parquet files with the standard columns and types", async () => {
    const root = await writeFixture(3);
    expect(columns(join(root, "data/chunk-000/file-000.parquet"))).toEqual({
      "observation.state": "LIST<FLOAT>",
      action: "LIST<FLOAT>",
      "observation.images.top": "{bytes:BYTE_ARRAY,path:BYTE_ARRAY(UTF8)}",
      "observation.images.wrist": "{bytes:BYTE_ARRAY,path:BYTE_ARRAY(UTF8)}",
      timestamp: "FLOAT",
      frame_index: "INT64",
      episode_index: "INT64",
      index: "INT64",
      task_index: "INT64",
    });
    const episodes = columns(join(root, "meta/episodes/chunk-000/file-000.parquet"));
    expect(Object.fromEntries(Object.entries(episodes).filter(([k]) => !k.startsWith("stats/")))).toEqual({
      episode_index: "INT64",
      tasks: "LIST<BYTE_ARRAY(UTF8)>",
      length: "INT64",
      "data/chunk_index": "INT64",
      "data/file_index": "INT64",
      dataset_from_index: "INT64",
      dataset_to_index: "INT64",
      "meta/episodes/chunk_index": "INT64",
      "meta/episodes/file_index": "INT64",
      success: "BOOLEAN",
      mode: "BYTE_ARRAY(UTF8)",
      seed: "INT64",
    });
    const statKeys = ["min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99"];
    for (const feature of [
      "observation.state",
      "action",
      "observation.images.top",
      "timestamp",
      "index",
      "task_index",
    ]) {
      for (const s of statKeys) expect(episodes[`stats/${feature}/${s}`], `stats/${feature}/${s}`).toBeDefined();
    }
    expect(episodes["stats/observation.state/mean"]).toBe("LIST<DOUBLE>");
    expect(episodes["stats/observation.images.top/mean"]).toBe("LIST<LIST<LIST<DOUBLE>>>");
    expect(columns(join(root, "meta/tasks.parquet"))).toEqual({ task_index: "INT64", task: "BYTE_ARRAY(UTF8)" });
    // pandas metadata makes `task` the index, as LeRobot's load_tasks expects.
    const tasks = readFileSync(join(root, "meta/tasks.parquet"));
    const kv = parquetMetadata(
      tasks.buffer.slice(tasks.byteOffset, tasks.byteOffset + tasks.byteLength),
    ).key_value_metadata;
    const pandas = JSON.parse(kv?.find((e) => e.key === "pandas")?.value ?? "{}") as { index_columns?: string[] };
    expect(pandas.index_columns).toEqual(["task"]);
  });

  it("writes meta/stats.json with min/max/mean/std/count/quantiles for every feature, images per channel", async () => {
    const root = await writeFixture(2);
    const stats = JSON.parse(readFileSync(join(root, "meta/stats.json"), "utf8")) as Record<
      string,
      Record<string, unknown>
    >;
    expect(Object.keys(stats).sort()).toEqual(
      [
        "observation.state",
        "action",
        "observation.images.top",
        "observation.images.wrist",
        "timestamp",
        "frame_index",
        "episode_index",
        "index",
        "task_index",
      ].sort(),
    );
    for (const s of Object.values(stats)) {
      expect(Object.keys(s).sort()).toEqual(["count", "max", "mean", "min", "q01", "q10", "q50", "q90", "q99", "std"]);
    }
    expect(stats["observation.state"]?.["count"]).toEqual([12]);
    expect((stats["observation.state"]?.["mean"] as number[]).length).toBe(3);
    // Images: [3][1][1] per channel, values in [0, 1].
    const top = stats["observation.images.top"]?.["max"] as number[][][];
    expect(top.map((c) => [c.length, c[0]?.length])).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    expect(stats["frame_index"]?.["max"]).toEqual([6]);
  });
});
