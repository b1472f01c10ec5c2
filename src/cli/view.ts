// duet view: the browser viewer (replay, live, teleoperation) and pictures of episodes (--gif, --png).
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { DuetError } from "../core/index.ts";
import { loadScenario, type CameraSpec } from "../sim/index.ts";
import { loadReplayWithChunks } from "../runner/replay/index.ts";
import { episodeGif, episodePng, startViewer } from "../viewer/index.ts";
import { intArg, portArg } from "./args.ts";
import { documented } from "./help.ts";

interface ViewArgs {
  port: number;
  scenario?: string;
  teleop?: string;
  resume: boolean;
  seed: number;
  gif?: string;
  png?: string;
  view: string;
  size: number;
  stride: number;
  frame?: number;
  speed: number;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a positive number, received "${value}"`);
  return n;
}

/** Scenario cameras for a replay: --scenario, else scenarios/<name>.json when present. */
function camerasFor(scenarioName: string, given: string | undefined): CameraSpec[] {
  const file = given ?? resolve("scenarios", `${scenarioName}.json`);
  return existsSync(file) || given !== undefined ? loadScenario(file).cameras : [];
}

/** Write a GIF or PNG of one replay file; returns the path written. */
export function exportMedia(path: string, args: ViewArgs): string {
  const replay = loadReplayWithChunks(path);
  const cameras = args.view === "3d" ? [] : camerasFor(replay.scenario, args.scenario);
  const common = { view: args.view, cameras, size: args.size };
  const out = (args.gif ?? args.png)!;
  mkdirSync(dirname(resolve(out)), { recursive: true });
  if (args.gif !== undefined) {
    writeFileSync(out, episodeGif(replay, { ...common, stride: args.stride, speed: args.speed }));
  } else {
    writeFileSync(out, episodePng(replay, args.frame === undefined ? common : { ...common, frame: args.frame }));
  }
  return out;
}

export async function view(path: string | undefined, args: ViewArgs): Promise<void> {
  if (args.gif !== undefined || args.png !== undefined) {
    if (path === undefined)
      throw new DuetError("--gif/--png: give the episode replay file, e.g. runs/x/episode_1.json");
    if (args.gif !== undefined && args.png !== undefined) throw new DuetError("--gif and --png: choose one");
    const out = exportMedia(path, args);
    console.log(`wrote ${out}`);
    return;
  }
  if (path !== undefined && !existsSync(path)) {
    throw new DuetError(
      `${path}: no such file or folder; give a replay file (episode_<seed>.json), a run folder (duet sim --replay DIR) or a dataset folder`,
    );
  }
  const scenario = args.scenario ?? "scenarios/bottle-cap.json";
  const server = await startViewer({
    ...(path !== undefined ? { source: path } : {}),
    ...(args.scenario !== undefined ? { scenario: args.scenario } : {}),
    port: args.port,
    // a run that cannot be shown is an error, not a page showing nothing (`duet view` alone serves live runs)
    requireSource: true,
    ...(args.teleop !== undefined
      ? { teleop: { out: args.teleop, scenario, seed: args.seed, resume: args.resume } }
      : {}),
  });
  console.log(`duet view: ${server.url}  (live runs connect to ws://127.0.0.1:${server.port}/live; Ctrl-C stops)`);
  if (args.teleop !== undefined) console.log(`teleoperation: recording into ${args.teleop}`);
  await new Promise<void>((done) => {
    process.once("SIGINT", () => {
      void server.close().then(done);
    });
  });
}

export function registerView(program: Command): void {
  documented(program.command("view"), {
    summary: "Watch episodes in 3D in the browser, watch live runs, teleoperate, or export a GIF/PNG of an episode",
    details:
      "The page shows a timeline, the cameras, joint plots and action chunks. --teleop DATASET records\n" +
      "teleoperated episodes; --gif/--png write pictures with the CPU rasterizer and exit.",
    example: "duet view runs/demo --port 8080",
  })
    .argument("[run]", "a replay file (episode_<seed>.json), a run folder (duet sim --replay DIR) or a dataset folder")
    .option("--port <p>", "HTTP port on 127.0.0.1 (0: any free port)", portArg, 8080)
    .option("--scenario <file>", "scenario: re-simulates dataset episodes, robot for chunk paths, cameras for --view")
    .option("--teleop <dataset>", "teleoperate in the page and record episodes into this dataset folder")
    .option("--resume", "with --teleop: append to an existing dataset", false)
    .option("--seed <s>", "with --teleop: seed of the first episode (episode k uses seed + k)", intArg(0), 0)
    .option("--gif <out.gif>", "write an animated GIF of the episode (CPU rasterizer) and exit")
    .option("--png <out.png>", "write a PNG of one frame of the episode and exit")
    .option("--view <name>", 'picture viewpoint: "3d" or a scenario camera (e.g. front)', "3d")
    .option("--size <px>", "picture width in pixels", intArg(8), 256)
    .option("--stride <k>", "GIF: every k-th frame", intArg(1), 1)
    .option("--speed <x>", "GIF: playback speed relative to real time", positiveNumber, 1)
    .option("--frame <f>", "PNG: which frame (default: the last)", intArg(0))
    .action(async (path: string | undefined, opts: ViewArgs) => {
      await view(path, opts);
    });
}
