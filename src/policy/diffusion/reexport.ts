// Re-export a model directory's graphs with this version's graph code, the weights read back out of its own graphs:
// the models in git ship without their training checkpoints, and a faster way of writing the same network (say, FiLM
// projections of the observation computed once per chunk instead of once per denoising step) reaches them this way.
// The function the graphs compute does not change; the weights keep the precision they were stored in.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AUDIO_SAMPLE_RATE, DuetError, ValidationError, type Issue } from "../../core/index.ts";
import { ParamLayout, readOnnxParams, type StoredParam } from "../../nn/index.ts";
import { policyConfigSchema, type INFERENCE_ONLY_FIELDS, type PolicyConfig } from "./config.ts";
import { MODEL_FILE, type PolicyModel } from "./model-file.ts";
import { exportPolicy, readPolicyModel } from "./model-dir.ts";
import { PolicyNetwork } from "./network.ts";

/** The network a model directory's model.json describes. */
function networkOf(m: PolicyModel, source: string): PolicyNetwork {
  const c = m.config;
  return new PolicyNetwork(
    c,
    {
      stateDim: m.stateNames.length,
      actionDim: m.actionNames.length,
      cameras: m.cameras,
      sceneDim: c.observeScene ? (c.sceneEntries?.length ?? m.environmentNames?.length ?? 0) : 0,
      ...(c.audio && { audioSamples: AUDIO_SAMPLE_RATE / m.fps }),
    },
    source,
  );
}

/**
 * Run-time settings a rewrite may change: the top-level inference-only fields (INFERENCE_ONLY_FIELDS: actionSteps,
 * ensemble); they select how chunks are executed, not what the network computes.
 */
export type RunSettings = Partial<
  Pick<PolicyConfig, Extract<(typeof INFERENCE_ONLY_FIELDS)[number], readonly [unknown]>[0]>
>;

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
  const parsed = policyConfigSchema.safeParse({ ...read.config, ...settings });
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
  const values = new Float32Array(layout.total);
  const issues: Issue[] = [];
  for (const e of layout.entries) {
    const p = stored.get(e.name);
    if (p && p.shape.join(",") === e.shape.join(",")) values.set(p.values, e.offset);
    else
      issues.push({
        path: e.name,
        expected: `[${e.shape.join(",")}]`,
        received: p ? `[${p.shape.join(",")}]` : "nothing (not in the model's graphs)",
      });
  }
  if (issues.length > 0)
    throw new ValidationError(`${from}: the stored weights do not fit the network ${source} describes`, issues);
  const precision = [...stored.values()].some((p) => p.precision === "float16") ? "float16" : "float32";
  const { format: _format, files: _files, config: _config, ...info } = m;
  // the model's card says its graphs were rewritten after training, when, and which settings changed
  const before = (read.provenance.rewritten as { settings?: Record<string, [unknown, unknown]> } | undefined)?.settings;
  const changed: Record<string, [unknown, unknown]> = { ...before };
  for (const k of Object.keys(settings) as (keyof RunSettings)[]) {
    const v = settings[k];
    if (v === undefined || v === read.config[k]) continue;
    changed[k] = [changed[k]?.[0] ?? read.config[k], v]; // from what it was trained with
  }
  info.provenance = { ...read.provenance, rewritten: { time: new Date().toISOString(), settings: changed } };
  return exportPolicy(to, network, layout, values, info, precision);
}
