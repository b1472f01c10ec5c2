// The viewer page: episode replay (timeline, play/pause, cameras, joint plot, chunk paths), live frames and
// teleoperation, over duet's own server. `window.duet` exposes the state for tests and the curious.
// Over 400 lines because it is one page's wiring (DOM, three.js scene, timeline, plots, socket) sharing its state;
// split further, each part would reach into the others' state.
import * as THREE from "three";
import type { BodySpec } from "../../sim/bodies.ts";
import type { ViewerEpisode } from "../episode.ts";
import type { PageMessage, ServerMessage, TeleopTarget } from "../protocol.ts";
import type { SourceInfo } from "../server.ts";
import { drawJointPlot } from "./plot.ts";
import { View3D } from "./view3d.ts";

type Arm = "left" | "right";
const ARMS: readonly Arm[] = ["left", "right"];
/** Per key press: translation (m) and twist (rad). */
const STEP_M = 0.01;
const STEP_RAD = 0.1;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const errorBox = $<HTMLPreElement>("error");
const status = $<HTMLSpanElement>("status");
const select = $<HTMLSelectElement>("episode");
const timeline = $<HTMLInputElement>("timeline");
const frameLabel = $<HTMLSpanElement>("frame");
const playButton = $<HTMLButtonElement>("play");
const plot = $<HTMLCanvasElement>("plot");
const plotArm = $<HTMLSelectElement>("plot-arm");
const camerasBox = $<HTMLDivElement>("cameras");
const notes = $<HTMLDivElement>("notes");
const view = new View3D($<HTMLDivElement>("view"));

interface TeleopState {
  active: boolean;
  arm: Arm;
  targets: Record<Arm, TeleopTarget> | null;
  maxOpening: number;
  tcp: Record<Arm, number[]> | null;
  step: number;
  seed: number;
  saved: { episode: number; frames: number; success: boolean }[];
}

/** State the page exposes as `window.duet`. */
const duet = {
  /** True once an episode (or a live/teleop scene) is shown. */
  ready: false,
  error: null as string | null,
  source: null as SourceInfo | null,
  episode: null as ViewerEpisode | null,
  frame: 0,
  playing: false,
  teleop: {
    active: false,
    arm: "left",
    targets: null,
    maxOpening: 0.04,
    tcp: null,
    step: 0,
    seed: 0,
    saved: [],
  } as TeleopState,
  setFrame,
  loadEpisode,
  /** World positions of every body group in the rendered scene (after the last setPoses). */
  bodyPositions(): number[][] {
    return (view.bodies?.groups ?? []).map((g) => [g.position.x, g.position.y, g.position.z]);
  },
  bodyNames(): string[] {
    return (view.bodies?.groups ?? []).map((g) => g.name);
  },
  project: (p: number[]) => view.project(p),
  /** Render now (synchronously) so a screenshot sees the current frame. */
  renderNow: () => view.renderNow(),
};
(window as unknown as { duet: typeof duet }).duet = duet;

function showError(message: string | null): void {
  duet.error = message;
  errorBox.textContent = message ?? "";
  errorBox.classList.toggle("shown", message !== null);
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `${url}: HTTP ${res.status}`);
  return body;
}

// ---- replay -------------------------------------------------------------------------------------------------------

async function loadEpisode(id: string): Promise<void> {
  duet.ready = false;
  status.textContent = `loading ${id}…`;
  try {
    const ep = await getJson<ViewerEpisode>(`/api/episode/${encodeURIComponent(id)}`);
    showError(null);
    showEpisode(ep);
  } catch (e) {
    showError(`cannot load episode ${id}: ${(e as Error).message}`);
    status.textContent = "";
  }
}

function showEpisode(ep: ViewerEpisode): void {
  duet.episode = ep;
  view.setBodies(ep.bodies);
  timeline.max = String(ep.poses.length - 1);
  notes.textContent = ep.notes.join(" · ");
  status.textContent = `${ep.label} · ${ep.fps} Hz · ${JSON.stringify(ep.outcome)}`;
  camerasBox.replaceChildren(
    ...ep.cameras.map((c) => {
      const fig = document.createElement("figure");
      const img = document.createElement("img");
      img.dataset.camera = c.name;
      img.alt = c.name;
      const cap = document.createElement("figcaption");
      cap.textContent = c.name;
      fig.append(img, cap);
      return fig;
    }),
  );
  if (ep.cameras.length === 0) camerasBox.textContent = "(no camera images in this episode)";
  setFrame(0);
  duet.ready = true;
}

function setFrame(i: number): void {
  const ep = duet.episode;
  if (!ep) return;
  const f = Math.max(0, Math.min(ep.poses.length - 1, Math.round(i)));
  duet.frame = f;
  timeline.value = String(f);
  frameLabel.textContent = `${f} / ${ep.poses.length - 1}  (${(f / ep.fps).toFixed(1)} s)`;
  view.setPoses(ep.poses[f]!);
  view.setChunks(ep.chunks, f);
  for (const img of camerasBox.querySelectorAll("img")) {
    const cam = ep.cameras.find((c) => c.name === img.dataset.camera);
    if (cam) img.src = `/api/frame/${encodeURIComponent(ep.id)}/${cam.name}/${Math.min(f, cam.frames - 1)}`;
  }
  drawJointPlot(plot, ep.joints, plotArm.value === "right" ? 8 : 0, f);
}

let playTimer: number | null = null;
function setPlaying(on: boolean): void {
  duet.playing = on;
  playButton.textContent = on ? "Pause" : "Play";
  if (playTimer !== null) clearInterval(playTimer);
  playTimer = null;
  const ep = duet.episode;
  if (!on || !ep) return;
  if (duet.frame >= ep.poses.length - 1) setFrame(0);
  playTimer = window.setInterval(() => {
    if (duet.frame >= ep.poses.length - 1) setPlaying(false);
    else setFrame(duet.frame + 1);
  }, 1000 / ep.fps);
}

timeline.addEventListener("input", () => setFrame(Number(timeline.value)));
playButton.addEventListener("click", () => setPlaying(!duet.playing));
plotArm.addEventListener("change", () => setFrame(duet.frame));
select.addEventListener("change", () => void loadEpisode(select.value));

// ---- live frames and teleoperation over /ws -------------------------------------------------------------------------

let socket: WebSocket | null = null;
function connect(): void {
  socket = new WebSocket(`ws://${location.host}/ws`);
  socket.addEventListener("message", (ev) => onMessage(JSON.parse(String(ev.data)) as ServerMessage));
  socket.addEventListener("close", () => {
    if (duet.teleop.active) showError("connection to duet view lost; restart it and reload the page");
  });
}

function send(m: PageMessage): void {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(m));
  else showError("not connected to duet view");
}

/** A scene shown from streamed frames (live or teleop): an episode that grows. */
function streamEpisode(label: string, fps: number, bodies: BodySpec[], poses: number[] | null): void {
  const ep: ViewerEpisode = {
    id: label,
    label,
    fps,
    bodies,
    poses: poses ? [poses] : [],
    joints: [],
    actions: [],
    jointNames: [],
    cameras: [],
    chunks: [],
    notes: [],
    outcome: {},
  };
  duet.episode = ep;
  view.setBodies(bodies);
  camerasBox.textContent = "(streamed frames carry no camera images)";
  status.textContent = label;
  if (poses) setFrame(0);
  duet.ready = true;
}

function appendFrame(poses: number[], state: number[] | undefined): void {
  const ep = duet.episode;
  if (!ep) return;
  const follow = duet.frame >= ep.poses.length - 1;
  ep.poses.push(poses);
  if (state) ep.joints.push(state);
  timeline.max = String(ep.poses.length - 1);
  if (follow) setFrame(ep.poses.length - 1);
}

function onMessage(m: ServerMessage): void {
  switch (m.type) {
    case "live-begin":
      setPlaying(false);
      streamEpisode(`live: ${m.name}`, m.fps, m.bodies, null);
      break;
    case "live-frame":
      appendFrame(m.poses, m.state);
      break;
    case "live-end":
      status.textContent += m.success === undefined ? " · ended" : m.success ? " · success" : " · failure";
      break;
    case "teleop-begin": {
      const t = duet.teleop;
      t.active = true;
      t.targets = m.targets;
      t.maxOpening = m.maxOpening;
      t.seed = m.seed;
      t.step = 0;
      t.tcp = null;
      streamEpisode(`teleop: seed ${m.seed} → ${m.out} (${m.episodes} episodes so far)`, m.fps, m.bodies, m.poses);
      $<HTMLElement>("teleop").classList.add("shown");
      view.showTargets(true);
      updateTargets();
      break;
    }
    case "teleop-frame":
      duet.teleop.step = m.step;
      duet.teleop.tcp = m.tcp;
      appendFrame(m.poses, m.state);
      updateTeleopState(m.ikError);
      break;
    case "teleop-saved":
      duet.teleop.saved.push({ episode: m.episode, frames: m.frames, success: m.success });
      status.textContent = `saved episode ${m.episode} (${m.frames} frames) to ${m.out}`;
      break;
    case "error":
      showError(m.message);
      break;
  }
}

function updateTeleopState(ikError?: { left: number; right: number }): void {
  const t = duet.teleop;
  if (!t.targets) return;
  const g = (a: Arm) => (t.targets![a].gripper > 0 ? "open" : "closed");
  const ik = ikError
    ? ` · IK error L ${(ikError.left * 1000).toFixed(1)} mm, R ${(ikError.right * 1000).toFixed(1)} mm`
    : "";
  $<HTMLDivElement>("teleop-state").textContent =
    `arm: ${t.arm} · grippers L ${g("left")}, R ${g("right")} · step ${t.step}${ik}`;
}

function updateTargets(): void {
  const t = duet.teleop.targets;
  if (!t) return;
  for (const arm of ARMS) {
    const m = view.targets[arm];
    m.position.set(...t[arm].position);
    m.quaternion.set(...t[arm].quaternion);
    m.scale.setScalar(arm === duet.teleop.arm ? 1.3 : 1);
  }
  view.requestRender();
  updateTeleopState();
}

function sendTarget(arm: Arm): void {
  const t = duet.teleop.targets![arm];
  send({ type: "teleop-target", arm, position: t.position, quaternion: t.quaternion, gripper: t.gripper });
}

const twist = new THREE.Quaternion();
const zAxis = new THREE.Vector3(0, 0, 1);
window.addEventListener("keydown", (ev) => {
  const t = duet.teleop;
  if (!t.active || !t.targets || ev.target instanceof HTMLSelectElement) return;
  const target = t.targets[t.arm];
  const p = target.position;
  let moved = true;
  switch (ev.code) {
    case "Digit1":
      t.arm = "left";
      moved = false;
      break;
    case "Digit2":
      t.arm = "right";
      moved = false;
      break;
    case "Tab":
      t.arm = t.arm === "left" ? "right" : "left";
      moved = false;
      break;
    case "KeyW":
      p[0] += STEP_M;
      break;
    case "KeyS":
      p[0] -= STEP_M;
      break;
    case "KeyA":
      p[1] += STEP_M;
      break;
    case "KeyD":
      p[1] -= STEP_M;
      break;
    case "KeyE":
      p[2] += STEP_M;
      break;
    case "KeyQ":
      p[2] -= STEP_M;
      break;
    case "KeyZ":
    case "KeyX": {
      const q = new THREE.Quaternion(...target.quaternion);
      q.multiply(twist.setFromAxisAngle(zAxis, ev.code === "KeyZ" ? STEP_RAD : -STEP_RAD)); // about the tool axis
      target.quaternion = [q.x, q.y, q.z, q.w];
      break;
    }
    case "Space":
      target.gripper = target.gripper > 0 ? 0 : t.maxOpening;
      break;
    case "Enter":
      send({ type: "teleop-save" });
      moved = false;
      break;
    case "Backspace":
      send({ type: "teleop-discard" });
      moved = false;
      break;
    default:
      return;
  }
  ev.preventDefault();
  updateTargets();
  if (moved) sendTarget(t.arm);
});

// Mouse: drag a target sphere in the horizontal plane at its height (orbit controls pause while dragging).
const raycaster = new THREE.Raycaster();
const pointer = new THREE.Vector2();
const plane = new THREE.Plane();
const hit = new THREE.Vector3();
let dragging: Arm | null = null;
const canvas = view.renderer.domElement;
function ray(ev: PointerEvent): void {
  const r = canvas.getBoundingClientRect();
  pointer.set(((ev.clientX - r.left) / r.width) * 2 - 1, -((ev.clientY - r.top) / r.height) * 2 + 1);
  raycaster.setFromCamera(pointer, view.camera);
}
canvas.addEventListener("pointerdown", (ev) => {
  const t = duet.teleop;
  if (!t.active || !t.targets) return;
  ray(ev);
  for (const arm of ARMS) {
    if (raycaster.intersectObject(view.targets[arm], true).length > 0) {
      dragging = arm;
      t.arm = arm;
      view.controls.enabled = false;
      plane.set(new THREE.Vector3(0, 0, 1), -t.targets[arm].position[2]);
      canvas.setPointerCapture(ev.pointerId);
      updateTargets();
      return;
    }
  }
});
canvas.addEventListener("pointermove", (ev) => {
  const t = duet.teleop;
  if (dragging === null || !t.targets) return;
  ray(ev);
  if (raycaster.ray.intersectPlane(plane, hit)) {
    t.targets[dragging].position[0] = hit.x;
    t.targets[dragging].position[1] = hit.y;
    updateTargets();
    sendTarget(dragging);
  }
});
canvas.addEventListener("pointerup", () => {
  dragging = null;
  view.controls.enabled = true;
});
$<HTMLButtonElement>("save").addEventListener("click", () => send({ type: "teleop-save" }));
$<HTMLButtonElement>("discard").addEventListener("click", () => send({ type: "teleop-discard" }));

// ---- start --------------------------------------------------------------------------------------------------------

async function start(): Promise<void> {
  connect();
  let info: SourceInfo;
  try {
    info = await getJson<SourceInfo>("/api/source");
  } catch (e) {
    showError(`cannot reach duet view: ${(e as Error).message}`);
    return;
  }
  duet.source = info;
  if (info.error) showError(info.error);
  select.replaceChildren(
    ...info.episodes.map((e) => {
      const o = document.createElement("option");
      o.value = e.id;
      o.textContent = e.label;
      return o;
    }),
  );
  select.style.display = info.episodes.length > 0 ? "" : "none";
  const first = info.episodes[0];
  if (first) await loadEpisode(first.id);
  else if (!info.error && !info.teleop) status.textContent = "waiting for a live run (ws /live)…";
}
void start();
