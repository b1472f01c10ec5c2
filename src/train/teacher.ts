// Distillation's teacher (`duet train --teacher DIR`): a trained DDIM diffusion policy, its weights read out of its
// exported graphs into its own sampling loop, giving for an observation and a starting noise the chunk it acts on. With
// η = 0 that map is deterministic, so a student trained on (observation, noise) → the teacher's sample learns the map,
// modes included (different noises, different modes), and can take fewer DDIM steps than the teacher needs
// (docs/training.md, "Distillation").
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DuetError, ValidationError, type Issue } from "../core/index.ts";
import type { DatasetSpec } from "../data/index.ts";
import { ParamLayout, paramsByName, readOnnxParams, type StoredParam } from "../nn/index.ts";
import { IO, PolicyNetwork, networkOf, readPolicyModel, type CameraShape, type PolicyModel } from "../policy/index.ts";
import { Session, type TensorData } from "../runtime/index.ts";
import type { TrainConfig } from "./config.ts";

/** The policy fields that make the observer and the chunk a student shares with its teacher. */
const SHARED_FIELDS = [
  "obsSteps",
  "predSteps",
  "actions",
  "actionRange",
  "observeState",
  "observeScene",
  "sceneEntries",
  "predictStates",
  "encoder",
  "language",
  "goal",
  "audio",
] as const;

/** Windows–noise pairs the teacher samples in one run. */
export const TEACHER_BATCH = 64;

export class Teacher {
  private constructor(
    /** The model directory (as given). */
    readonly dir: string,
    readonly model: PolicyModel,
    /** Its weights by name, read out of its exported graphs. */
    private readonly stored: ReadonlyMap<string, StoredParam>,
    /** Its unrolled DDIM sampler for TEACHER_BATCH pairs on its frozen observer (PolicyNetwork.frozenSamplerGraph). */
    private readonly sampler: Session,
  ) {}

  /**
   * Open the teacher: its weights read out of its exported graphs (`encoder.onnx`, `denoiser.onnx`; float16 widened)
   * into its own sampling loop, batched (`threads` onnxruntime threads) — a batch of 64 pairs ran 4.7 times faster
   * per pair than its batch-one `sampler.onnx` (docs/experiments/distillation.md), and equals it to float rounding.
   * Refused, naming `--teacher`: a directory that is not a model, a regression model, a DDPM sampler (stochastic: no
   * map from noise to chunk), a teacher that reads a goal picture, an instruction or sound (only camera encoders are
   * frozen for the student), stored weights that do not fit its model.json.
   */
  static async open(dir: string, threads: number): Promise<Teacher> {
    const model = readPolicyModel(dir);
    const c = model.config;
    const why =
      c.objective !== "diffusion"
        ? `is a ${c.objective} model, not a diffusion policy: there is no sampling to distill`
        : c.scheduler.sampler !== "ddim"
          ? `samples with ${c.scheduler.sampler}, which draws noise at every step; distillation needs DDIM's deterministic map from the starting noise to the chunk`
          : c.goal || c.language || c.audio
            ? "reads a goal picture, an instruction or sound; distillation freezes only the teacher's camera encoders"
            : null;
    if (why !== null) throw new DuetError(`--teacher ${dir}: ${why}`);
    const stored = new Map<string, StoredParam>();
    for (const file of [model.files.encoder, model.files.denoiser]) {
      const path = join(dir, file);
      if (!existsSync(path)) throw new DuetError(`--teacher ${dir}: ${file} is missing (listed in model.json)`);
      for (const [name, p] of readOnnxParams(readFileSync(path), path)) stored.set(name, p);
    }
    const g = networkOf(model, join(dir, "model.json")).frozenSamplerGraph(c.inference.inferenceSteps, TEACHER_BATCH);
    const layout = ParamLayout.of(g);
    const { values, issues } = paramsByName(layout, stored);
    if (issues.length > 0)
      throw new ValidationError(
        `--teacher ${dir}: its stored weights do not fit the network its model.json describes`,
        issues,
      );
    const precision = [...stored.values()].some((p) => p.precision === "float16") ? "float16" : "float32";
    const bytes = PolicyNetwork.compile(g, layout, values, precision).bytes;
    const sampler = await Session.create(bytes, { intraOpThreads: threads, label: `--teacher ${dir} sampler` });
    return new Teacher(dir, model, stored, sampler);
  }

  /** The standard deviation of the teacher's starting noise (config.inference.noiseScale; unset: 1). */
  get noiseScale(): number {
    return this.model.config.inference.noiseScale ?? 1;
  }

  /** The teacher's network as its model.json describes it (its observation-input table fills the encoder's feeds). */
  network(): PolicyNetwork {
    return networkOf(this.model, join(this.dir, "model.json"));
  }

  /** Dx: numbers per chunk step of its samples (the actions, and the states where it predicts them). */
  get sampleDim(): number {
    const m = this.model;
    return m.actionNames.length + (m.config.predictStates ? m.stateNames.length : 0);
  }

  /**
   * Refuse a student config (`source`, with the cameras it resolved on the dataset) that does not fit the teacher:
   * another observer or chunk (the fields of SHARED_FIELDS, the cameras), not a DDIM diffusion policy, sampling with
   * other steps than train.distill.ddimSteps or another noise scale than the teacher's, or a scene loss.
   */
  checkStudent(config: TrainConfig, cameras: readonly CameraShape[], source: string): void {
    const p = config.policy;
    const t = this.model.config;
    const k = config.train.distill?.ddimSteps;
    const issues: Issue[] = [];
    const differ = (path: string, want: unknown, got: unknown, why = "the teacher's"): void => {
      if (JSON.stringify(want) !== JSON.stringify(got))
        issues.push({ path, expected: `${JSON.stringify(want)} (${why})`, received: JSON.stringify(got) ?? "unset" });
    };
    for (const field of SHARED_FIELDS) differ(`policy.${field}`, t[field], p[field]);
    const names = (list: readonly CameraShape[]): string[] => list.map((c) => `${c.name} ${c.width}x${c.height}`);
    differ("policy.cameras", names(this.model.cameras), names(cameras));
    differ("policy.objective", "diffusion", p.objective, "a student samples");
    differ("policy.scheduler.sampler", "ddim", p.scheduler.sampler, "the student's sampler is trained unrolled");
    differ("policy.inference.inferenceSteps", k, p.inference.inferenceSteps, "train.distill.ddimSteps");
    differ("policy.inference.noiseScale", t.inference.noiseScale, p.inference.noiseScale);
    if (k !== undefined && k > p.scheduler.trainSteps)
      issues.push({
        path: "train.distill.ddimSteps",
        expected: `at most policy.scheduler.trainSteps (${p.scheduler.trainSteps})`,
        received: String(k),
      });
    differ("train.sceneLoss", 0, config.train.sceneLoss, "it trains an observer; the student's is frozen");
    if (issues.length > 0)
      throw new ValidationError(
        `${source}: is not a student of the teacher ${this.dir} — distillation refused`,
        issues,
      );
  }

  /** Refuse a dataset made for another robot than the teacher (robot type, rate, state and action names). */
  checkDataset(spec: DatasetSpec, root: string): void {
    const m = this.model;
    const issues: Issue[] = [];
    const differ = (path: string, want: unknown, got: unknown): void => {
      if (JSON.stringify(want) !== JSON.stringify(got))
        issues.push({ path, expected: `${JSON.stringify(want)} (the teacher's)`, received: JSON.stringify(got) });
    };
    differ("robot_type", m.robotType, spec.robotType);
    differ("fps", m.fps, spec.fps);
    differ("observation.state names", m.stateNames, spec.stateNames);
    differ("action names", m.actionNames, spec.actionNames);
    if (issues.length > 0)
      throw new ValidationError(
        `--dataset ${root}: does not match the teacher ${this.dir} — distillation refused`,
        issues,
      );
  }

  /**
   * The teacher's weights (its denoiser graph's, float16 widened) for the parameters of `layout`, a student's
   * training layout (train.distill.initFromTeacher). Refused, naming each parameter, where the student's denoiser
   * is not the teacher's.
   */
  weightsFor(layout: ParamLayout, source: string): Float32Array {
    const { values, issues } = paramsByName(layout, this.stored);
    if (issues.length > 0)
      throw new ValidationError(
        `${source}: train.distill.initFromTeacher needs the teacher's denoiser (policy.denoiser ${JSON.stringify(this.model.config.denoiser)})`,
        issues,
      );
    return values;
  }

  /**
   * The teacher's samples (normalized, `B,Tp,Dx`, B = TEACHER_BATCH) from starting noises `noise` (at the noise
   * scale) and the observation inputs among `feeds` (its frozen observer's: cameras as features).
   */
  async sample(feeds: Record<string, TensorData>, noise: Float32Array): Promise<Float32Array> {
    const c = this.model.config;
    const inputs: Record<string, TensorData> = {
      [IO.noise]: { data: noise, dims: [TEACHER_BATCH, c.predSteps, noise.length / TEACHER_BATCH / c.predSteps] },
    };
    for (const d of this.sampler.inputs) if (d.name !== IO.noise) inputs[d.name] = feeds[d.name] as TensorData;
    const out = await this.sampler.run(inputs);
    const x = out[IO.sample]?.data;
    if (!(x instanceof Float32Array))
      throw new DuetError(`--teacher ${this.dir}: sampler output '${IO.sample}' missing`);
    return x;
  }

  /** What the student's model.json records of its teacher (provenance.distilled_from). */
  provenance(): { model: string; steps: number; wall_s: number; ddim_steps: number } {
    const prov = this.model.provenance as { steps?: unknown; wall_s?: unknown };
    return {
      model: this.dir,
      steps: Number(prov.steps ?? 0),
      wall_s: Math.round(Number(prov.wall_s ?? 0)),
      ddim_steps: this.model.config.inference.inferenceSteps,
    };
  }

  async release(): Promise<void> {
    await this.sampler.release();
  }
}
