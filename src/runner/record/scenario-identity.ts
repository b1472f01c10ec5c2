// What a dataset stores of the scenario it was recorded in, so that resuming it in another scenario is refused.
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { DatasetScenario } from "../../data/index.ts";
import { loadScenario } from "../../sim/index.ts";

/**
 * What a dataset stores of the scenario it was recorded in: its name and the SHA-256 of its resolved content (the
 * validated scenario with defaults filled in and its robot description, without the file paths), so a copy elsewhere is
 * the same scenario and an edited one is another.
 */
export function scenarioIdentity(file: string): DatasetScenario {
  const { file: _file, robot: _robot, ...content } = loadScenario(resolve(file));
  const sha256 = createHash("sha256").update(JSON.stringify(content)).digest("hex");
  return { name: content.name, sha256 };
}
