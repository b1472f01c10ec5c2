// Parameters live in one flat Float32Array; each tensor is a view at a fixed offset (zero-copy session inputs).
import { Rng } from "../core/index.ts";
import type { GraphBuilder, ParamInit } from "./graph.ts";
import { numel, shapeStr } from "./tensor.ts";

export interface ParamEntry {
  readonly name: string;
  readonly shape: readonly number[];
  /** Offset in floats into the flat array. */
  readonly offset: number;
  readonly size: number;
  readonly init: ParamInit;
  readonly decay: boolean;
}

/** Where each parameter lives in the flat array, in creation order. */
export class ParamLayout {
  readonly entries: readonly ParamEntry[];
  readonly total: number;
  private byName: Map<string, ParamEntry>;

  constructor(entries: readonly Omit<ParamEntry, "offset" | "size">[]) {
    let offset = 0;
    this.entries = entries.map((e) => {
      const size = numel(e.shape);
      const entry = { ...e, offset, size };
      offset += size;
      return entry;
    });
    this.total = offset;
    this.byName = new Map(this.entries.map((e) => [e.name, e]));
  }

  /** The layout of every parameter created on `g` so far. */
  static of(g: GraphBuilder): ParamLayout {
    return new ParamLayout([...g.paramSpecs.values()]);
  }

  entry(name: string): ParamEntry {
    const e = this.byName.get(name);
    if (!e) throw new RangeError(`no parameter named '${name}' (have ${this.entries.length})`);
    return e;
  }

  /** A view of one parameter inside `flat` (no copy). */
  view(flat: Float32Array, name: string): Float32Array {
    const e = this.entry(name);
    return flat.subarray(e.offset, e.offset + e.size);
  }

  /** One line per parameter (`name [shape]`): two layouts are the same architecture iff signatures are equal. */
  signature(): string {
    return this.entries.map((e) => `${e.name} ${shapeStr(e.shape)}`).join("\n");
  }

  /** Fresh values drawn from each parameter's init with a seeded generator. */
  init(seed: number): Float32Array {
    const flat = new Float32Array(this.total);
    const rng = new Rng(seed);
    for (const e of this.entries) {
      const v = flat.subarray(e.offset, e.offset + e.size);
      const init = e.init;
      if (init.kind === "const") v.fill(init.value);
      else if (init.kind === "uniform") for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-init.bound, init.bound);
      else for (let i = 0; i < v.length; i++) v[i] = rng.normal() * init.std;
    }
    return flat;
  }

  /** Per-element weight-decay mask (1 where the parameter decays). */
  decayMask(): Float32Array {
    const mask = new Float32Array(this.total);
    for (const e of this.entries) if (e.decay) mask.fill(1, e.offset, e.offset + e.size);
    return mask;
  }
}
