// What training checks of its dataset before anything trains: that `duet dataset validate` accepts it, that it is the
// dataset the config expects (shapes, cameras, scene state, sound, readable instructions, statistics), and that it has
// episodes to learn from. Every problem of a kind in one error.
import {
  ACTION_KEY,
  AUDIO_KEY,
  AUDIO_SAMPLE_RATE,
  DuetError,
  ENVIRONMENT_KEY,
  STATE_KEY,
  ValidationError,
  type Issue,
} from "../core/index.ts";
import { Dataset, formatProblem, validateDataset } from "../data/index.ts";
import { Rng } from "../core/index.ts";
import type { CameraShape } from "../policy/index.ts";
import { tokenizerFor } from "../encoders/index.ts";
import type { BatchOptions, Rephrase } from "./batch.ts";
import type { TrainConfig, TrainSettings } from "./config.ts";

/**
 * Decoded-frame cache while training, MB: decoding a PNG costs more than a training sample's share of a step. 8 GB
 * (a third of this 24 GB machine) holds ≈ 100 000 frames of three 96×96 cameras (uint8), so the 450-episode takeover
 * dataset (≈ 68 000 frames) fits; beyond, the least recently used frames are decoded again when drawn.
 */
const TRAIN_IMAGE_CACHE_MB = 8192;

/**
 * Open the dataset at `root` for training on `config` (`source` names the config in errors): refused with validate's
 * problems when validate rejects it, and with every mismatch when it is not what the config expects. → the dataset
 * and the shapes of the cameras the policy reads. A frozen observer (`frozen`) reads each frame once, so its frames
 * are not kept decoded; otherwise those of the policy's cameras stay in memory (100 episodes of one 96×96 camera
 * ≈ 440 MB).
 */
export async function openTrainingDataset(
  root: string,
  config: TrainConfig,
  source: string,
  frozen: boolean,
): Promise<{ dataset: Dataset; cameras: CameraShape[] }> {
  await refuseInvalidDataset(root);
  const dataset = await Dataset.open(root, { imageCacheMb: frozen ? 64 : TRAIN_IMAGE_CACHE_MB });
  const { cameras, issues } = datasetIssues(dataset, config);
  if (issues.length > 0) {
    throw new ValidationError(`${source}: does not match the dataset ${root} — training refused`, issues);
  }
  return { dataset, cameras };
}

/** The episodes training learns from (only the successful ones with `train.successfulOnly`); refused when none. */
export function trainingEpisodes(dataset: Dataset, settings: TrainSettings, root: string): number[] {
  const used = dataset.episodes.filter((e) => e.success || !settings.successfulOnly).map((e) => e.episodeIndex);
  if (used.length === 0)
    throw new DuetError(`${root}: no successful episode to learn from (train.successfulOnly is on)`);
  return used;
}

/**
 * train.augment.paraphrase checked → the batches' rephrasing, or undefined when it is off: refused for a policy
 * without language, without a grammar (`rephrase`, which `duet train` gives), and when a training episode's
 * instruction is none the grammar knows (each such episode named).
 */
export function checkedParaphrase(
  dataset: Dataset,
  used: readonly number[],
  config: TrainConfig,
  source: string,
  rephrase: Rephrase | undefined,
): BatchOptions["paraphrase"] {
  const probability = config.train.augment.paraphrase;
  if (probability === 0) return undefined;
  const path = "train.augment.paraphrase";
  if (!config.policy.language) {
    throw new ValidationError(`${source}: paraphrasing needs a language-conditioned policy`, [
      { path, expected: "0 for a policy without policy.language", received: String(probability) },
    ]);
  }
  if (!rephrase) throw new DuetError(`${source}: ${path} is on, but no paraphrase grammar was given to train()`);
  refuseUnknownToGrammar(dataset, used, rephrase, source, path);
  return { probability, rephrase };
}

/**
 * Refused, naming each (up to 20), when a training episode's instruction (of `used`) is none the grammar of
 * `rephrase` knows: it could not be paraphrased. `path` names the setting that asks for paraphrases, `source` the
 * file or folder it is refused for.
 */
export function refuseUnknownToGrammar(
  dataset: Dataset,
  used: readonly number[],
  rephrase: Rephrase,
  source: string,
  path: string,
): void {
  const probe = new Rng(0);
  const unknown: Issue[] = used
    .map((e) => dataset.episodes[e] as Dataset["episodes"][number])
    .filter((ep) => rephrase(ep.tasks[0] ?? "", probe) === null)
    .map((ep) => ({
      path: `meta/episodes episode ${ep.episodeIndex} task`,
      expected: `an instruction the paraphrase grammar knows (${path} > 0; src/sim/instruction-grammar.ts)`,
      received: JSON.stringify(ep.tasks[0] ?? ""),
    }));
  if (unknown.length > 0) {
    throw new ValidationError(
      `${source}: ${unknown.length} training episode(s) have an instruction the grammar cannot rephrase`,
      unknown.slice(0, 20),
    );
  }
}

/**
 * Train only on a dataset that `duet dataset validate` accepts, refusing with the problems it lists (an fps that does
 * not match the timestamps would otherwise train a model that `eval` then refuses; a wrong feature shape would be
 * blamed on the config).
 */
async function refuseInvalidDataset(root: string): Promise<void> {
  const report = await validateDataset(root);
  if (report.ok) return;
  const shown = 20;
  const n = report.problems.length;
  throw new DuetError(
    [
      `${root}: INVALID, ${n} problem${n === 1 ? "" : "s"} — training refused (duet dataset validate ${root} lists the same)`,
      ...report.problems.slice(0, shown).map(formatProblem),
      ...(n > shown ? [`  … and ${n - shown} more`] : []),
    ].join("\n"),
  );
}

/** Check the dataset against the config; every mismatch in one list. */
function datasetIssues(ds: Dataset, config: TrainConfig): { cameras: CameraShape[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const e = config.dataset;
  const spec = ds.spec;
  if (e.robotType !== undefined && e.robotType !== spec.robotType)
    issues.push({
      path: "dataset.robotType",
      expected: JSON.stringify(e.robotType),
      received: JSON.stringify(spec.robotType),
    });
  if (e.stateDim !== undefined && e.stateDim !== spec.stateNames.length)
    issues.push({ path: "dataset.stateDim", expected: String(e.stateDim), received: String(spec.stateNames.length) });
  if (e.actionDim !== undefined && e.actionDim !== spec.actionNames.length)
    issues.push({
      path: "dataset.actionDim",
      expected: String(e.actionDim),
      received: String(spec.actionNames.length),
    });
  if (e.fps !== undefined && e.fps !== spec.fps)
    issues.push({ path: "dataset.fps", expected: String(e.fps), received: String(spec.fps) });
  const p = config.policy;
  const byName = new Map(spec.cameras.map((c) => [c.name, c]));
  const names = p.cameras ?? (p.encoder ? spec.cameras.map((c) => c.name) : []);
  const cameras: CameraShape[] = [];
  names.forEach((n, i) => {
    const c = byName.get(n);
    if (!c) {
      issues.push({
        path: `policy.cameras.${i}`,
        expected: `a camera of the dataset (${[...byName.keys()].join(", ") || "none"})`,
        received: JSON.stringify(n),
      });
    } else cameras.push({ name: c.name, height: c.height, width: c.width });
  });
  if (names.length > 0 && !p.encoder)
    issues.push({ path: "policy.encoder", expected: "an encoder for the cameras", received: "null" });
  const stats = ds.stats();
  if (config.train.sceneLoss > 0 && ds.spec.environmentNames === undefined)
    issues.push({
      path: "train.sceneLoss",
      expected: `0, or a dataset with ${ENVIRONMENT_KEY} (recorded in simulation)`,
      received: String(config.train.sceneLoss),
    });
  if (p.observeScene && ds.spec.environmentNames === undefined)
    issues.push({
      path: "policy.observeScene",
      expected: `false, or a dataset with ${ENVIRONMENT_KEY} (recorded in simulation)`,
      received: "true",
    });
  if (p.observeScene && p.sceneEntries && ds.spec.environmentNames) {
    const names = ds.spec.environmentNames;
    p.sceneEntries.forEach((n, i) => {
      if (!names.includes(n))
        issues.push({
          path: `policy.sceneEntries.${i}`,
          expected: `an entry of the dataset's scene state (${names.join(", ")})`,
          received: JSON.stringify(n),
        });
    });
  }
  if (p.audio) {
    const want = AUDIO_SAMPLE_RATE / spec.fps;
    if (spec.audioSamples !== want)
      issues.push({
        path: "policy.audio",
        expected: `null, or a dataset with ${AUDIO_KEY} of ${want} samples per frame (duet record --audio)`,
        received:
          spec.audioSamples === undefined ? "a dataset without sound" : `${spec.audioSamples} samples per frame`,
      });
  }
  if (p.language) {
    // every task must tokenize: a language-conditioned policy learns nothing from a window it cannot read
    const tokenizer = tokenizerFor(p.language);
    for (const ep of ds.episodes) {
      const task = ep.tasks[0];
      let why: string | null = task === undefined ? "no task" : null;
      if (task !== undefined) {
        try {
          tokenizer.normalize(task);
        } catch (err) {
          why = (err as Error).message;
        }
      }
      if (why !== null) {
        issues.push({
          path: `meta/episodes episode ${ep.episodeIndex} task`,
          expected: `an instruction the text encoder reads (policy.language.maxTokens ${p.language.maxTokens})`,
          received: why,
        });
      }
    }
  }
  const scene = config.train.sceneLoss > 0 || p.observeScene;
  for (const key of [STATE_KEY, ACTION_KEY, ...(scene ? [ENVIRONMENT_KEY] : [])]) {
    if (!stats[key])
      issues.push({ path: `meta/stats.json ${key}`, expected: "min/max statistics", received: "nothing" });
  }
  return { cameras, issues };
}
