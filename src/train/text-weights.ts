// A text encoder's trained weights on their own: `duet clip` writes its text encoder to `text.safetensors` (the
// TextTransformer's parameter names, without the clip graph's scope, and its full config in the metadata), and
// `duet train --text-from` starts a new run's instruction encoder (policy.language) from them. Written and read
// through the checkpoint format (nn/checkpoint.ts): parameters only, no optimizer state.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DuetError, ValidationError, parseWith, type Issue } from "../core/index.ts";
import { GraphBuilder, ParamLayout, checkpointMetadata, loadCheckpoint, saveCheckpoint } from "../nn/index.ts";
import { TextTransformer, textEncoderConfigSchema, type TextEncoderConfig } from "../encoders/index.ts";
import { PolicyNetwork } from "../policy/index.ts";

/** The file in a clip run's folder. */
export const TEXT_WEIGHTS_FILE = "text.safetensors";
/** The metadata key of the encoder's config (JSON). */
const CONFIG_KEY = "text_encoder";

/** A text encoder's weights: its config, its parameters by their own names (no scope) and their values. */
export interface TextWeights {
  /** Where they came from (the clip run folder). */
  from: string;
  config: TextEncoderConfig;
  layout: ParamLayout;
  params: Float32Array;
}

/** The parameters of a text encoder of `config` under their own names (`token.weight`, `pos`, `block0.…`). */
function ownLayout(config: TextEncoderConfig): ParamLayout {
  const g = new GraphBuilder();
  const t = config.maxTokens;
  new TextTransformer(config).apply(g, g.input("ids", [1, t], { dtype: "int64" }), g.input("eos", [1, t]));
  return ParamLayout.of(g);
}

/**
 * Write the text encoder of `config` whose parameters are named `scope.<own name>` in `layout` (values `params`) to
 * `path`, with its config and `steps` (the optimizer steps that trained it).
 */
export function saveTextWeights(
  path: string,
  config: TextEncoderConfig,
  from: { scope: string; layout: ParamLayout; params: Float32Array },
  steps: number,
): void {
  const own = ownLayout(config);
  const values = new Float32Array(own.total);
  for (const e of own.entries) values.set(from.layout.view(from.params, `${from.scope}.${e.name}`), e.offset);
  saveCheckpoint(path, own, {
    params: values,
    m: null,
    v: null,
    ema: null,
    step: steps,
    rng: null,
    extra: { [CONFIG_KEY]: JSON.stringify(config) },
  });
}

/**
 * The text weights of the clip run in `dir` for a policy's instruction encoder of config `language` (null: the
 * policy has none). Refused, naming the file: a policy without language, a missing or unreadable file, and a text
 * encoder of another config than `language` (each field that differs). `source` names the training config.
 */
export function loadTextWeights(dir: string, language: TextEncoderConfig | null, source: string): TextWeights {
  const flag = `--text-from ${dir}`;
  if (!language) {
    throw new DuetError(`${flag}: ${source} has no policy.language, so there is no instruction encoder to start`);
  }
  const path = join(dir, TEXT_WEIGHTS_FILE);
  if (!existsSync(path)) {
    throw new DuetError(`${flag}: ${path} is missing; give the output folder of a duet clip run (it writes it)`);
  }
  const config = savedConfig(path);
  const issues: Issue[] = Object.entries(language)
    .filter(([key, want]) => config[key as keyof TextEncoderConfig] !== want)
    .map(([key, want]) => ({
      path: `policy.language.${key}`,
      expected: `${JSON.stringify(want)} (${source})`,
      received: `${JSON.stringify(config[key as keyof TextEncoderConfig])} (${path})`,
    }));
  if (issues.length > 0) {
    throw new ValidationError(`${flag}: the text encoder in ${path} is not the one ${source} asks for`, issues);
  }
  const layout = ownLayout(config);
  return { from: dir, config, layout, params: loadCheckpoint(path, layout).params };
}

/** The text encoder config in the metadata of `path` (a checkpoint-format file), refused when absent or invalid. */
function savedConfig(path: string): TextEncoderConfig {
  const text = checkpointMetadata(path)[CONFIG_KEY];
  let json: unknown;
  try {
    json = JSON.parse(text ?? "null");
  } catch {
    json = null;
  }
  if (json === null) {
    throw new DuetError(`${path}: no text encoder config in its metadata (${CONFIG_KEY}); not written by duet clip`);
  }
  return parseWith(textEncoderConfigSchema, json, `${path}: metadata ${CONFIG_KEY}`);
}

/** Set the instruction encoder's parameters in `params` (a policy's training parameters, `layout`) to `text`'s. */
export function setTextWeights(text: TextWeights, layout: ParamLayout, params: Float32Array): void {
  for (const e of text.layout.entries) {
    layout.view(params, `${PolicyNetwork.languageScope}.${e.name}`).set(text.layout.view(text.params, e.name));
  }
}
