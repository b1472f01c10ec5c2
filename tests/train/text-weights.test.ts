// A clip run's text encoder as a policy's instruction encoder: `duet clip` writes its weights on their own
// (text.safetensors, the same numbers as text.onnx's), with paraphrased instructions when asked (off: the run without
// them, bit for bit), and `duet train --text-from` starts a new run's policy.language from them — every other
// parameter as without it — refusing a policy without language, another text config, a missing or broken file, and a
// resume that started otherwise.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkpointLayout, checkpointMetadata, loadCheckpoint, readOnnxParams } from "../../src/nn/index.ts";
import { longestPhrasingBytes, rephrase } from "../../src/sim/index.ts";
import { CHECKPOINT_FILE, train, trainConfigSchema, trainTextImage } from "../../src/train/index.ts";
import type { TextImageOptions } from "../../src/train/index.ts";
import { oneEpisodeConfig, tempDir, writeTinyDataset } from "../policy/fixtures.ts";
import { MEANINGS, TINY_CLIP, handed } from "./clip-fixtures.ts";

/** The clip run's text encoder config, every field. */
const TEXT = { ...TINY_CLIP.text, mlpRatio: 4 };
const TASK = ["unscrew the cap", "lift the bottle"];
/** Tiny runs: a few steps. */
const SHORT = { ...TINY_CLIP, steps: 4 };

let clipData = "";
let clip = "";
let policyData = "";
beforeAll(async () => {
  // the handed recording, each instruction one the paraphrase grammar knows
  clipData = await writeTinyDataset(12, 6, tempDir("duet-textw-data-"), {
    ...handed,
    task: (e) => TASK[Math.floor(e / 2) % 2]!,
  });
  clip = tempDir("duet-textw-clip-");
  await trainTextImage({ dataset: clipData, meanings: MEANINGS, out: clip, ...SHORT });
  policyData = await writeTinyDataset(2, 16, tempDir("duet-textw-policy-data-"));
}, 120_000);

/** A file's tensors by name. */
function tensors(path: string, which: "params" | "ema" = "params"): Map<string, Float32Array> {
  const layout = checkpointLayout(path);
  const values = loadCheckpoint(path, layout)[which]!;
  return new Map(layout.entries.map((e) => [e.name, layout.view(values, e.name)]));
}

/** The state-only language policy whose policy.language is `language`, trained `steps` steps. */
const policyConfig = (language: object | null, steps = 2) =>
  trainConfigSchema.parse(oneEpisodeConfig(language ? { language } : {}, { steps }));

describe("duet clip's text encoder on its own", () => {
  it("writes text.safetensors: text.onnx's text encoder parameters under their own names, with its config", () => {
    const file = join(clip, "text.safetensors");
    const own = tensors(file);
    const onnx = readOnnxParams(readFileSync(join(clip, "text.onnx")), "text.onnx");
    const scoped = [...onnx.keys()].filter((n) => n.startsWith("text."));
    expect(scoped.sort()).toEqual([...own.keys()].map((n) => `text.${n}`).sort());
    expect(own.has("token.weight") && own.has("block0.attn.q.weight") && own.has("head.bias")).toBe(true);
    for (const [name, values] of own) expect([name, values]).toEqual([name, onnx.get(`text.${name}`)!.values]);
    const meta = checkpointMetadata(file);
    expect(JSON.parse(meta.text_encoder!)).toEqual(TEXT);
    expect(meta.step).toBe("4");
  });

  it("paraphrases with --paraphrase: at 0 the run without it, bit for bit; above 0 another, said in result.json", async () => {
    const run = async (extra: Partial<TextImageOptions>): Promise<{ losses: number[]; text: Buffer; p?: number }> => {
      const losses: number[] = [];
      const out = tempDir("duet-textw-para-");
      const r = await trainTextImage({
        dataset: clipData,
        meanings: MEANINGS,
        out,
        ...SHORT,
        text: { ...TINY_CLIP.text, maxTokens: longestPhrasingBytes() + 2 },
        ...extra,
        onStep: (_, l) => losses.push(l),
      });
      return { losses, text: readFileSync(join(out, "text.safetensors")), ...(r.paraphrase && { p: r.paraphrase }) };
    };
    const without = await run({});
    expect(await run({ paraphrase: { probability: 0, rephrase } })).toEqual(without);
    const para = await run({ paraphrase: { probability: 0.5, rephrase } });
    expect(para.p).toBe(0.5);
    expect(para.losses).not.toEqual(without.losses);
    expect(para.text.equals(without.text)).toBe(false);
  }, 60_000);

  it("refuses to paraphrase an instruction the grammar does not know, naming the episode", async () => {
    const odd = await writeTinyDataset(12, 4, tempDir("duet-textw-odd-"), handed); // "… with your left hand"
    await expect(
      trainTextImage({
        dataset: odd,
        meanings: MEANINGS,
        out: tempDir(),
        ...SHORT,
        paraphrase: { probability: 0.5, rephrase },
      }),
    ).rejects.toThrow(
      /training episode\(s\) have an instruction the grammar cannot rephrase[\s\S]*episode \d+ task: expected an instruction the paraphrase grammar knows \(--paraphrase > 0;[\s\S]*received "unscrew the cap with your left hand"/,
    );
  });
});

describe("duet train --text-from", () => {
  let started = "";
  beforeAll(async () => {
    started = tempDir("duet-textw-run-");
    await train({
      dataset: policyData,
      config: policyConfig(TINY_CLIP.text),
      out: started,
      textFrom: clip,
      stopAtStep: 0,
    });
  }, 120_000);

  it("starts the policy's instruction encoder from the clip run's text encoder, the rest as without it", async () => {
    const plain = tempDir("duet-textw-plain-");
    await train({ dataset: policyData, config: policyConfig(TINY_CLIP.text), out: plain, stopAtStep: 0 });
    const text = tensors(join(clip, "text.safetensors"));
    const a = tensors(join(started, CHECKPOINT_FILE));
    const b = tensors(join(plain, CHECKPOINT_FILE));
    const ema = tensors(join(started, CHECKPOINT_FILE), "ema");
    expect([...a.keys()]).toEqual([...b.keys()]);
    const language = [...a.keys()].filter((n) => n.startsWith("obs.language."));
    expect(language.map((n) => n.slice("obs.language.".length)).sort()).toEqual([...text.keys()].sort());
    for (const [name, values] of a) {
      const own = text.get(name.slice("obs.language.".length));
      if (name.startsWith("obs.language.")) {
        expect([name, values, ema.get(name)]).toEqual([name, own, own]);
        expect(values).not.toEqual(b.get(name));
      } else expect([name, values]).toEqual([name, b.get(name)]);
    }
    expect(checkpointMetadata(join(started, CHECKPOINT_FILE)).text_from).toBe(clip);
    const model = JSON.parse(readFileSync(join(started, "model.json"), "utf8")) as { provenance: object };
    expect(model.provenance).toMatchObject({ text_from: clip });
  });

  it("resumes only with the same --text-from", async () => {
    const resume = (textFrom?: string) =>
      train({
        dataset: policyData,
        config: policyConfig(TINY_CLIP.text),
        out: started,
        resume: true,
        ...(textFrom !== undefined && { textFrom }),
      });
    const other = tempDir("duet-textw-other-");
    await expect(resume(other)).rejects.toThrow(
      new RegExp(`started its instruction encoder from the clip run ${clip}; resume with --text-from ${clip}`),
    );
    await expect(resume()).rejects.toThrow(
      /started its instruction encoder from the clip run .*; resume with --text-from/,
    );
    expect((await resume(clip)).step).toBe(2);
  }, 60_000);

  it("refuses a policy without language, another text config, a missing or broken file, and --init-from", async () => {
    const start = (language: object | null, textFrom: string, extra = {}) =>
      train({ dataset: policyData, config: policyConfig(language), out: tempDir(), textFrom, ...extra });
    await expect(start(null, clip)).rejects.toThrow(
      new RegExp(`--text-from ${clip}: training config has no policy\\.language`),
    );
    await expect(start({ ...TINY_CLIP.text, dim: 32, maxTokens: 72 }, clip)).rejects.toThrow(
      /the text encoder in .*text\.safetensors is not the one training config asks for: 2 invalid fields\n {2}- policy\.language\.maxTokens: expected 72 \(training config\), received 48 \(.*text\.safetensors\)\n {2}- policy\.language\.dim: expected 32 \(training config\), received 16/,
    );
    const empty = tempDir("duet-textw-empty-");
    await expect(start(TINY_CLIP.text, empty)).rejects.toThrow(
      /--text-from .*: .*text\.safetensors is missing; give the output folder of a duet clip run/,
    );
    writeFileSync(join(empty, "text.safetensors"), "not a checkpoint");
    await expect(start(TINY_CLIP.text, empty)).rejects.toThrow(/text\.safetensors: truncated checkpoint/);
    await expect(start(TINY_CLIP.text, clip, { initFrom: started })).rejects.toThrow(
      /--init-from starts every weight from another run, .* pass one of them/,
    );
  });
});
