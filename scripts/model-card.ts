// `node --import tsx scripts/model-card.ts models/NAME --record "<the duet record command that made the dataset>"`:
// write models/NAME/README.md, the model card, from what the commands left in the model directory: model.json
// (config, provenance: command, dataset, seed, steps, wall time), train/config.json, train/log.jsonl (losses,
// samples/s) and eval.json (the `duet eval … --json` output). Every number in the card comes from those files; the
// card only lays them out. scripts/reproduce.sh runs it with the record command it ran.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readPolicyModel } from "../src/policy/index.ts";

interface Outcome {
  seed: number;
  success: boolean;
  steps: number;
  holder: string;
}
interface Rates {
  episodes: number;
  successes: number;
  wilson95: [number, number];
}
interface Summary {
  /** Absent in evaluations made before the summary named them: the bottle-cap scenario, tasks drawn. */
  scenario?: string;
  instruction?: string | null;
  per_task?: Record<string, Rates & { named_hand: { episodes: number; used: number } }>;
  episodes: number;
  successes: number;
  success_rate: number;
  wilson95: [number, number];
  per_episode: Outcome[];
}
interface LogEntry {
  kind: string;
  step: number;
  loss?: number;
  samplesPerSecond?: number;
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
  /** Set when the run trained on the frozen observer of another run (duet train --observer-from). */
  observer_from?: { model: string; steps: number; wall_s: number };
  /** Set when the graphs were rewritten after training (duet export policy): when, and settings changed [from, to]. */
  rewritten?: { time: string; settings: Record<string, [unknown, unknown]> };
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { record: { type: "string" } } });
const dir = positionals[0];
const recordCommand = values.record;
if (!dir || !recordCommand) {
  throw new Error(
    'usage: scripts/model-card.ts MODEL_DIR --record "<duet record command>" (MODEL_DIR holds eval.json from duet eval --json)',
  );
}
const name = dir.replace(/\/$/, "").split("/").at(-1) as string;
const model = readPolicyModel(dir);
const prov = model.provenance as unknown as Provenance;
if (typeof prov.command !== "string")
  throw new Error(`${dir}/model.json: provenance.command missing (train with duet train)`);
const batchSize = (JSON.parse(readFileSync(join(dir, "train/config.json"), "utf8")) as { train: { batchSize: number } })
  .train.batchSize;
const lastLine = (file: string): string => readFileSync(file, "utf8").trim().split("\n").at(-1) ?? "";
// eval.json, the main evaluation, then any eval-*.json (e.g. one per instruction for a language-conditioned policy)
const evalFiles = [
  "eval.json",
  ...readdirSync(dir)
    .filter((f) => /^eval-.+\.json$/.test(f))
    .sort(),
];
const readEval = (f: string): Summary => JSON.parse(lastLine(join(dir, f))) as Summary;
const ev = readEval("eval.json");
const log = readFileSync(join(dir, "train/log.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l) as LogEntry);
const steps = log.filter((e) => e.kind === "step");
const vals = log.filter((e) => e.kind === "val");
const median = (xs: number[]): number | undefined => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const c = model.config;
const diffusion = c.objective === "diffusion";
const modeRow = (ev: Summary, mode: string, label: string): string => {
  const eps = ev.per_episode.filter((o) => o.holder === mode);
  const ok = eps.filter((o) => o.success).length;
  return `| ${label} | ${eps.length} (${pct(eps.length / ev.episodes)}) | ${ok} |`;
};
const interval = (r: Rates): string => `${pct(r.wilson95[0])}–${pct(r.wilson95[1])}`;
const evaluation = (file: string): string => {
  const ev = readEval(file);
  const seeds = ev.per_episode.map((o) => o.seed);
  const scenario = ev.scenario ?? "scenarios/bottle-cap.json";
  const tasks = Object.entries(ev.per_task ?? {});
  return `## Evaluation${ev.instruction ? `: "${ev.instruction}"` : tasks.length > 1 ? ": each episode's task drawn" : ""}

    node bin/duet.js eval --policy ${dir} --scenario ${scenario} --episodes ${ev.episodes} --seed ${seeds[0]} --workers 2\
${ev.instruction ? ` --instruction "${ev.instruction}"` : ""} --json > ${dir}/${file}

${ev.episodes} episodes, seeds ${seeds[0]}–${seeds.at(-1)} (never used for recording): \
**${ev.successes}/${ev.episodes} successes, ${pct(ev.success_rate)}**, Wilson 95% interval ${interval(ev)}.\
${
  ev.successes > 0
    ? ` Successful episodes took a median of \
${median(ev.per_episode.filter((o) => o.success).map((o) => o.steps))} control steps (10 per second).`
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
${modeRow(ev, "left", "left holds")}
${modeRow(ev, "right", "right holds")}
${modeRow(ev, "none", "no arm held it")}
`;
};
const evaluations = evalFiles.map(evaluation);
const cmd = (command: string): string => command.replace(/(^|&& )duet /g, "$1node bin/duet.js ");

const card = `# ${name}

${diffusion ? "Diffusion" : "Regression (baseline)"} policy for \`${ev.scenario ?? "scenarios/bottle-cap.json"}\`: ${c.denoiser.name}\
${c.denoiser.name === "transformer" ? ` (${c.denoiser.causal ? "causal" : "bidirectional"} self-attention over the action tokens)` : ""} \
${
  diffusion
    ? `denoiser (${c.scheduler.prediction} prediction, ${c.scheduler.inferenceSteps} DDIM steps\
${c.scheduler.noiseScale !== undefined ? `, starting from noise of standard deviation ${c.scheduler.noiseScale}` : ""})`
    : "network"
}, \
observer \`${JSON.stringify(c.encoder)}\` on the ${model.cameras.map((x) => x.name).join(", ") || "no"} camera(s)\
${c.observeState ? " plus the 16 joint positions" : " (the joint state is not an input)"}\
${c.observeScene ? `, the simulator's scene state (${c.sceneEntries ? `entries ${c.sceneEntries.join(", ")}; ` : ""}privileged: simulation only)` : ""}\
${c.audio ? `, the sound of the last ${c.audio.window} control periods (spectrogram transformer ${JSON.stringify(c.audio)})` : ""}\
${c.goal ? `, a goal picture of the ${c.goal.camera} camera` : ""}\
${c.language ? `, the episode's instruction (text encoder ${JSON.stringify(c.language)})` : ""}; ${c.actions} actions; \
To = ${c.obsSteps}, Tp = ${c.predSteps}, Ta = ${c.actionSteps}\
${c.ensemble > 0 ? `, temporal ensembling ${c.ensemble} (each chunk blended with the previous one's plan)` : ""}. ${prov.parameters} parameters. \
Files: ${Object.values(model.files).join(", ")}, model.json (config, normalizer, provenance), train/ (config.json, \
log.jsonl, curves.png; the checkpoint is not shipped).

Generated by \`node --import tsx scripts/model-card.ts ${dir}\` from model.json, train/ and eval.json.

## Data

\`${prov.dataset}\`: ${prov.dataset_episodes} scripted-expert episodes, ${prov.dataset_frames} frames, recorded with

    ${cmd(recordCommand)}

(episode k is reset with that command's --seed + k). ${prov.train_episodes.length} episodes train, ${prov.val_episodes.length} validate \
(episodes ${prov.val_episodes.join(", ")}).

## Training

${[...(prov.earlier_commands ?? []), prov.command].map((x) => `    ${cmd(x)}`).join("\n")}
${prov.earlier_commands?.length ? "\n(Later commands continued the run: `--resume` picks an interrupted run up, and re-exports a finished one with inference-only settings such as the noise scale changed; `--init-from` starts a new run, with a fresh learning-rate schedule, from an earlier run's weights; `--observer-from` trains on the frozen camera encoders of an earlier run, whose commands come first.)\n" : ""}
${
  prov.observer_from
    ? `The camera encoders are those of \`${prov.observer_from.model}\` (${prov.observer_from.steps} steps, ${prov.observer_from.wall_s} s), \
frozen: each frame's features were computed once and only the rest of the policy trained here\
${prov.init_from ? "" : `; ${prov.observer_from.wall_s + prov.wall_s} s of training in all`}. `
    : ""
}${
  prov.init_from
    ? `This run started from the weights of \`${prov.init_from.model}\` (${prov.init_from.steps} steps, ${prov.init_from.wall_s} s\
${
  (prov.earlier_commands ?? []).some((x) => x.includes("--init-from"))
    ? " of its own, after the earlier runs above that it started from)"
    : `): ${prov.init_from.steps + prov.steps} steps and ${prov.init_from.wall_s + prov.wall_s} s of training in all`
}. `
    : ""
}Seed ${prov.seed}, ${prov.steps} steps of ${batchSize} windows, wall time ${prov.wall_s} s on the 2-core machine \
(median ${median(steps.map((e) => e.samplesPerSecond ?? 0))?.toFixed(0)} samples/s). Final training loss \
${steps.at(-1)?.loss?.toFixed(4)}, validation loss ${vals.at(-1)?.loss?.toFixed(4) ?? "n/a"}. Curves: train/curves.png.\
${
  prov.rewritten
    ? `\n\nThe graphs were rewritten with this version's graph code on ${prov.rewritten.time.slice(0, 10)} (\`node bin/duet.js \
export policy ${dir}${Object.entries(prov.rewritten.settings)
        .map(([k, [, to]]) => ` --${k.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)} ${String(to)}`)
        .join("")}\`: the same weights, read back out of the model's own graphs, so chunks equal up to float rounding)\
${Object.entries(prov.rewritten.settings)
  .map(([k, [from, to]]) => `; ${k} ${String(from)} → ${String(to)}`)
  .join("")}. The evaluation below ran on the rewritten model.`
    : ""
}

${evaluations.join("\n")}`;
writeFileSync(join(dir, "README.md"), card);
process.stderr.write(`wrote ${join(dir, "README.md")}\n`);
