// The `duet` command tree, its commands grouped by what a user does. main.ts parses the arguments with it; tests read
// its help.
import { Command } from "commander";
import { registerCard } from "./card.ts";
import { registerBindAudio, registerClip } from "./clip.ts";
import { registerDataset } from "./dataset.ts";
import { registerPrior } from "./prior.ts";
import { registerDeploy } from "./deploy.ts";
import { registerEval } from "./eval.ts";
import { registerExport } from "./export.ts";
import { registerRecord } from "./record.ts";
import { registerSim } from "./sim.ts";
import { registerTrain } from "./train.ts";
import { registerView } from "./view.ts";
import { registerWorker } from "./worker.ts";

/** Help headings in the order a user meets them, each with its commands. */
const GROUPS: readonly [heading: string, register: readonly ((program: Command) => void)[]][] = [
  ["Simulate:", [registerSim, registerEval, registerWorker]],
  ["Data:", [registerRecord, registerDataset, registerExport]],
  ["Train:", [registerTrain, registerCard, registerClip, registerBindAudio, registerPrior]],
  ["Deploy:", [registerDeploy]],
  ["Look:", [registerView]],
];

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("duet")
    .description(
      "Diffusion policies for two-armed robots: run bottle-cap scenarios in simulation, deploy to real arms through " +
        "rosbridge, record demonstrations and train on them. Guides: docs/getting-started.md.",
    )
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText("after", "\nExample:\n  duet sim --policy models/bottle-cap-unet --episodes 4 --workers 2\n");
  for (const [heading, registers] of GROUPS) {
    program.commandsGroup(heading);
    for (const register of registers) register(program);
  }
  program.commandsGroup("Help:");
  program.helpCommand("help [command]", "show help for a command");
  return program;
}
