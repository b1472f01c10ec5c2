// Benchmark of the CPU rasterizer: median ms per frame of a ~25-mesh two-arm workspace scene at 96², 128², 224².
// Usage: npm run bench -- render [--frames N]   (one JSON object; progress on stderr)
import * as THREE from "three";
import { Rasterizer } from "../src/sim/render/index.ts";

/** Seconds-free deterministic pseudo-random numbers in [0, 1) (so the scene does not depend on core's Rng API). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A scene shaped like the bottle-cap workspace: floor, table, two 7-link arms (16-segment cylinders, posed by a
 * seeded random walk) each with a hand and two fingers (boxes), a bottle and its cap; ambient + hemisphere +
 * directional light. 26 meshes, 1.2k triangles. The camera looks down at the table from the front, like the workspace camera.
 */
export function benchScene(seed = 1): { scene: THREE.Scene; camera: THREE.PerspectiveCamera; meshes: number } {
  const rand = lcg(seed);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x20242a);
  scene.add(new THREE.AmbientLight(0xffffff, 0.6));
  scene.add(new THREE.HemisphereLight(0xddeeff, 0x332211, 0.8));
  const sun = new THREE.DirectionalLight(0xffffff, 2.5);
  sun.position.set(0.5, 2, 1);
  scene.add(sun);
  const lambert = (color: number) => new THREE.MeshLambertMaterial({ color });
  let meshes = 0;
  const add = (parent: THREE.Object3D, geometry: THREE.BufferGeometry, color: number): THREE.Mesh => {
    const mesh = new THREE.Mesh(geometry, lambert(color));
    parent.add(mesh);
    meshes++;
    return mesh;
  };
  const floor = add(scene, new THREE.PlaneGeometry(6, 6), 0x555555);
  floor.rotation.x = -Math.PI / 2;
  const table = add(scene, new THREE.BoxGeometry(1.2, 0.05, 0.8), 0x8b6b4a);
  table.position.set(0, 0.725, 0);
  const bottle = add(scene, new THREE.CylinderGeometry(0.035, 0.035, 0.2, 16), 0x2277cc);
  bottle.position.set(0.02, 0.85, 0.05);
  const cap = add(scene, new THREE.CylinderGeometry(0.018, 0.018, 0.025, 16), 0xdd3322);
  cap.position.set(0.02, 0.9625, 0.05);
  for (const sideSign of [-1, 1]) {
    const base = new THREE.Group();
    base.position.set(0.4 * sideSign, 0.75, -0.38);
    scene.add(base);
    let parent: THREE.Object3D = base;
    for (let link = 0; link < 7; link++) {
      const joint = new THREE.Group();
      joint.position.set(0, link === 0 ? 0 : 0.12, 0);
      // A bent arm reaching toward the bottle, with a seeded wiggle per joint.
      const bend = link === 1 ? 0.9 : link === 3 ? 0.7 : link === 5 ? 0.6 : 0;
      joint.rotation.set(bend + (rand() - 0.5) * 0.4, (rand() - 0.5) * 0.6, 0.35 * sideSign * (link === 1 ? 1 : 0));
      parent.add(joint);
      const body = add(joint, new THREE.CylinderGeometry(0.045, 0.05, 0.12, 16), link % 2 === 0 ? 0xeeeeee : 0x333333);
      body.position.y = 0.06;
      parent = joint;
    }
    const flange = add(parent, new THREE.CylinderGeometry(0.035, 0.035, 0.02, 16), 0x777777);
    flange.position.y = 0.13;
    const hand = add(parent, new THREE.BoxGeometry(0.16, 0.05, 0.06), 0xdddddd);
    hand.position.y = 0.145;
    for (const f of [-1, 1]) {
      const finger = add(parent, new THREE.BoxGeometry(0.015, 0.05, 0.02), 0x222222);
      finger.position.set(0.03 * f, 0.195, 0);
    }
  }
  const camera = new THREE.PerspectiveCamera(60, 1, 0.02, 10);
  camera.position.set(0, 1.45, 0.75);
  camera.lookAt(0, 0.8, -0.05);
  return { scene, camera, meshes };
}

/** Median (and quartiles) of ms per frame over `frames` renders at `size`×`size`, after a warm-up. */
export function measureRender(
  scene: THREE.Scene,
  camera: THREE.PerspectiveCamera,
  size: number,
  frames: number,
): { median: number; p25: number; p75: number } {
  const rasterizer = new Rasterizer(size, size);
  const out = new Uint8Array(size * size * 3);
  for (let i = 0; i < Math.min(50, frames); i++) rasterizer.render(scene, camera, out);
  const times = new Float64Array(frames);
  for (let i = 0; i < frames; i++) {
    const t0 = process.hrtime.bigint();
    rasterizer.render(scene, camera, out);
    times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  times.sort();
  const at = (q: number) => times[Math.min(frames - 1, Math.floor(q * frames))] as number;
  return { median: at(0.5), p25: at(0.25), p75: at(0.75) };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const i = args.indexOf("--frames");
  const frames = i >= 0 ? Number(args[i + 1]) : 500;
  if (!Number.isInteger(frames) || frames < 1)
    throw new Error(`--frames: expected a positive integer, received ${args[i + 1]}`);
  const { scene, camera, meshes } = benchScene();
  let triangles = 0;
  scene.traverse((o) => {
    if (o instanceof THREE.Mesh) {
      const g = o.geometry as THREE.BufferGeometry;
      triangles += (g.index?.count ?? g.getAttribute("position").count) / 3;
    }
  });
  const result: Record<string, unknown> = { meshes, triangles, frames };
  for (const size of [96, 128, 224]) {
    process.stderr.write(`render: ${size}×${size}, ${frames} frames…\n`);
    const m = measureRender(scene, camera, size, frames);
    result[`render_ms_${size}`] = Number(m.median.toFixed(4));
    result[`render_ms_${size}_p25_p75`] = [Number(m.p25.toFixed(4)), Number(m.p75.toFixed(4))];
  }
  return result;
}

// Direct run (`npx tsx bench/render.ts`) until bench/main.ts dispatches to it.
if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).then((r) => console.log(JSON.stringify(r)));
}
