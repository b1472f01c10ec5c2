// The page in headless Chromium (Debian's chromium through playwright-core, WebGL by SwiftShader): a fixture episode
// loads and renders, the timeline scrubs to a frame whose rendered arm matches the recorded joints, errors show in the
// page, and teleoperation key presses move a gripper target and record a valid dataset episode.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePng } from "../../src/core/index.ts";
import { Dataset, validateDataset } from "../../src/data/index.ts";
import { ArmKinematics, loadScenario } from "../../src/sim/index.ts";
import { loadReplayWithChunks } from "../../src/runner/replay/index.ts";
import { startViewer, type ViewerServer } from "../../src/viewer/index.ts";
import { launchChromium } from "./browser.ts";
import { SCENARIO_FILE, tempDir, writeFixtureReplay } from "./fixtures.ts";

/** What tests read of `window.duet`. */
interface PageDuet {
  ready: boolean;
  error: string | null;
  frame: number;
  setFrame(i: number): void;
  bodyPositions(): number[][];
  bodyNames(): string[];
  project(p: number[]): [number, number];
  renderNow(): void;
  episode: { cameras: { name: string }[]; poses: number[][] } | null;
  teleop: {
    active: boolean;
    arm: string;
    step: number;
    targets: Record<"left" | "right", { position: number[]; gripper: number }> | null;
    tcp: Record<"left" | "right", number[]> | null;
    saved: { episode: number; frames: number }[];
  };
}
declare const window: { duet: PageDuet };

const robot = loadScenario(SCENARIO_FILE).robotDescription;
const BACKGROUND = [0xb8, 0xc4, 0xd0];
let browser: Browser;
const servers: ViewerServer[] = [];

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function open(options: Parameters<typeof startViewer>[0]): Promise<{ page: Page; logs: string[] }> {
  const logs: string[] = [];
  const server = await startViewer({ port: 0, scenario: SCENARIO_FILE, log: (l) => logs.push(l), ...options });
  servers.push(server);
  const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  await page.goto(server.url);
  return { page, logs };
}

/** RGB of the 3D canvas as the page shows it now. */
async function canvasPixels(page: Page): Promise<{ width: number; height: number; data: Uint8Array }> {
  await page.evaluate(() => window.duet.renderNow());
  return decodePng(await page.locator("#view canvas").screenshot());
}

function pixel(img: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const o = (Math.round(y) * img.width + Math.round(x)) * 3;
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!];
}

describe("viewer page", () => {
  it("renders a fixture episode and scrubs to a frame whose arm pose matches the recorded joints", async () => {
    const file = writeFixtureReplay({ steps: 10, chunks: true });
    const replay = loadReplayWithChunks(file);
    const { page } = await open({ source: file });
    await page.waitForFunction(() => window.duet?.ready === true);
    expect(await page.evaluate(() => window.duet.error)).toBeNull();

    // not blank: much of the canvas differs from the background, in many colours
    const first = await canvasPixels(page);
    let foreground = 0;
    const colours = new Set<number>();
    for (let i = 0; i < first.data.length; i += 3) {
      const [r, g, b] = [first.data[i]!, first.data[i + 1]!, first.data[i + 2]!];
      if (Math.abs(r - BACKGROUND[0]!) + Math.abs(g - BACKGROUND[1]!) + Math.abs(b - BACKGROUND[2]!) > 30) foreground++;
      colours.add((r << 16) | (g << 8) | b);
    }
    expect(foreground / (first.width * first.height)).toBeGreaterThan(0.2);
    expect(colours.size).toBeGreaterThan(50);

    // scrub with the timeline control
    const f = 9;
    await page.locator("#timeline").fill(String(f));
    expect(await page.evaluate(() => window.duet.frame)).toBe(f);
    expect(await page.locator("#frame").textContent()).toContain(`${f} / 10`);
    const names = await page.evaluate(() => window.duet.bodyNames());
    const positions = await page.evaluate(() => window.duet.bodyPositions());
    const handPixels: number[][] = [];
    for (const [arm, offset] of [
      ["left", 0],
      ["right", 8],
    ] as const) {
      const kin = new ArmKinematics(robot, arm);
      kin.forward(replay.states[f]!.slice(offset, offset + 7));
      for (let i = 0; i < 7; i++) {
        const rendered = positions[names.indexOf(`${arm}_link${i + 1}`)]!;
        const fk = kin.frames[i]!;
        expect(Math.hypot(rendered[0]! - fk[9]!, rendered[1]! - fk[10]!, rendered[2]! - fk[11]!)).toBeLessThan(1e-4);
      }
      const hand = positions[names.indexOf(`${arm}_hand`)]!;
      expect(
        Math.hypot(hand[0]! - kin.flange[9]!, hand[1]! - kin.flange[10]!, hand[2]! - kin.flange[11]!),
      ).toBeLessThan(1e-4);
      // the hand's box reaches 3 cm past the flange along the tool axis: its centre there is drawn in the hand's colour
      const centre = [0, 1, 2].map((k) => kin.flange[9 + k]! + 0.03 * kin.flange[k * 3 + 2]!);
      handPixels.push(await page.evaluate((p) => window.duet.project(p), centre));
    }
    const scrubbed = await canvasPixels(page);
    for (const [x, y] of handPixels) {
      expect(x! > 0 && x! < scrubbed.width && y! > 0 && y! < scrubbed.height, `hand at ${x},${y} in view`).toBe(true);
      const [r, g, b] = pixel(scrubbed, x!, y!);
      expect(Math.max(r!, g!, b!), `hand pixel at ${x},${y}`).toBeLessThan(110); // dark hand, not the pale background
      const [r0, g0, b0] = pixel(first, x!, y!); // at frame 0 the hand was elsewhere
      expect(Math.abs(r! - r0!) + Math.abs(g! - g0!) + Math.abs(b! - b0!)).toBeGreaterThan(40);
    }
    await page.close();
  });

  it("shows a missing run path as an error in the page", async () => {
    const missing = `${tempDir("page-missing")}/nope`;
    const { page, logs } = await open({ source: missing });
    await page.waitForFunction(() => window.duet?.error !== null);
    const shown = await page.locator("#error").textContent();
    expect(shown).toContain(`${missing}: no such file or folder`);
    expect(await page.locator("#error").isVisible()).toBe(true);
    expect(logs).toEqual([`duet view: ${shown}`]);
    await page.close();
  });

  it("teleoperation: keys move a gripper target, IK follows, Enter records a valid dataset episode", async () => {
    const out = `${tempDir("teleop")}/dataset`;
    const { page } = await open({ teleop: { out, scenario: SCENARIO_FILE, seed: 5 } });
    await page.waitForFunction(() => window.duet?.teleop.active === true);
    const before = await page.evaluate(() => window.duet.teleop.targets!.left.position.slice());
    await page.locator("body").click({ position: { x: 5, y: 5 } });
    for (const key of ["w", "w", "w", "e", "e"]) await page.keyboard.press(key);
    const after = await page.evaluate(() => window.duet.teleop.targets!.left.position.slice());
    expect(after[0]! - before[0]!).toBeCloseTo(0.03, 9);
    expect(after[1]).toBe(before[1]);
    expect(after[2]! - before[2]!).toBeCloseTo(0.02, 9);
    await page.keyboard.press("2");
    await page.keyboard.press("a");
    await page.keyboard.press("Space");
    const right = await page.evaluate(() => window.duet.teleop);
    expect(right.arm).toBe("right");
    expect(right.targets!.right.gripper).toBe(0);
    // the sim steps at 10 Hz; wait until the left TCP reached its target
    await page.waitForFunction(
      (t) => {
        const tcp = window.duet.teleop.tcp?.left;
        return (
          tcp !== undefined &&
          window.duet.teleop.step >= 8 &&
          Math.hypot(tcp[0]! - t[0]!, tcp[1]! - t[1]!, tcp[2]! - t[2]!) < 0.003
        );
      },
      after,
      { timeout: 20_000 },
    );
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.duet.teleop.saved.length === 1);
    const saved = (await page.evaluate(() => window.duet.teleop.saved))[0]!;
    expect(saved.episode).toBe(0);
    await page.close();

    const report = await validateDataset(out);
    expect(report.problems).toEqual([]);
    expect([report.ok, report.episodes]).toEqual([true, 1]);
    const ds = await Dataset.open(out);
    const ep = await ds.episode(0);
    expect([ep.meta.length, ep.meta.seed]).toEqual([saved.frames, 5]);
    expect(Object.keys(ep.images).sort()).toEqual(["front", "left_wrist", "right_wrist"]);
    // the last recorded left action puts the TCP at the target; the right gripper was commanded closed
    const last = ep.action.subarray((ep.meta.length - 1) * 16, ep.meta.length * 16);
    const kin = new ArmKinematics(robot, "left");
    kin.forward(last.subarray(0, 7));
    expect(Math.hypot(kin.tcp[9]! - after[0]!, kin.tcp[10]! - after[1]!, kin.tcp[11]! - after[2]!)).toBeLessThan(0.002);
    expect(last[15]).toBe(0);
    expect(last[7]).toBeCloseTo(robot.gripper.max_opening, 6);

    // the recorded dataset replays in the viewer: re-simulated 3D, camera images beside it
    const view = await open({ source: out });
    await view.page.waitForFunction(() => window.duet?.ready === true);
    expect(await view.page.evaluate(() => window.duet.episode!.poses.length)).toBe(saved.frames + 1);
    await view.page.evaluate(() => window.duet.setFrame(3));
    const img = view.page.locator('#cameras img[data-camera="front"]');
    await expect.poll(() => img.evaluate((e: HTMLImageElement) => e.complete && e.naturalWidth)).toBe(96);
    expect(await img.getAttribute("src")).toBe("/api/frame/0/front/3");
    await view.page.close();
  });
});
