// A duet clip run's frozen image encoder as a session: camera frames → unit-norm CLIP image embeddings. A
// goal-embedding policy (config.goal.embedding) is conditioned on such embeddings: training embeds each episode's last
// goal-camera frame with the clip run's image.onnx, and the model directory carries a copy of it (goal-image.onnx,
// its SHA-256 in model.json), with which run time embeds the expert's last frame or a --goal PNG. The embedding
// trainers (train/embedding.ts) run their frozen image encoders through it too, so every path preprocesses alike.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DuetError, type CameraFrame } from "../../core/index.ts";
import { ImagePreprocessor } from "../../encoders/index.ts";
import { Session } from "../../runtime/index.ts";
import { MODEL_FILE, type PolicyModel } from "./model-file.ts";

/** SHA-256 (hex) of a file's bytes. */
export function fileSha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** Frames per run of the encoder. */
const CHUNK = 64;

export class GoalEncoder {
  /** Frame size the encoder takes. */
  readonly height: number;
  readonly width: number;
  /** D: the embedding width. */
  readonly dim: number;
  private readonly prep: ImagePreprocessor;

  /** `session`: input `images` `N,H,W,3`, output `embedding` `N,D`; `label` names it in errors. */
  constructor(
    readonly session: Session,
    readonly label: string,
  ) {
    const input = session.inputs.find((i) => i.name === "images")?.shape;
    const d = session.outputs.find((o) => o.name === "embedding")?.shape[1];
    const [h, w] = [input?.[1], input?.[2]];
    if (typeof h !== "number" || typeof w !== "number" || typeof d !== "number") {
      throw new DuetError(
        `${label}: not a duet clip image encoder (expected input "images" [batch, H, W, 3] and output "embedding" [batch, D])`,
      );
    }
    [this.height, this.width, this.dim] = [h, w, d];
    this.prep = new ImagePreprocessor({ sourceHeight: h, sourceWidth: w });
  }

  /** An encoder file (a clip run's image.onnx, a model's goal-image.onnx) opened. */
  static async open(file: string): Promise<GoalEncoder> {
    const session = await Session.create(file, { label: file });
    try {
      return new GoalEncoder(session, file);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /**
   * The goal encoder of the model directory `dir` (model.json `m`): refused, naming the file, when it is missing or
   * is not the encoder the model was trained with (another SHA-256 or width).
   */
  static async ofModel(dir: string, m: PolicyModel): Promise<GoalEncoder> {
    const g = m.goalEncoder;
    if (!g) throw new DuetError(`${dir}: not a goal-embedding policy (its config.goal.embedding is not set)`);
    const file = join(dir, g.file);
    if (!existsSync(file)) {
      throw new DuetError(
        `${dir}: ${g.file} is missing (the goal encoder listed in ${MODEL_FILE}); re-export the model`,
      );
    }
    const sha = fileSha256(file);
    if (sha !== g.sha256) {
      throw new DuetError(
        `${file}: sha256 ${sha.slice(0, 12)}…, but ${MODEL_FILE} says ${g.sha256.slice(0, 12)}…: not the goal encoder this model was trained with`,
      );
    }
    const encoder = await GoalEncoder.open(file);
    if (encoder.dim !== g.dim) {
      await encoder.release();
      throw new DuetError(
        `${file}: embeds into ${encoder.dim} dimensions, ${MODEL_FILE} says goalEncoder.dim ${g.dim}`,
      );
    }
    return encoder;
  }

  /** Frames (each H×W RGB) → embeddings `N·D`, evaluation preprocessing (no augmentation), 64 at a time. */
  async embed(frames: readonly CameraFrame[]): Promise<Float32Array> {
    const { prep, dim } = this;
    const params = prep.evalParams();
    const out = new Float32Array(frames.length * dim);
    for (let from = 0; from < frames.length; from += CHUNK) {
      const part = frames.slice(from, from + CHUNK);
      const images = new Float32Array(part.length * prep.imageSize);
      part.forEach((frame, i) => {
        if (frame.width !== this.width || frame.height !== this.height || frame.data.length !== this.imageBytes) {
          throw new DuetError(
            `${this.label}: a goal frame of ${frame.width}x${frame.height} (${frame.data.length} bytes), expected a ${this.width}x${this.height} RGB frame`,
          );
        }
        prep.process(frame, params, images, i * prep.imageSize);
      });
      const e = (await this.session.run({ images: { data: images, dims: [part.length, prep.height, prep.width, 3] } }))
        .embedding!;
      out.set(e.data as Float32Array, from * dim);
    }
    return out;
  }

  private get imageBytes(): number {
    return this.height * this.width * 3;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
