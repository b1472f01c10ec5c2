// duet: the command line. Each command validates its arguments, then calls factories in the domain modules.
import { DuetError } from "../core/index.ts";
import { buildProgram } from "./program.ts";

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  if (e instanceof DuetError) {
    process.stderr.write(`duet: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
