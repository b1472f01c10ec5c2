// A `duet clip` output folder as the trainers built on it read it: its frozen encoders (image.onnx, text.onnx) as
// sessions, the embedding width they share, the camera whose frames it paired and the held-out split it evaluated on
// (result.json). Every problem is refused naming the file.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { DuetError, readJsonWith } from "../core/index.ts";
import { Session } from "../runtime/index.ts";

const clipResultSchema = z.looseObject({
  camera: z.string(),
  seed: z.int().min(0),
  held_out_share: z.number().gt(0).lt(1),
});

export interface ClipRun {
  /** The camera whose frames the run paired with instructions. */
  camera: string;
  /** D: the width of both encoders' unit-norm embeddings. */
  dim: number;
  /** image.onnx: `images` `N,H,W,3` → `embedding` `N,D`. */
  image: Session;
  /** text.onnx: `ids`, `eos` `N,T` → `embedding` `N,D`. */
  text: Session;
  /** The run's held-out split: this seed and share over the same dataset hold out the same episodes. */
  seed: number;
  heldOutShare: number;
  release(): Promise<void>;
}

/** The embedding width a session's `embedding` output declares, or a refusal naming its file. */
function embeddingWidth(session: Session, file: string): number {
  const d = session.outputs.find((o) => o.name === "embedding")?.shape[1];
  if (typeof d !== "number") {
    throw new DuetError(`${file}: no output "embedding" of shape [batch, D]; is it a duet clip encoder?`);
  }
  return d;
}

export async function openClipRun(dir: string): Promise<ClipRun> {
  const files = ["image.onnx", "text.onnx", "result.json"].map((f) => join(dir, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new DuetError(`--clip ${dir}: no ${missing.join(", ")}; give the output folder of a finished duet clip run`);
  }
  const [imageFile, textFile, resultFile] = files as [string, string, string];
  const result = readJsonWith(
    () => readFileSync(resultFile, "utf8"),
    `${resultFile} (an older duet clip wrote no seed or held_out_share: rerun it)`,
    clipResultSchema,
  );
  const image = await Session.create(imageFile, { label: imageFile });
  const text = await Session.create(textFile, { label: textFile });
  const release = async (): Promise<void> => {
    await image.release();
    await text.release();
  };
  let di: number;
  try {
    di = embeddingWidth(image, imageFile);
    const dt = embeddingWidth(text, textFile);
    if (di !== dt) {
      throw new DuetError(
        `--clip ${dir}: ${imageFile} embeds into ${di} dimensions but ${textFile} into ${dt}; both must come from one duet clip run`,
      );
    }
  } catch (e) {
    await release();
    throw e;
  }
  return {
    camera: result.camera,
    dim: di,
    image,
    text,
    seed: result.seed,
    heldOutShare: result.held_out_share,
    release,
  };
}
