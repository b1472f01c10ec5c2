// A `duet prior` output folder at run time: an instruction → its CLIP text embedding (text.onnx, the clip run's text
// encoder, copied there) → prior.onnx from seeded noise → a unit-norm CLIP image embedding of a goal frame showing it
// done. result.json names the clip run's image encoder by SHA-256 (image_encoder_sha256): a goal-embedding policy
// takes the prior's samples only if its own goal encoder (goal-image.onnx) is that one. Every problem is refused
// naming the flag and the file.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DuetError, Rng, readJsonWith } from "../../core/index.ts";
import { ByteTokenizer } from "../../encoders/index.ts";
import { Session } from "../../runtime/index.ts";
import { PRIOR_IO } from "./network.ts";

/** The files of a prior folder that run time reads. */
export const PRIOR_FILES = { prior: "prior.onnx", text: "text.onnx", result: "result.json" } as const;

const priorResultSchema = z.looseObject({
  camera: z.string(),
  dim: z.int().positive(),
  image_encoder_sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** What a prior folder's result.json says about the CLIP run it was trained on. */
export interface PriorInfo {
  /** The camera of the clip run's frames. */
  camera: string;
  /** D: the CLIP embedding width. */
  dim: number;
  /** SHA-256 of the clip run's image.onnx, whose embeddings the prior samples. */
  imageEncoderSha256: string;
}

/** Rows in batches of this many through a text encoder. */
const CHUNK = 64;

/** `texts` through a frozen CLIP text encoder (inputs `ids`, `eos` `N,T`; output `embedding` `N,D`), 64 at a time. */
export async function embedTexts(
  session: Session,
  texts: readonly string[],
): Promise<{ data: Float32Array; dim: number }> {
  const tokenizer = new ByteTokenizer(session.inputs.find((i) => i.name === "ids")?.shape[1] as number);
  const dim = session.outputs.find((o) => o.name === "embedding")?.shape[1] as number;
  const data = new Float32Array(texts.length * dim);
  for (let from = 0; from < texts.length; from += CHUNK) {
    const tokens = tokenizer.batch(texts.slice(from, from + CHUNK));
    const e = (
      await session.run({ ids: { data: tokens.ids, dims: tokens.dims }, eos: { data: tokens.eos, dims: tokens.dims } })
    ).embedding!;
    data.set(e.data as Float32Array, from * dim);
  }
  return { data, dim };
}

/** A prior folder's result.json, every file checked present first (`flag` names where the folder came from). */
export function readPriorInfo(dir: string, flag = "--prior"): PriorInfo {
  const missing = Object.values(PRIOR_FILES).filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new DuetError(
      `${flag} ${dir}: no ${missing.join(", ")}; give the output folder of a finished duet prior run (one from before ` +
        `duet prior copied text.onnx there: rerun it)`,
    );
  }
  const file = join(dir, PRIOR_FILES.result);
  const r = readJsonWith(
    () => readFileSync(file, "utf8"),
    `${file} (an older duet prior recorded no image_encoder_sha256: rerun it)`,
    priorResultSchema,
  );
  return { camera: r.camera, dim: r.dim, imageEncoderSha256: r.image_encoder_sha256 };
}

/** A prior folder opened: instructions → sampled goal embeddings. */
export class GoalPrior {
  private readonly tokenizer: ByteTokenizer;

  private constructor(
    readonly dir: string,
    readonly info: PriorInfo,
    private readonly text: Session,
    private readonly prior: Session,
  ) {
    this.tokenizer = new ByteTokenizer(text.inputs.find((i) => i.name === "ids")?.shape[1] as number);
  }

  /** Open `dir` (refused, naming `flag` and the file, when a file is missing or is not what the prior wrote). */
  static async open(dir: string, flag = "--prior"): Promise<GoalPrior> {
    const info = readPriorInfo(dir, flag);
    const [textFile, priorFile] = [join(dir, PRIOR_FILES.text), join(dir, PRIOR_FILES.prior)];
    const text = await Session.create(textFile, { label: textFile });
    const prior = await Session.create(priorFile, { label: priorFile }).catch(async (e: unknown) => {
      await text.release();
      throw e;
    });
    const widths = [
      text.inputs.find((i) => i.name === "ids")?.shape[1],
      text.outputs.find((o) => o.name === "embedding")?.shape[1],
      prior.inputs.find((i) => i.name === PRIOR_IO.text)?.shape[1],
    ];
    if (typeof widths[0] !== "number" || widths[1] !== info.dim || widths[2] !== info.dim) {
      await Promise.all([text.release(), prior.release()]);
      throw new DuetError(
        `${flag} ${dir}: ${PRIOR_FILES.text} (embedding width ${widths[1]}) and ${PRIOR_FILES.prior} (${widths[2]}) do ` +
          `not both take the ${info.dim}-dimensional embeddings ${PRIOR_FILES.result} says; rerun duet prior`,
      );
    }
    return new GoalPrior(dir, info, text, prior);
  }

  /** Bytes an instruction may have: the text encoder's token limit less BOS and EOS. */
  get maxBytes(): number {
    return this.tokenizer.maxTokens - 2;
  }

  /**
   * `text` as the prior's text encoder reads it, or a DuetError starting with `where` (the flag or scenario the text
   * came from): empty, a control character, or longer than the clip run's text encoder takes.
   */
  check(text: string, where: string): string {
    try {
      return this.tokenizer.normalize(text);
    } catch (e) {
      throw new DuetError(
        `${where}: ${(e as Error).message} (the text encoder of the prior ${this.dir}, the duet clip run's)`,
      );
    }
  }

  /**
   * One sample of a goal embedding `D` for `instruction`, from noise drawn for episode `seed`: the same seed gives the
   * same sample. The noise comes from a generator forked off Rng(seed), so it is not the policy's own noise stream.
   */
  async sample(instruction: string, seed: number): Promise<Float32Array> {
    const d = this.info.dim;
    const text = await embedTexts(this.text, [instruction]);
    const rng = new Rng(seed).fork();
    const noise = Float32Array.from({ length: d }, () => rng.normal());
    const out = await this.prior.run({
      [PRIOR_IO.text]: { data: text.data, dims: [1, d] },
      [PRIOR_IO.noise]: { data: noise, dims: [1, d] },
    });
    return out[PRIOR_IO.image]!.data as Float32Array;
  }

  async release(): Promise<void> {
    await Promise.all([this.text.release(), this.prior.release()]);
  }
}
