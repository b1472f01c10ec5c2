// Re-export a model directory's graphs with this version's graph code, the weights read back out of its own graphs:
// the models in git ship without their training checkpoints, and a faster way of writing the same network (say, FiLM
// projections of the observation computed once per chunk instead of once per denoising step) reaches them this way.
// The function the graphs compute does not change; the weights keep the precision they were stored in.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DuetError, ValidationError } from "../../core/index.ts";
import { ParamLayout, paramsByName, readOnnxParams, type StoredParam } from "../../nn/index.ts";
import { policyConfigSchema } from "./config.ts";
import type { InferenceOverrides } from "./inference.ts";
import { MODEL_FILE, type PolicyModel } from "./model-file.ts";
import { exportPolicy, networkOf, readPolicyModel } from "./model-dir.ts";

/** Run-time settings a rewrite may change: the inference settings (inference.ts); the network stays what it is. */
export type RunSettings = InferenceOverrides;

/**
 * Rewrite the graphs of the model in `from` into `to` (default: in place; model.json is written last, so an
 * interrupted run leaves the old model.json beside whole graph files), with `settings` changed in its config. Refused,
 * naming each parameter, when the stored weights do not fit the network model.json describes, and naming the field
 * when a setting is out of range. Returns the new model.json contents; its provenance says when the graphs were
 * rewritten and which settings changed from what.
 */
export function reexportPolicy(from: string, to = from, settings: RunSettings = {}): PolicyModel {
  const read = readPolicyModel(from);
  const source = join(from, MODEL_FILE);
  const parsed = policyConfigSchema.safeParse({ ...read.config, inference: { ...read.config.inference, ...settings } });
  if (!parsed.success)
    throw new ValidationError(
      `${from}: the settings asked for`,
      parsed.error.issues.map((i) => ({
        path: i.path.join("."),
        expected: i.message,
        received: JSON.stringify(settings),
      })),
    );
  const m: PolicyModel = { ...read, config: parsed.data };
  const stored = new Map<string, StoredParam>();
  for (const file of [m.files.encoder, m.files.denoiser]) {
    const path = join(from, file);
    if (!existsSync(path)) throw new DuetError(`${from}: ${file} is missing (listed in ${MODEL_FILE})`);
    for (const [name, p] of readOnnxParams(readFileSync(path), path)) stored.set(name, p);
  }
  const network = networkOf(m, source);
  const specs = new Map([...network.encoderGraph().paramSpecs, ...network.denoiserGraph().paramSpecs]);
  const layout = new ParamLayout([...specs.values()]);
  const { values, issues } = paramsByName(layout, stored);
  if (issues.length > 0)
    throw new ValidationError(`${from}: the stored weights do not fit the network ${source} describes`, issues);
  const precision = [...stored.values()].some((p) => p.precision === "float16") ? "float16" : "float32";
  const { format: _format, files: _files, config: _config, goalEncoder, ...info } = m;
  // the model's card says its graphs were rewritten after training, when, and which settings changed
  const before = (read.provenance.rewritten as { settings?: Record<string, [unknown, unknown]> } | undefined)?.settings;
  const changed: Record<string, [unknown, unknown]> = { ...before };
  for (const k of Object.keys(settings) as (keyof RunSettings)[]) {
    const v = settings[k];
    const was = read.config.inference[k];
    if (v === undefined || v === was) continue;
    changed[k] = [changed[k]?.[0] ?? was, v]; // from what it was trained with
  }
  info.provenance = { ...read.provenance, rewritten: { time: new Date().toISOString(), settings: changed } };
  // a goal-embedding policy's goal encoder goes along unchanged (read before anything is written: `to` may be `from`)
  const goalFile = goalEncoder && join(from, goalEncoder.file);
  if (goalFile !== undefined && !existsSync(goalFile))
    throw new DuetError(`${from}: ${goalEncoder?.file} is missing (listed in ${MODEL_FILE})`);
  const goalBytes = goalFile !== undefined ? readFileSync(goalFile) : undefined;
  return exportPolicy(to, network, layout, values, info, precision, goalBytes);
}
