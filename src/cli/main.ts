// duet: the command line. Each command validates its arguments, then calls factories in the domain modules.
import { Command } from "commander";
import { DuetError } from "../core/index.ts";
import { registerBindAudio, registerClip } from "./clip.ts";
import { registerDataset } from "./dataset.ts";
import { registerDeploy } from "./deploy.ts";
import { registerEval } from "./eval.ts";
import { registerExport } from "./export.ts";
import { registerRecord } from "./record.ts";
import { registerSim } from "./sim.ts";
import { registerTrain } from "./train.ts";
import { registerView } from "./view.ts";

const program = new Command();
program
  .name("duet")
  .description(
    "Diffusion policies for two-armed robots: run bottle-cap scenarios in simulation, deploy to real arms through\n" +
      "rosbridge, record demonstrations and train on them.",
  )
  .showHelpAfterError()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });
registerSim(program);
registerRecord(program);
registerDataset(program);
registerTrain(program);
registerEval(program);
registerClip(program);
registerBindAudio(program);
registerExport(program);
registerDeploy(program);
registerView(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof DuetError) {
    process.stderr.write(`duet: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
