// duet card: a model directory's README.md, its model card, laid out from what the commands left there: model.json
// (config, provenance: command, dataset, seed, steps, wall time), train/config.json, train/log.jsonl, the evaluations
// (eval-test*.json on the test seeds, eval-validation*.json on the validation seeds: `duet eval --json` output) and
// the chunk latency `npm run bench -- policy` measured (models/bench-policy.json), and the robustness runs saved by
// `npm run bench -- robustness --save` (robustness-test.json, robustness-validation.json: a section only where they
// exist), a language-conditioned model's `npm run bench -- language --save` run (language-validation.json), and a
// timed `npm run reproduce` of the model's recipe (reproduce.json, reproduce-test.json). Every number in a card comes
// from those files. `duet card --table` prints the README's results table from the same files.
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { DuetError } from "../core/index.ts";
import { readPolicyModel } from "../policy/index.ts";
import type { DistilledFrom } from "../train/index.ts";
import { documented } from "./help.ts";
import { LANGUAGE_FILE, languageSection, readLanguageRun } from "./language-run.ts";
import { readReproduction, reproduceSection, REPRODUCE_FILE, REPRODUCE_TEST_FILE } from "./reproduce-run.ts";
import { readRobustness } from "./robustness-run.ts";
import { robustnessSection } from "./robustness-table.ts";
import { readSimSummary, type SimSummary } from "./sim.ts";

/** Where `npm run bench -- policy` output is kept for cards and the README (one JSON object, keyed by model name). */
export const BENCH_FILE = "models/bench-policy.json";

/** An evaluation file of a model directory. */
export interface Evaluation {
  file: string;
  /** Test seeds (evaluated once, after every choice) or validation seeds (used for choices). */
  split: "test" | "validation";
  /** "" for the main evaluation; "left", "right", "tasks"… for a language-conditioned policy's others. */
  variant: string;
  summary: SimSummary;
}

interface Provenance {
  dataset: string;
  dataset_episodes: number;
  dataset_frames: number;
  train_episodes: number[];
  val_episodes: number[];
  steps: number;
  seed: number;
  wall_s: number;
  parameters: number;
  command: string;
  /** Set when the run was resumed: the commands before `command`, oldest first. */
  earlier_commands?: string[];
  /** Set when the run started from another run's weights (duet train --init-from). */
  init_from?: { model: string; steps: number; wall_s: number };
  /** Set when the run trained on the frozen observer of another run (duet train --observer-from, or --teacher's). */
  observer_from?: { model: string; steps: number; wall_s: number };
  /** Set when the run was distilled from a teacher model (duet train --teacher). */
  distilled_from?: DistilledFrom;
  /** Set when the graphs were rewritten after training (duet export policy): when, and settings changed [from, to]. */
  rewritten?: { time: string; settings: Record<string, [unknown, unknown]> };
}

interface LogEntry {
  kind: string;
  step: number;
  loss?: number;
  samplesPerSecond?: number;
}

/** What the card needs of `npm run bench -- policy` per model. */
interface BenchEntry {
  latency_ms_median: number;
  latency_ms_p95: number;
}

const EVAL_FILE = /^eval-(test|validation)(?:-([a-z0-9-]+))?\.json$/;
const lastLine = (file: string): string => readFileSync(file, "utf8").trim().split("\n").at(-1) ?? "";
const median = (xs: number[]): number | undefined => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const interval = (r: { wilson95: [number, number] }): string => `${pct(r.wilson95[0])}–${pct(r.wilson95[1])}`;
const cmd = (command: string): string => command.replace(/(^|&& )duet /g, "$1node bin/duet.js ");
const nameOf = (dir: string): string => dir.replace(/\/$/, "").split("/").at(-1) as string;

/** The evaluations in a model directory: test before validation, the main one first within each. */
export function readEvaluations(dir: string): Evaluation[] {
  const found: Evaluation[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = EVAL_FILE.exec(file);
    if (!m) continue;
    const summary = readSimSummary(join(dir, file));
    found.push({ file, split: m[1] as Evaluation["split"], variant: m[2] ?? "", summary });
  }
  const rank = (e: Evaluation): string => `${e.split === "test" ? 0 : 1}${e.variant === "" ? "" : `1${e.variant}`}`;
  return found.sort((a, b) => rank(a).localeCompare(rank(b)));
}

/** `npm run bench -- policy`'s entries by model name, or null when it has not been run. */
export function readBench(file = BENCH_FILE): Record<string, BenchEntry> | null {
  if (!existsSync(file)) return null;
  return JSON.parse(lastLine(file)) as Record<string, BenchEntry>;
}

/** What an evaluation asked: the instruction, tasks drawn per episode, or the scenario's single task. */
function asked(s: SimSummary): string {
  if (s.instruction) return `"${s.instruction}"`;
  return Object.keys((s.per_task as SimSummary["per_task"] | undefined) ?? {}).length > 1
    ? "each episode's task drawn"
    : "";
}

/**
 * The --task and --hand of an evaluation whose summary says what it was scored as (summaries from before the field
 * have none; for a scenario's own phrasing they repeat what the phrasing asks, so the command is the same run).
 */
function scoring(s: SimSummary): string {
  const as = (s.scored_as as SimSummary["scored_as"] | undefined) ?? null;
  if (as === null) return "";
  return ` --task ${as.task}${as.hand === "any" ? "" : ` --hand ${as.hand}`}`;
}

/** Evaluations made before the summary named its scenario ran on the bottle-cap scenario. */
function scenarioOf(s: SimSummary): string {
  return (s.scenario as string | undefined) ?? "scenarios/bottle-cap.json";
}

function seedRange(s: SimSummary): string {
  return `${s.per_episode[0]?.seed}–${s.per_episode.at(-1)?.seed}`;
}

function modes(s: SimSummary): string {
  return `${s.modes.left} / ${s.modes.right} / ${s.modes.none}`;
}

/** Training wall time: this run's, and the runs it built on as far as its provenance records them. */
export function trainingTime(prov: Provenance): string {
  const parts = [`${prov.wall_s} s`];
  // a student's observer is its teacher's, whose training the teacher's time counts
  if (prov.distilled_from) parts.push(`${prov.distilled_from.wall_s} s teacher`);
  else if (prov.observer_from) parts.push(`${prov.observer_from.wall_s} s observer`);
  if (prov.init_from) {
    const chained = (prov.earlier_commands ?? []).some((x) => x.includes("--init-from"));
    parts.push(`${prov.init_from.wall_s} s warm start${chained ? " + earlier runs" : ""}`);
  }
  return parts.join(" + ");
}

function evaluationSection(dir: string, e: Evaluation): string {
  const ev = e.summary;
  const tasks = Object.entries((ev.per_task as SimSummary["per_task"] | undefined) ?? {});
  const modeRow = (mode: string, label: string): string => {
    const eps = ev.per_episode.filter((o) => o.holder === mode);
    return `| ${label} | ${eps.length} (${pct(eps.length / ev.episodes)}) | ${eps.filter((o) => o.success).length} |`;
  };
  const successSteps = ev.per_episode.filter((o) => o.success).map((o) => o.steps);
  return `## ${e.split === "test" ? "Test" : "Validation"} evaluation${asked(ev) ? `: ${asked(ev)}` : ""}

    node bin/duet.js eval --policy ${dir} --scenario ${scenarioOf(ev)} --episodes ${ev.episodes} --seed ${ev.per_episode[0]?.seed} --workers 2\
${ev.instruction ? ` --instruction "${ev.instruction}"` : ""}${scoring(ev)} --json > ${dir}/${e.file}

${ev.episodes} episodes, ${e.split} seeds ${seedRange(ev)}: **${ev.successes}/${ev.episodes} successes, ${pct(ev.success_rate)}**, \
Wilson 95% interval ${interval(ev)}.${
    successSteps.length > 0
      ? ` Successful episodes took a median of ${median(successSteps)} control steps (10 per second).`
      : ` Every episode ran to the ${Math.max(...ev.per_episode.map((o) => o.steps))}-step limit.`
  }
${
  tasks.length > 1 || tasks.some(([, t]) => t.named_hand.episodes > 0)
    ? `
| task | episodes | successes (Wilson 95%) | named hand used |
| --- | --- | --- | --- |
${tasks
  .map(
    ([task, t]) =>
      `| ${task} | ${t.episodes} | ${t.successes} (${interval(t)}) | ${t.named_hand.episodes ? `${t.named_hand.used}/${t.named_hand.episodes}` : "—"} |`,
  )
  .join("\n")}
`
    : ""
}
| mode (which arm held the bottle${tasks.length > 1 ? "; for a handover, the giving arm" : ""}) | episodes | successes |
| --- | --- | --- |
${modeRow("left", "left holds")}
${modeRow("right", "right holds")}
${modeRow("none", "no arm held it")}
`;
}

/** The card of a model directory. `record` is the command that recorded its dataset. */
export function cardText(dir: string, record: string, bench = readBench()): string {
  const name = nameOf(dir);
  const model = readPolicyModel(dir);
  const prov = model.provenance as unknown as Provenance;
  if (typeof prov.command !== "string")
    throw new DuetError(`${dir}/model.json: provenance.command missing (train with duet train)`);
  const evaluations = readEvaluations(dir);
  const first = evaluations[0]?.summary;
  if (!first)
    throw new DuetError(`${dir}: no eval-test.json or eval-validation.json (write them with duet eval … --json)`);
  const batchSize = (
    JSON.parse(readFileSync(join(dir, "train/config.json"), "utf8")) as { train: { batchSize: number } }
  ).train.batchSize;
  const log = readFileSync(join(dir, "train/log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as LogEntry);
  const steps = log.filter((e) => e.kind === "step");
  const vals = log.filter((e) => e.kind === "val");
  const c = model.config;
  const diffusion = c.objective === "diffusion";
  const latency = bench?.[name];
  const robustness = readRobustness(dir, c.inference);
  const language = readLanguageRun(dir);
  const reproduction = readReproduction(dir);
  const resultRow = (e: Evaluation): string => {
    const s = e.summary;
    const what = `${e.split === "test" ? "**test**" : "validation (used for choices)"}${asked(s) ? `, ${asked(s)}` : ""}`;
    const rate = `${s.successes}/${s.episodes} (${pct(s.success_rate)})`;
    return `| ${what} | ${seedRange(s)} | ${e.split === "test" ? `**${rate}**` : rate} | ${interval(s)} | ${modes(s)} |`;
  };

  return `# ${name}

${diffusion ? "Diffusion" : "Regression (baseline)"} policy for \`${scenarioOf(first)}\`: ${c.denoiser.name}\
${c.denoiser.name === "transformer" ? ` (${c.denoiser.causal ? "causal" : "bidirectional"} self-attention over the action tokens)` : ""} \
${
  diffusion
    ? `denoiser (${c.scheduler.prediction} prediction, ${c.inference.inferenceSteps} DDIM steps\
${c.inference.noiseScale !== undefined ? `, starting from noise of standard deviation ${c.inference.noiseScale}` : ""})`
    : "network"
}, \
observer \`${JSON.stringify(c.encoder)}\` on the ${model.cameras.map((x) => x.name).join(", ") || "no"} camera(s)\
${c.observeState ? " plus the 16 joint positions" : " (the joint state is not an input)"}\
${c.observeScene ? `, the simulator's scene state (${c.sceneEntries ? `entries ${c.sceneEntries.join(", ")}; ` : ""}privileged: simulation only)` : ""}\
${c.audio ? `, the sound of the last ${c.audio.window} control periods (spectrogram transformer ${JSON.stringify(c.audio)})` : ""}\
${c.goal ? `, ${c.goal.embedding ? `the CLIP image embedding (${model.goalEncoder?.dim} dimensions, ${model.goalEncoder?.file}) of ` : ""}a goal picture of the ${c.goal.camera} camera` : ""}\
${c.language ? `, the episode's instruction (text encoder ${JSON.stringify(c.language)})` : ""}; ${c.actions} actions; \
To = ${c.obsSteps}, Tp = ${c.predSteps}, Ta = ${c.inference.actionSteps}\
${c.inference.ensemble > 0 ? `, temporal ensembling ${c.inference.ensemble} (each chunk blended with the previous one's plan)` : ""}. ${prov.parameters} parameters. \
Files: ${[...Object.values(model.files), ...(model.goalEncoder ? [model.goalEncoder.file] : [])].join(", ")}, model.json (config, normalizer, provenance), train/ (config.json, \
log.jsonl, curves.png; the checkpoint is not shipped).

Generated by \`node bin/duet.js card ${dir}\` from model.json, train/, the eval-*.json files\
${robustness.map((r) => `, ${r.file}`).join("")}${language ? `, ${LANGUAGE_FILE}` : ""}\
${reproduction ? `, ${REPRODUCE_FILE}${reproduction.test ? `, ${REPRODUCE_TEST_FILE}` : ""}` : ""} and ${BENCH_FILE}.

## Results

The test seeds were evaluated once, after every choice (settings, checkpoint, run settings, which model ships) had been
made on the validation seeds (docs/training.md, "Evaluation protocol"). Modes: episodes in which the left / the right /
no arm held the bottle.

| evaluation | seeds | successes | Wilson 95% | modes (left / right / none) |
| --- | --- | --- | --- | --- |
${evaluations.map(resultRow).join("\n")}

${
  latency
    ? `Chunk latency (observation to a 160-number chunk, 1 thread per graph, \`npm run bench -- policy\`): \
**${latency.latency_ms_median} ms** median, ${latency.latency_ms_p95} ms p95.`
    : `Chunk latency: not measured (\`npm run bench -- policy\` has no entry for ${name} in ${BENCH_FILE}).`
}

## Data

\`${prov.dataset}\`: ${prov.dataset_episodes} scripted-expert episodes, ${prov.dataset_frames} frames, recorded with

    ${cmd(record)}

(episode k is reset with that command's --seed + k). ${prov.train_episodes.length} episodes train, ${prov.val_episodes.length} validate \
(episodes ${prov.val_episodes.join(", ")}).

## Training

${[...(prov.earlier_commands ?? []), prov.command].map((x) => `    ${cmd(x)}`).join("\n")}
${prov.earlier_commands?.length ? "\n(Later commands continued the run: `--resume` picks an interrupted run up, and re-exports a finished one with inference-only settings such as the noise scale changed; `--init-from` starts a new run, with a fresh learning-rate schedule, from an earlier run's weights; `--observer-from` trains on the frozen camera encoders of an earlier run, whose commands come first.)\n" : ""}
${
  prov.distilled_from
    ? `Distilled from \`${prov.distilled_from.model}\` (${prov.distilled_from.steps} steps, ${prov.distilled_from.wall_s} s; it samples in \
${prov.distilled_from.ddim_steps} DDIM steps): this model's ${c.inference.inferenceSteps}-step DDIM sampler was trained to give the teacher's \
sample from the same starting noise and observation (${prov.distilled_from.noises_per_window} noise${prov.distilled_from.noises_per_window === 1 ? "" : "s"} per training window\
${prov.distilled_from.init_from_teacher ? ", starting from the teacher's weights" : ""}; computing the teacher's samples took ${prov.distilled_from.targets_s} s of the wall time), on the teacher's camera encoders, frozen; the teacher's commands come first above. `
    : prov.observer_from
      ? `The camera encoders are those of \`${prov.observer_from.model}\` (${prov.observer_from.steps} steps, ${prov.observer_from.wall_s} s), \
frozen: each frame's features were computed once and only the rest of the policy trained here. `
      : ""
}${
    prov.init_from
      ? `This run started from the weights of \`${prov.init_from.model}\` (${prov.init_from.steps} steps, ${prov.init_from.wall_s} s\
${(prov.earlier_commands ?? []).some((x) => x.includes("--init-from")) ? " of its own, after the earlier runs above that it started from" : ""}). `
      : ""
  }Seed ${prov.seed}, ${prov.steps} steps of ${batchSize} windows, wall time ${prov.wall_s} s on the 2-core machine \
(median ${median(steps.map((e) => e.samplesPerSecond ?? 0))?.toFixed(0)} samples/s); training time in all: ${trainingTime(prov)}. \
Final training loss ${steps.at(-1)?.loss?.toFixed(4)}, validation loss ${vals.at(-1)?.loss?.toFixed(4) ?? "n/a"}. Curves: train/curves.png.\
${
  prov.rewritten
    ? `\n\nThe graphs were rewritten with this version's graph code on ${prov.rewritten.time.slice(0, 10)} (\`node bin/duet.js \
export policy ${dir}${Object.entries(prov.rewritten.settings)
        .map(([k, [, to]]) => ` --${k.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)} ${String(to)}`)
        .join("")}\`: the same weights, read back out of the model's own graphs, so chunks equal up to float rounding)\
${Object.entries(prov.rewritten.settings)
  .map(([k, [from, to]]) => `; ${k} ${String(from)} → ${String(to)}`)
  .join("")}. The evaluations below ran on the rewritten model.`
    : ""
}

${evaluations.map((e) => evaluationSection(dir, e)).join("\n")}${reproduceSection(reproduction, evaluations.find((e) => e.split === "test" && e.variant === "")?.summary)}\
${robustnessSection(robustness)}${languageSection(language)}`;
}

/** The record command an existing card names (so a card can be rewritten without repeating it). */
export function recordCommandOf(dir: string): string | undefined {
  const file = join(dir, "README.md");
  if (!existsSync(file)) return undefined;
  return /recorded with\n\n {4}(.+)\n/.exec(readFileSync(file, "utf8"))?.[1];
}

/**
 * The README's results table: one row per model directory, its main test evaluation and its latency; the default
 * model (marked) first, then by test success.
 */
export function resultsTable(dirs: readonly string[], defaultModel: string, bench = readBench()): string {
  const tests = dirs.map((dir) => {
    const test = readEvaluations(dir).find((e) => e.split === "test" && e.variant === "");
    if (!test) throw new DuetError(`${dir}: no eval-test.json (docs/training.md, "Evaluation protocol")`);
    return { dir, s: test.summary };
  });
  // the default first, then by test success
  tests.sort(
    (a, b) => Number(b.dir === defaultModel) - Number(a.dir === defaultModel) || b.s.successes - a.s.successes,
  );
  const rows = tests.map(({ dir, s }) => {
    const name = nameOf(dir);
    const prov = readPolicyModel(dir).provenance as unknown as Provenance;
    const latency = bench?.[name]?.latency_ms_median;
    const label = `[${name}](${dir}/README.md)${dir === defaultModel ? " (default)" : ""}`;
    const task = [
      scenarioOf(s)
        .replace(/^.*\//, "")
        .replace(/\.json$/, ""),
      asked(s),
    ]
      .filter((x) => x)
      .join(", ");
    return `| ${label} | ${task} | ${s.successes}/${s.episodes} | ${interval(s)} | ${modes(s)} | ${latency === undefined ? "—" : `${latency} ms`} | ${trainingTime(prov)} |`;
  });
  return [
    "| model | scenario, instruction | test successes | Wilson 95% | held: left / right / none | chunk latency | training |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** The model directory `npm start` runs (package.json's start script). */
export function startModel(packageJson = "package.json"): string {
  const start = (JSON.parse(readFileSync(packageJson, "utf8")) as { scripts: { start: string } }).scripts.start;
  const policy = /--policy (\S+)/.exec(start)?.[1];
  if (policy === undefined) throw new DuetError(`${packageJson}: scripts.start names no --policy`);
  return policy;
}

/** The shipped model directories, models/NAME with a model.json. */
export function shippedModels(root = "models"): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, "model.json")))
    .sort()
    .map((d) => `${root}/${d}`);
}

export function registerCard(program: Command): void {
  documented(program.command("card"), {
    summary: "Write a model directory's README.md (its model card) from its model.json, train/ and evaluations",
    details:
      "Every number comes from the files: model.json (config, provenance), train/config.json, train/log.jsonl, " +
      `eval-test*.json and eval-validation*.json (duet eval --json output), ${BENCH_FILE} (npm run bench -- ` +
      "policy), robustness-test.json / robustness-validation.json (npm run bench -- robustness --save), " +
      `${LANGUAGE_FILE} (npm run bench -- language --save) and ${REPRODUCE_FILE} / ${REPRODUCE_TEST_FILE} (a timed npm ` +
      "run reproduce of the recipe, and that reproduction's duet eval --json on the test seeds) where they exist. " +
      "--table prints the README's results table of the shipped models instead.",
    example: "duet card models/bottle-cap-unet",
  })
    .argument("[dirs...]", "model directories")
    .option("--record <command>", "the duet record command that made the dataset (default: the one the card names)")
    .option("--table", "print the README's results table of models/ instead", false)
    .action((dirs: string[], opts: { record?: string; table: boolean }) => {
      if (opts.table) {
        process.stdout.write(resultsTable(dirs.length > 0 ? dirs : shippedModels(), startModel()) + "\n");
        return;
      }
      if (dirs.length === 0) throw new DuetError("duet card: name a model directory, e.g. models/bottle-cap-unet");
      for (const dir of dirs) {
        const record = opts.record ?? recordCommandOf(dir);
        if (record === undefined)
          throw new DuetError(`${dir}: its card names no record command; pass --record "<duet record command>"`);
        writeFileSync(join(dir, "README.md"), cardText(dir, record));
        process.stderr.write(`wrote ${join(dir, "README.md")}\n`);
      }
    });
}
