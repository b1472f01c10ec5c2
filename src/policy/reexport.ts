// Re-export a model directory's graphs with this version's graph code, the weights read back out of its own graphs:
// the models in git ship without their training checkpoints, and a faster way of writing the same network (say, FiLM
// projections of the observation computed once per chunk instead of once per denoising step) reaches them this way.
// The function the graphs compute does not change; the weights keep the precision they were stored in.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AUDIO_SAMPLE_RATE, DuetError, ValidationError, type Issue } from "../core/index.ts";
import { ParamLayout, readOnnxParams, type StoredParam } from "../nn/index.ts";
import { MODEL_FILE, type PolicyModel } from "./modelFile.ts";
import { exportPolicy, readPolicyModel } from "./modelDir.ts";
import { PolicyNetwork } from "./network.ts";

/** The network a model directory's model.json describes. */
export function networkOf(m: PolicyModel, source: string): PolicyNetwork {
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
 * Rewrite the graphs of the model in `from` into `to` (default: in place; model.json is written last, so an
 * interrupted run leaves the old model.json beside whole graph files). Refused, naming each parameter, when the stored
 * weights do not fit the network model.json describes. Returns the new model.json contents.
 */
export function reexportPolicy(from: string, to = from): PolicyModel {
  const m = readPolicyModel(from);
  const source = join(from, MODEL_FILE);
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
  // the model's card says its graphs were rewritten after training, and when
  info.provenance = { ...m.provenance, graphs_rewritten: new Date().toISOString() };
  return exportPolicy(to, network, layout, values, info, precision);
}
