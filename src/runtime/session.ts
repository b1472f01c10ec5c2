// The one module that touches onnxruntime-node: sessions with chosen threads and optimization level, validated runs.
import { readFileSync, readdirSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { DuetError, ValidationError, type Executor, type Fetches, type Issue, type TensorData } from "../core/index.ts";
/** Element type of a tensor crossing the session boundary. */
export type TensorDType = "float32" | "int64" | "bool";

/** A declared input or output: name, element type, dims (a string is a symbolic dim such as "batch"). */
export interface DeclaredValue {
  name: string;
  dtype: TensorDType;
  shape: readonly (number | string)[];
}

export interface SessionOptions {
  /** Threads inside one operator (default 2: this machine's core count). */
  intraOpThreads?: number;
  /** Graph optimization level (default "all"). */
  optimization?: "disabled" | "basic" | "extended" | "all";
  /** Name used in error messages (default "model"). */
  label?: string;
  /**
   * Record onnxruntime's per-node profile into a file whose path starts with this prefix, one of its own (in a fresh
   * temporary folder); `endProfiling()` returns its events and removes the file. Default: no profile.
   */
  profilePrefix?: string;
  /** Where onnxruntime writes the graph as its optimizer left it, to see what runs (diagnostics; default none). */
  optimizedModelPath?: string;
}

/** One event of onnxruntime's profile (Chrome trace format): a node's kernel or a whole run, in microseconds. */
export interface ProfileEvent {
  /** "Node" (one kernel: `name` is the node's name + "_kernel_time") or "Session" (`model_run`: one run). */
  cat: string;
  name: string;
  /** Start, µs since the session started. */
  ts: number;
  /** Duration, µs. */
  dur: number;
  args?: { op_name?: string };
}

function dtypeOf(data: TensorData["data"]): TensorDType {
  return data instanceof Float32Array ? "float32" : data instanceof BigInt64Array ? "int64" : "bool";
}

function ortTensor(f: TensorData): ort.Tensor {
  return new ort.Tensor(dtypeOf(f.data), f.data, [...f.dims]);
}

function ortType(t: string): TensorDType | null {
  return t === "float32" || t === "int64" || t === "bool" ? t : null;
}

/** An onnxruntime session whose inputs are checked against the model's declared inputs before each run. */
export class Session implements Executor {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputs: readonly DeclaredValue[],
    readonly outputs: readonly DeclaredValue[],
    readonly label: string,
    private readonly profilePrefix: string | null,
  ) {}

  /** Load a model from bytes or a file path. */
  static async create(model: Uint8Array | string, options: SessionOptions = {}): Promise<Session> {
    const label = options.label ?? (typeof model === "string" ? model : "model");
    let session: ort.InferenceSession;
    const opts: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.intraOpThreads ?? 2,
      interOpNumThreads: 1,
      graphOptimizationLevel: options.optimization ?? "all",
      executionMode: "sequential",
      ...(options.profilePrefix !== undefined && { enableProfiling: true, profileFilePrefix: options.profilePrefix }),
      ...(options.optimizedModelPath !== undefined ? { optimizedModelFilePath: options.optimizedModelPath } : {}),
    };
    try {
      session =
        typeof model === "string"
          ? await ort.InferenceSession.create(model, opts)
          : await ort.InferenceSession.create(model, opts);
    } catch (e) {
      throw new DuetError(`${label}: onnxruntime could not load the model: ${(e as Error).message}`);
    }
    const declared = (meta: readonly ort.InferenceSession.ValueMetadata[]): DeclaredValue[] =>
      meta.map((m) => ({
        name: m.name,
        dtype: m.isTensor ? (ortType(m.type) ?? "float32") : "float32",
        shape: m.isTensor ? [...m.shape] : [],
      }));
    return new Session(
      session,
      declared(session.inputMetadata),
      declared(session.outputMetadata),
      label,
      options.profilePrefix ?? null,
    );
  }

  /**
   * Every missing, extra, mis-typed or mis-shaped input, and every unknown output or preallocated output of another
   * type or shape in `fetches`, as issues (empty when the feeds and fetches fit).
   */
  check(feeds: Readonly<Record<string, TensorData>>, fetches?: Fetches): Issue[] {
    const issues: Issue[] = [];
    const symbols = new Map<string, number>();
    const fits = (d: DeclaredValue, f: TensorData, path: string): void => {
      const dt = dtypeOf(f.data);
      const count = f.dims.reduce((p, q) => p * q, 1);
      let ok = dt === d.dtype && f.dims.length === d.shape.length && count === f.data.length;
      d.shape.forEach((s, i) => {
        const got = f.dims[i];
        if (typeof s === "number") ok &&= got === s;
        else if (got !== undefined) {
          const prev = symbols.get(s);
          if (prev !== undefined && prev !== got) ok = false;
          symbols.set(s, got);
        }
      });
      if (!ok) {
        issues.push({
          path,
          expected: `${d.dtype} [${d.shape.join(",")}]`,
          received: `${dt} [${f.dims.join(",")}] with ${f.data.length} values`,
        });
      }
    };
    for (const d of this.inputs) {
      const f = feeds[d.name];
      if (f) fits(d, f, d.name);
      else issues.push({ path: d.name, expected: `${d.dtype} [${d.shape.join(",")}]`, received: "nothing (missing)" });
    }
    const names = new Set(this.inputs.map((d) => d.name));
    for (const name of Object.keys(feeds)) {
      if (!names.has(name)) issues.push({ path: name, expected: "no such input", received: "an extra input" });
    }
    if (fetches && Object.keys(fetches).length === 0) {
      issues.push({ path: "fetches", expected: "at least one output name", received: "none" });
    }
    for (const [name, f] of Object.entries(fetches ?? {})) {
      const d = this.outputs.find((o) => o.name === name);
      if (!d) issues.push({ path: `fetches.${name}`, expected: "an output of the model", received: "no such output" });
      else if (f) fits(d, f, `fetches.${name}`);
    }
    return issues;
  }

  /**
   * Validate the feeds and fetches (one error listing every problem), run, and return every output, or those named
   * in `fetches`: onnxruntime writes a preallocated one into the caller's array, and it comes back as the caller's
   * tensor (onnxruntime-node 1.30 still copies it into a new array of its own, which is dropped).
   */
  async run(feeds: Readonly<Record<string, TensorData>>, fetches?: Fetches): Promise<Record<string, TensorData>> {
    const issues = this.check(feeds, fetches);
    if (issues.length > 0) throw new ValidationError(`${this.label} inputs`, issues);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) ortFeeds[name] = ortTensor(f);
    let result: ort.InferenceSession.ReturnType;
    if (fetches === undefined) result = await this.session.run(ortFeeds);
    else {
      const ortFetches: Record<string, ort.Tensor | null> = {};
      for (const [name, f] of Object.entries(fetches)) ortFetches[name] = f ? ortTensor(f) : null;
      result = await this.session.run(ortFeeds, ortFetches);
    }
    const out: Record<string, TensorData> = {};
    for (const [name, t] of Object.entries(result)) {
      out[name] = fetches?.[name] ?? { data: t.data as TensorData["data"], dims: [...t.dims] };
    }
    return out;
  }

  /** Stop the profiler (SessionOptions.profilePrefix): every event recorded since the session started. */
  endProfiling(): ProfileEvent[] {
    const prefix = this.profilePrefix;
    if (prefix === null) {
      throw new DuetError(`${this.label}: endProfiling() needs a session created with profilePrefix`);
    }
    this.session.endProfiling();
    // onnxruntime appends the start time to the prefix: the newest file with the prefix is this session's.
    const dir = dirname(prefix);
    const files = readdirSync(dir)
      .filter((f) => f.startsWith(basename(prefix)) && f.endsWith(".json"))
      .sort();
    const file = files.at(-1);
    if (file === undefined) throw new DuetError(`${this.label}: onnxruntime wrote no profile at ${prefix}*.json`);
    const path = join(dir, file);
    const events = JSON.parse(readFileSync(path, "utf8")) as ProfileEvent[];
    unlinkSync(path);
    return events;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
