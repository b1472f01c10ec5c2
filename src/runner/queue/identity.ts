// What a queued job was made with, so that a worker plays it only with the same program and the same files: the duet
// build (package version and a hash of the source tree) and the SHA-256 of each file the job reads. A worker of
// another build, or one whose scenario or model differs, would play other episodes than a local run of the same flags.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { policyModel } from "../deploy/policy-ref.ts";
import { scenarioIdentity } from "../record/scenario-identity.ts";
import { jobFiles, type EpisodeJob, type JobFile } from "../rollout/jobs.ts";

export const jobIdentitySchema = z.object({
  /** The duet build: `<package version>+src.<first 12 hex digits of the source tree's SHA-256>`. */
  duet: z.string().min(1),
  /** What each file the job reads is, by role and path ("scenario scenarios/bottle-cap.json") → SHA-256 (hex). */
  files: z.record(z.string(), z.string()),
});
export type JobIdentity = z.output<typeof jobIdentitySchema>;

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
let build: string | null = null;

/**
 * This program's build: package.json's version and a hash of every file under src/ (path and content), so two
 * checkouts of the same commit agree and any edit to the code differs. Computed once per process.
 */
export function duetBuild(): string {
  if (build !== null) return build;
  const hash = createHash("sha256");
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(`${relative(ROOT, path)}\0`).update(readFileSync(path));
    }
  };
  walk(join(ROOT, "src"));
  const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  build = `${version}+src.${hash.digest("hex").slice(0, 12)}`;
  return build;
}

/**
 * SHA-256 of what a model directory runs: model.json and its .onnx graphs (its README, evaluation reports and training
 * folder are notes about it, and may differ).
 */
function modelDigest(dir: string): string {
  const hash = createHash("sha256");
  for (const name of readdirSync(dir).sort()) {
    if (name !== "model.json" && !name.endsWith(".onnx")) continue;
    hash.update(`${name}\0`).update(readFileSync(join(dir, name)));
  }
  return hash.digest("hex");
}

function fileDigest(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** SHA-256 of one file a job reads: a scenario's resolved content (robot description and defaults included), a model. */
function digest(file: JobFile): string | null {
  switch (file.kind) {
    case "scenario":
      return scenarioIdentity(file.path).sha256;
    case "policy":
      // the expert reads no files; a trained policy's reference is its model directory
      return policyModel(file.path, "sim") === null ? null : modelDigest(file.path);
    case "file":
      return fileDigest(file.path);
  }
}

/**
 * The identity of `job` as made from this program and the files here. Throws (a DuetError naming the file) when a file
 * cannot be read.
 */
export function jobIdentity(job: EpisodeJob): JobIdentity {
  const files: Record<string, string> = {};
  for (const file of jobFiles(job)) {
    const sha = digest(file);
    if (sha !== null) files[`${file.role} ${file.path}`] = sha;
  }
  return { duet: duetBuild(), files };
}

/**
 * Why a job made as `sent` must not be played here (this program, the files here), one clause per difference; null
 * when this worker has the same build and the same files. Throws (a DuetError naming it) when a file cannot be read.
 */
export function identityMismatch(sent: JobIdentity, job: EpisodeJob): string | null {
  const build = duetBuild();
  if (sent.duet !== build) return `duet build: the job was made by duet ${sent.duet}, this worker is duet ${build}`;
  const mine = jobIdentity(job).files;
  const lines: string[] = [];
  for (const [file, digest] of Object.entries(sent.files)) {
    const here = mine[file];
    if (here !== digest) {
      lines.push(
        `${file}: sha256 ${digest.slice(0, 12)}… in the job, ${here === undefined ? "no such file" : `${here.slice(0, 12)}…`} here`,
      );
    }
  }
  return lines.length === 0 ? null : lines.join("; ");
}
