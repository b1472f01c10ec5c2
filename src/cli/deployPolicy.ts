// `--policy` values for `duet deploy` → a core Policy. One table of resolvers; add trained models here by adding a
// resolver (e.g. `models/NAME` → the policy registry's loader) — nothing else switches on policy names.
import { DuetError, type Policy } from "../core/index.ts";
import { HoldPolicy } from "../runner/holdPolicy.ts";
import { ReplayPolicy } from "../runner/replayPolicy.ts";

interface PolicyResolver {
  /** How the value looks, for help and error text. */
  pattern: string;
  describe: string;
  matches(spec: string): boolean;
  create(spec: string): Policy;
}

const resolvers: PolicyResolver[] = [
  { pattern: "hold", describe: "hold the measured pose", matches: (s) => s === "hold", create: () => new HoldPolicy() },
  {
    pattern: "replay:FILE.json",
    describe: 'replay recorded chunks ({"chunks": [[[16 numbers] × Tp] × N]})',
    matches: (s) => s.startsWith("replay:"),
    create: (s) => ReplayPolicy.fromFile(s.slice("replay:".length)),
  },
];

/** Help text listing the accepted `--policy` values. */
export function policyHelp(): string {
  return resolvers.map((r) => `${r.pattern} (${r.describe})`).join(", ");
}

/** Resolve a `--policy` value; an unknown value names what is accepted. */
export function resolveDeployPolicy(spec: string): Policy {
  const r = resolvers.find((x) => x.matches(spec));
  if (!r)
    throw new DuetError(
      `--policy: expected one of ${policyHelp()}, received "${spec}" (trained models are not deployable yet)`,
    );
  return r.create(spec);
}
