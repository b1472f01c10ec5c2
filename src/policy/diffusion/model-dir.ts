// A model directory: models/NAME/{model.json, encoder.onnx, denoiser.onnx, sampler.onnx} (goal-embedding policies:
// and goal-image.onnx). Written file by file with
// temp + rename (model.json last, so a directory with a model.json is complete); loaded with every problem named.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  AUDIO_SAMPLE_RATE,
  DuetError,
  ValidationError,
  loadJsonFile,
  writeAtomic,
  type Issue,
} from "../../core/index.ts";
import type { GraphBuilder, ParamLayout, WeightPrecision } from "../../nn/index.ts";
import { Session, type DeclaredValue } from "../../runtime/index.ts";
import { DiffusionPolicy, type SamplingOptions } from "./policy.ts";
import {
  GOAL_ENCODER_FILE,
  GRAPH_FILES,
  MODEL_FILE,
  MODEL_FORMAT,
  policyModelSchema,
  type PolicyModel,
} from "./model-file.ts";
import { IO } from "./inputs.ts";
import { PolicyNetwork } from "./network.ts";

/** What `exportPolicy` writes besides the graphs (and the goal encoder, which it records itself). */
export type ModelInfo = Omit<PolicyModel, "format" | "files" | "config" | "goalEncoder">;

/**
 * Write a model directory for `network` with weights `params` (laid out as `layout`, the training layout).
 * The unrolled sampler graph is written for DDIM diffusion policies. `precision` float16 halves the files (the
 * shipped models; inference still runs in float32). A goal-embedding policy's goal encoder (`goalEncoder`: the clip
 * run's image.onnx, as bytes) is written beside them as goal-image.onnx, its SHA-256 and D in model.json. Returns the
 * model.json contents.
 */
export function exportPolicy(
  dir: string,
  network: PolicyNetwork,
  layout: ParamLayout,
  params: Float32Array,
  info: ModelInfo,
  precision: WeightPrecision = "float32",
  goalEncoder?: Uint8Array,
): PolicyModel {
  const c = network.config;
  const dim = network.shape.goalEmbeddingDim;
  if ((dim === undefined) !== (goalEncoder === undefined)) {
    throw new DuetError(
      `${dir}: a goal-embedding policy is exported with its goal encoder, and only such a policy (policy.goal.embedding ${c.goal?.embedding ?? "unset"})`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const withSampler = c.objective === "diffusion" && c.scheduler.sampler === "ddim";
  const write = (file: string, g: GraphBuilder): void =>
    writeAtomic(join(dir, file), PolicyNetwork.compile(g, layout, params, precision).bytes);
  write(GRAPH_FILES.encoder, network.encoderGraph());
  write(GRAPH_FILES.denoiser, network.denoiserGraph());
  if (withSampler) write(GRAPH_FILES.sampler, network.samplerGraph(c.inference.inferenceSteps));
  if (goalEncoder) writeAtomic(join(dir, GOAL_ENCODER_FILE), goalEncoder);
  const model: PolicyModel = {
    format: MODEL_FORMAT,
    config: c,
    ...info,
    ...(goalEncoder &&
      dim !== undefined && {
        goalEncoder: {
          file: GOAL_ENCODER_FILE,
          sha256: createHash("sha256").update(goalEncoder).digest("hex"),
          dim,
        },
      }),
    files: {
      encoder: GRAPH_FILES.encoder,
      denoiser: GRAPH_FILES.denoiser,
      sampler: withSampler ? GRAPH_FILES.sampler : null,
    },
  };
  writeAtomic(join(dir, MODEL_FILE), `${JSON.stringify(model, null, 2)}\n`);
  return model;
}

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
      ...(m.goalEncoder && { goalEmbeddingDim: m.goalEncoder.dim }),
    },
    source,
  );
}

/** What the environment offers; a model made for something else is refused before anything moves. */
export interface PolicyExpectations {
  /** Robot name (dataset robot_type / robot description name). */
  robotType?: string;
  /** Ds: state values per observation. */
  stateDim?: number;
  /** Da: action values per step. */
  actionDim?: number;
  /** Camera names (and sizes, if known) the environment renders. */
  cameras?: readonly { name: string; width?: number; height?: number }[];
  /** Control rate (Hz) of the environment. */
  controlHz?: number;
  /** Environment-state entries the environment reports (null: none, as on a real robot). */
  environmentNames?: readonly string[] | null;
  /** Whether the environment's observations carry sound (Observation.audio). */
  audio?: boolean;
}

export interface LoadPolicyOptions extends SamplingOptions {
  expect?: PolicyExpectations;
  /** onnxruntime threads per graph (default 1: small graphs run fastest on one thread). */
  threads?: number;
}

/** Read and validate `dir/model.json` only (no graphs loaded). */
export function readPolicyModel(dir: string): PolicyModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DuetError(`${dir}: no such model directory (expected ${MODEL_FILE} and the .onnx graphs inside)`);
  }
  const file = join(dir, MODEL_FILE);
  if (!existsSync(file)) {
    throw new DuetError(`${dir}: not a policy model directory: ${MODEL_FILE} is missing (train one with duet train)`);
  }
  return loadJsonFile(file, policyModelSchema);
}

function expectationIssues(m: PolicyModel, e: PolicyExpectations): Issue[] {
  const issues: Issue[] = [];
  if (e.robotType !== undefined && e.robotType !== m.robotType) {
    issues.push({ path: "robotType", expected: JSON.stringify(e.robotType), received: JSON.stringify(m.robotType) });
  }
  if (e.stateDim !== undefined && e.stateDim !== m.stateNames.length) {
    issues.push({ path: "stateNames", expected: `${e.stateDim} names`, received: `${m.stateNames.length}` });
  }
  if (e.actionDim !== undefined && e.actionDim !== m.actionNames.length) {
    issues.push({ path: "actionNames", expected: `${e.actionDim} names`, received: `${m.actionNames.length}` });
  }
  if (e.controlHz !== undefined && e.controlHz !== m.fps) {
    issues.push({ path: "fps", expected: `${e.controlHz} (the environment's control rate)`, received: String(m.fps) });
  }
  if (m.config.observeScene && e.environmentNames !== undefined) {
    const want = (m.environmentNames ?? []).join(",");
    if (e.environmentNames === null || e.environmentNames.join(",") !== want) {
      issues.push({
        path: "environmentNames",
        expected:
          e.environmentNames === null
            ? "none: this environment reports no scene state (config.observeScene policies run in simulation only)"
            : `the environment's scene state (${e.environmentNames.length} entries: ${e.environmentNames.slice(0, 3).join(", ")}, …)`,
        received: `${m.environmentNames?.length ?? 0} entries`,
      });
    }
  }
  if (m.config.audio && e.audio === false) {
    issues.push({
      path: "config.audio",
      expected: "null: this environment's observations carry no sound",
      received: `a sound window of ${m.config.audio.window} control periods (a hearing policy)`,
    });
  }
  if (e.cameras !== undefined) {
    const have = new Map(e.cameras.map((c) => [c.name, c]));
    m.cameras.forEach((cam, i) => {
      const c = have.get(cam.name);
      if (!c) {
        issues.push({
          path: `cameras.${i}.name`,
          expected: `one of the environment's cameras (${[...have.keys()].join(", ") || "none"})`,
          received: JSON.stringify(cam.name),
        });
      } else if (
        (c.width !== undefined && c.width !== cam.width) ||
        (c.height !== undefined && c.height !== cam.height)
      ) {
        issues.push({
          path: `cameras.${i}`,
          expected: `${c.width}x${c.height} (the environment's ${cam.name})`,
          received: `${cam.width}x${cam.height}`,
        });
      }
    });
  }
  return issues;
}

/** Declared-vs-expected graph inputs, as issues naming the file. */
function graphIssues(file: string, declared: readonly DeclaredValue[], want: Record<string, number[]>): Issue[] {
  const issues: Issue[] = [];
  const byName = new Map(declared.map((d) => [d.name, d]));
  for (const [name, shape] of Object.entries(want)) {
    const d = byName.get(name);
    if (!d)
      issues.push({ path: `${file}: input ${name}`, expected: `[${shape.join(",")}]`, received: "nothing (missing)" });
    else if (d.shape.join(",") !== shape.join(",")) {
      issues.push({
        path: `${file}: input ${name}`,
        expected: `[${shape.join(",")}]`,
        received: `[${d.shape.join(",")}]`,
      });
    }
  }
  for (const d of declared) {
    if (!(d.name in want))
      issues.push({ path: `${file}: input ${d.name}`, expected: "no such input", received: "an extra input" });
  }
  return issues;
}

/**
 * Load a trained policy. Refuses, with every problem listed: a missing directory, model.json or graph file; a
 * model.json that is not valid; a model made for another robot/cameras/rate (`expect`); graphs whose inputs do not
 * match model.json (action size, cameras, horizons).
 */
export async function loadPolicy(dir: string, options: LoadPolicyOptions = {}): Promise<DiffusionPolicy> {
  const m = readPolicyModel(dir);
  const modelFile = join(dir, MODEL_FILE);
  if (options.expect) {
    const issues = expectationIssues(m, options.expect);
    if (issues.length > 0) {
      throw new ValidationError(`${modelFile} (made for another robot, camera setup or control rate)`, issues);
    }
  }
  const files = [
    m.files.encoder,
    m.files.denoiser,
    ...(m.files.sampler ? [m.files.sampler] : []),
    ...(m.goalEncoder ? [m.goalEncoder.file] : []),
  ];
  const missing = files.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new DuetError(
      `${dir}: model files missing: ${missing.join(", ")} (listed in ${MODEL_FILE}); re-export the model`,
    );
  }
  const opts = { intraOpThreads: options.threads ?? 1 };
  const opened: Session[] = [];
  const open = async (f: string): Promise<Session> => {
    const session = await Session.create(join(dir, f), { ...opts, label: join(dir, f) });
    opened.push(session);
    return session;
  };
  try {
    const policy = await openPolicy(dir, m, open, options);
    sessionsOf.set(policy, opened);
    return policy;
  } catch (e) {
    // a graph that does not load or match: the ones already open are released before the error leaves, so no native
    // session outlives it (one alive when a worker thread ends aborts the process)
    await releaseAll(opened);
    throw e;
  }
}

/** The sessions each loaded policy holds, for `releasePolicy`. */
const sessionsOf = new WeakMap<DiffusionPolicy, Session[]>();

async function releaseAll(sessions: Session[]): Promise<void> {
  const list = sessions.splice(0);
  await Promise.allSettled(list.map((s) => s.release()));
}

/**
 * Release the onnxruntime sessions of a policy from `loadPolicy` (after which it must not be used). Call it before
 * the thread that loaded the policy ends; calling it twice does nothing.
 */
export async function releasePolicy(policy: DiffusionPolicy): Promise<void> {
  const sessions = sessionsOf.get(policy);
  if (sessions) await releaseAll(sessions);
}

async function openPolicy(
  dir: string,
  m: PolicyModel,
  open: (file: string) => Promise<Session>,
  options: LoadPolicyOptions,
): Promise<DiffusionPolicy> {
  const encoder = await open(m.files.encoder);
  const denoiser = await open(m.files.denoiser);
  const sampler = m.files.sampler ? await open(m.files.sampler) : null;

  const c = m.config;
  const network = networkOf(m, join(dir, MODEL_FILE));
  const dx = network.sampleDim;
  const encWant = Object.fromEntries(
    network.observer.inputs.flatMap((input) => input.tensors(1)).map((t) => [t.name, t.dims]),
  );
  const condDecl = encoder.outputs.find((o) => o.name === IO.cond);
  const condShape = condDecl ? condDecl.shape.map(Number) : [];
  const issues = [
    ...graphIssues(m.files.encoder, encoder.inputs, encWant),
    ...graphIssues(m.files.denoiser, denoiser.inputs, {
      [IO.sample]: [1, c.predSteps, dx],
      [IO.timestep]: [1],
      [IO.cond]: condShape,
    }),
  ];
  if (!condDecl)
    issues.push({ path: `${m.files.encoder}: output ${IO.cond}`, expected: "present", received: "nothing" });
  if (sampler && m.files.sampler) {
    issues.push(
      ...graphIssues(m.files.sampler, sampler.inputs, { [IO.noise]: [1, c.predSteps, dx], [IO.cond]: condShape }),
    );
  }
  if (issues.length > 0) {
    throw new ValidationError(`${dir}: graphs do not match ${MODEL_FILE} (action size, cameras or horizons)`, issues);
  }
  const { expect: _expect, threads: _threads, ...sampling } = options;
  return new DiffusionPolicy(m, network, { encoder, denoiser, sampler }, sampling, dir);
}
