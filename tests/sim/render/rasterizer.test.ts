import * as THREE from "three";
import { describe, expect, it } from "vitest";
import { DuetError } from "../../../src/core/index.ts";
import { Rasterizer, channelToByte } from "../../../src/sim/render/index.ts";

const W = 64;
const H = 64;

function camera(position: [number, number, number], target: [number, number, number], near = 0.1, far = 50) {
  const cam = new THREE.PerspectiveCamera(50, W / H, near, far);
  cam.position.set(...position);
  cam.lookAt(...target);
  return cam;
}

function render(scene: THREE.Scene, cam: THREE.PerspectiveCamera, rasterizer = new Rasterizer(W, H)): Uint8Array {
  const out = new Uint8Array(W * H * 3);
  rasterizer.render(scene, cam, out);
  return out;
}

function pixel(out: Uint8Array, x: number, y: number): [number, number, number] {
  const o = (Math.floor(y) * W + Math.floor(x)) * 3;
  return [out[o] as number, out[o + 1] as number, out[o + 2] as number];
}

/** Where three's projection puts a world point, in pixels (row 0 = top). */
function projected(cam: THREE.PerspectiveCamera, p: THREE.Vector3): { x: number; y: number } {
  cam.updateMatrixWorld();
  const ndc = p.clone().project(cam);
  return { x: ((ndc.x + 1) / 2) * W, y: ((1 - ndc.y) / 2) * H };
}

function box(size: number, color: number, at: [number, number, number], lit = false): THREE.Mesh {
  const material = lit ? new THREE.MeshLambertMaterial({ color }) : new THREE.MeshBasicMaterial({ color });
  const mesh = new THREE.Mesh(new THREE.BoxGeometry(size, size, size), material);
  mesh.position.set(...at);
  return mesh;
}

/** Index of the first byte where a and b differ (−1 when equal): fast, and tells where a mismatch is. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Pixels whose colour differs between two frames of the same size. */
function differingPixels(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 3) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  return n;
}

/** Pixels whose colour equals `rgb`: count and centroid (pixel centres at i + ½). */
function blob(out: Uint8Array, rgb: [number, number, number]) {
  let n = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [r, g, b] = pixel(out, x, y);
      if (r === rgb[0] && g === rgb[1] && b === rgb[2]) {
        n++;
        sx += x + 0.5;
        sy += y + 0.5;
      }
    }
  }
  return { n, x: sx / n, y: sy / n };
}

describe("Rasterizer", () => {
  it.each([
    { name: "axis-aligned camera", eye: [0, 0, 5], look: [0, 0, 0], at: [0.7, -0.4, 0] },
    { name: "oblique camera", eye: [2, 3, 4], look: [0, 0.5, 0], at: [0.3, 0.2, -0.5] },
    { name: "camera looking up from below", eye: [0, -3, 1], look: [0, 0, 0], at: [-0.4, 0.3, 0.2] },
  ] as const)("draws a red box where THREE's projection says ($name)", ({ eye, look, at }) => {
    const scene = new THREE.Scene();
    scene.add(box(0.15, 0xff0000, [...at]));
    const cam = camera([...eye], [...look]);
    const out = render(scene, cam);
    const p = projected(cam, new THREE.Vector3(...at));
    expect(p.x).toBeGreaterThan(4);
    expect(p.x).toBeLessThan(W - 4);
    expect(pixel(out, p.x, p.y)).toEqual([255, 0, 0]);
    const red = blob(out, [255, 0, 0]);
    expect(red.n).toBeGreaterThan(3);
    expect(red.n).toBeLessThan(100); // a small box, not a smear
    expect(Math.abs(red.x - p.x)).toBeLessThan(0.75);
    expect(Math.abs(red.y - p.y)).toBeLessThan(0.75);
    // Everything else is background.
    expect(blob(out, [0, 0, 0]).n + red.n).toBe(W * H);
  });

  it("follows parent transforms (a child mesh of a moved group)", () => {
    const scene = new THREE.Scene();
    const group = new THREE.Group();
    group.position.set(0.5, 0.5, 0);
    group.rotation.z = Math.PI / 2; // child at local (0.5, 0, 0) → world (0.5, 1.0, 0)
    scene.add(group);
    group.add(box(0.2, 0x00ff00, [0.5, 0, 0]));
    const cam = camera([0, 0, 5], [0, 0, 0]);
    const out = render(scene, cam);
    const p = projected(cam, new THREE.Vector3(0.5, 1.0, 0));
    const green = blob(out, [0, 255, 0]);
    expect(Math.abs(green.x - p.x)).toBeLessThan(0.75);
    expect(Math.abs(green.y - p.y)).toBeLessThan(0.75);
  });

  it("lets the nearer object occlude the farther one, whatever the drawing order", () => {
    const cam = camera([0, 0, 5], [0, 0, 0]);
    for (const order of ["near first", "far first"]) {
      const scene = new THREE.Scene();
      const near = box(0.5, 0xff0000, [0, 0, 1]);
      const far = box(1.5, 0x0000ff, [0, 0, -1]);
      if (order === "near first") scene.add(near, far);
      else scene.add(far, near);
      const out = render(scene, cam);
      expect(pixel(out, W / 2, H / 2), order).toEqual([255, 0, 0]);
      // Beside the small near box, the big far box shows.
      const side = projected(cam, new THREE.Vector3(0.6, 0, -1));
      expect(pixel(out, side.x, side.y), order).toEqual([0, 0, 255]);
      expect(blob(out, [255, 0, 0]).n).toBeGreaterThan(20);
    }
  });

  it("intersecting objects are resolved per pixel by depth", () => {
    // A red box tilted through a blue plane: both colours appear, split by the intersection line.
    const scene = new THREE.Scene();
    const plane = new THREE.Mesh(new THREE.PlaneGeometry(3, 3), new THREE.MeshBasicMaterial({ color: 0x0000ff }));
    scene.add(plane);
    const tilted = box(1, 0xff0000, [0, 0, 0]);
    tilted.rotation.set(0.4, 0.6, 0);
    scene.add(tilted);
    const out = render(scene, camera([0, 0, 5], [0, 0, 0]));
    const red = blob(out, [255, 0, 0]).n;
    const blue = blob(out, [0, 0, 255]).n;
    expect(red).toBeGreaterThan(100);
    expect(blue).toBeGreaterThan(100);
    // Without the plane the box covers more pixels: the plane hides its far half.
    scene.remove(plane);
    expect(blob(render(scene, camera([0, 0, 5], [0, 0, 0])), [255, 0, 0]).n).toBeGreaterThan(red);
  });

  it("shades Lambert faces like three: E·albedo/π, brighter toward the light, sRGB output", () => {
    const scene = new THREE.Scene();
    scene.add(new THREE.AmbientLight(0xffffff, 0.2));
    const sun = new THREE.DirectionalLight(0xffffff, 2);
    sun.position.set(5, 0, 0); // light along +x, target at the origin
    scene.add(sun);
    scene.add(box(1, 0xffffff, [0, 0, 0], true));
    const cam = camera([3, 1, 3], [0, 0, 0]);
    const out = render(scene, cam);
    const px = projected(cam, new THREE.Vector3(0.5, 0, 0)); // centre of the +x face
    const pz = projected(cam, new THREE.Vector3(0, 0, 0.5)); // centre of the +z face (perpendicular to the light)
    const py = projected(cam, new THREE.Vector3(0, 0.5, 0)); // top face
    const lit = channelToByte((0.2 + 2) / Math.PI, true);
    const dark = channelToByte(0.2 / Math.PI, true);
    const xFace = pixel(out, px.x, px.y);
    const zFace = pixel(out, pz.x, pz.y);
    const yFace = pixel(out, py.x, py.y);
    for (const c of xFace) expect(Math.abs(c - lit)).toBeLessThanOrEqual(1);
    for (const c of zFace) expect(Math.abs(c - dark)).toBeLessThanOrEqual(1);
    for (const c of yFace) expect(Math.abs(c - dark)).toBeLessThanOrEqual(1);
    expect(xFace[0]).toBeGreaterThan(zFace[0] + 50);
  });

  it("shades with a hemisphere light: sky colour on top, half-way on the sides", () => {
    const scene = new THREE.Scene();
    scene.add(new THREE.HemisphereLight(0xffffff, 0x000000, Math.PI)); // irradiance·1/π = 1 on top
    scene.add(box(1, 0xffffff, [0, 0, 0], true));
    const cam = camera([2, 3, 2], [0, 0, 0]);
    const out = render(scene, cam);
    const top = projected(cam, new THREE.Vector3(0, 0.5, 0));
    const side = projected(cam, new THREE.Vector3(0.5, 0, 0));
    expect(pixel(out, top.x, top.y)).toEqual([255, 255, 255]);
    const half = channelToByte(0.5, true);
    for (const c of pixel(out, side.x, side.y)) expect(Math.abs(c - half)).toBeLessThanOrEqual(1);
  });

  it("fills with scene.background, or black without one; srgb: false writes linear bytes", () => {
    const scene = new THREE.Scene();
    const cam = camera([0, 0, 5], [0, 0, 0]);
    expect(blob(render(scene, cam), [0, 0, 0]).n).toBe(W * H);
    scene.background = new THREE.Color(0x336699);
    expect(blob(render(scene, cam), [0x33, 0x66, 0x99]).n).toBe(W * H);
    // An odd image size (the clear doubles copies; the last one is partial).
    const small = new Uint8Array(7 * 3 * 3).fill(1);
    new Rasterizer(7, 3).render(scene, new THREE.PerspectiveCamera(50, 7 / 3), small);
    expect([...small]).toEqual(Array.from({ length: 21 }, () => [0x33, 0x66, 0x99]).flat());
    const linear = new Uint8Array(W * H * 3);
    new Rasterizer(W, H, { srgb: false }).render(scene, cam, linear);
    const c = new THREE.Color(0x336699); // stored linear
    expect(pixel(linear, 0, 0)).toEqual([Math.round(c.r * 255), Math.round(c.g * 255), Math.round(c.b * 255)]);
  });

  it("clips triangles crossing the near plane: a floor under a level camera ends at the horizon, no smear", () => {
    const scene = new THREE.Scene();
    // Two big triangles reaching far behind the camera.
    const floor = new THREE.Mesh(new THREE.PlaneGeometry(200, 200), new THREE.MeshBasicMaterial({ color: 0x00ff00 }));
    floor.rotation.x = -Math.PI / 2;
    scene.add(floor);
    const cam = camera([0, 0.5, 0], [0, 0.5, -1], 0.1, 50);
    const out = render(scene, cam);
    // The horizon (at the far plane) lies 0.5/50 rad below the image centre: < 1 px at 64 px over 50°.
    const wrong: string[] = [];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const c = pixel(out, x, y).join(",");
        if (y < H / 2 - 1 && c !== "0,0,0") wrong.push(`(${x}, ${y}) above the horizon is ${c}`);
        if (y > H / 2 + 1 && c !== "0,255,0") wrong.push(`(${x}, ${y}) below the horizon is ${c}`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it("draws nothing for geometry wholly behind the camera, and handles a camera inside a box", () => {
    const cam = camera([0, 0, 0], [0, 0, -1]);
    const behind = new THREE.Scene();
    behind.add(box(1, 0xff0000, [0, 0, 3]));
    expect(blob(render(behind, cam), [0, 0, 0]).n).toBe(W * H);

    // Inside a box: one-sided (FrontSide) walls are culled, BackSide and DoubleSide walls fill the view.
    for (const [side, expected] of [
      [THREE.FrontSide, [0, 0, 0]],
      [THREE.BackSide, [255, 0, 0]],
      [THREE.DoubleSide, [255, 0, 0]],
    ] as const) {
      const scene = new THREE.Scene();
      const room = box(4, 0xff0000, [0.3, -0.2, 0.1]);
      (room.material as THREE.Material).side = side;
      scene.add(room);
      expect(blob(render(scene, cam), [...expected]).n, `side ${side}`).toBe(W * H);
    }
  });

  it("culls back faces correctly for mirrored (negative-scale) meshes and multi-material groups", () => {
    // BoxGeometry groups: +x, −x, +y, −y, +z, −z. Seen from +z, the +z face (group 4) shows.
    const colors = [0x110000, 0x220000, 0x330000, 0x440000, 0x00ff00, 0xff00ff];
    const materials = colors.map((color) => new THREE.MeshBasicMaterial({ color }));
    const cam = camera([0, 0, 5], [0, 0, 0]);
    for (const scaleX of [1, -1]) {
      const scene = new THREE.Scene();
      const mesh = new THREE.Mesh(new THREE.BoxGeometry(1, 1, 1), materials);
      mesh.scale.x = scaleX;
      scene.add(mesh);
      const out = render(scene, cam);
      expect(pixel(out, W / 2, H / 2), `scale.x ${scaleX}`).toEqual([0, 255, 0]);
      expect(blob(out, [255, 0, 255]).n).toBe(0); // the −z face is hidden
    }
  });

  it("renders non-indexed geometry exactly like the indexed original", () => {
    const cam = camera([2, 1.5, 3], [0, 0, 0]);
    const lights = () => {
      const s = new THREE.Scene();
      s.add(new THREE.AmbientLight(0xffffff, 0.5));
      const d = new THREE.DirectionalLight(0xffffff, 2);
      d.position.set(1, 2, 3);
      s.add(d);
      return s;
    };
    const geometries = [
      new THREE.CylinderGeometry(0.4, 0.5, 1, 14),
      new THREE.SphereGeometry(0.6, 12, 8),
      new THREE.BoxGeometry(1, 0.5, 0.8),
    ];
    for (const g of geometries) {
      const a = lights();
      a.add(new THREE.Mesh(g, new THREE.MeshLambertMaterial({ color: 0x88aa44 })));
      const b = lights();
      b.add(new THREE.Mesh(g.toNonIndexed(), new THREE.MeshLambertMaterial({ color: 0x88aa44 })));
      const outA = render(a, cam);
      expect(blob(outA, [0, 0, 0]).n).toBeLessThan(W * H - 200);
      expect(firstDifference(render(b, cam), outA)).toBe(-1);
    }
  });

  it("respects visibility, layers and drawRange", () => {
    const cam = camera([0, 0, 5], [0, 0, 0]);
    const scene = new THREE.Scene();
    const mesh = box(1, 0xff0000, [0, 0, 0]);
    scene.add(mesh);
    expect(blob(render(scene, cam), [255, 0, 0]).n).toBeGreaterThan(100);
    mesh.visible = false;
    expect(blob(render(scene, cam), [255, 0, 0]).n).toBe(0);
    mesh.visible = true;
    mesh.layers.set(2);
    expect(blob(render(scene, cam), [255, 0, 0]).n).toBe(0);
    cam.layers.enable(2);
    expect(blob(render(scene, cam), [255, 0, 0]).n).toBeGreaterThan(100);
    mesh.geometry.setDrawRange(0, 24); // only the ±x and +y faces: none faces a camera on +z
    expect(blob(render(scene, cam), [255, 0, 0]).n).toBe(0);
  });

  it("is deterministic: the same scene gives identical bytes, a moved object different ones", () => {
    const build = () => {
      const scene = new THREE.Scene();
      scene.background = new THREE.Color(0x202020);
      scene.add(new THREE.AmbientLight(0xffffff, 0.4));
      const d = new THREE.DirectionalLight(0xffeedd, 2.5);
      d.position.set(-1, 3, 2);
      scene.add(d);
      for (let i = 0; i < 8; i++) {
        const m = new THREE.Mesh(
          i % 2 ? new THREE.CylinderGeometry(0.1, 0.12, 0.5, 16) : new THREE.BoxGeometry(0.3, 0.2, 0.25),
          new THREE.MeshLambertMaterial({ color: 0x224466 + i * 0x101010 }),
        );
        m.position.set(Math.sin(i) * 0.8, Math.cos(i * 1.3) * 0.5, Math.sin(i * 0.7) * 0.6);
        m.rotation.set(i * 0.3, i * 0.5, i * 0.2);
        scene.add(m);
      }
      return scene;
    };
    const cam = camera([0.5, 1.5, 3], [0, 0, 0]);
    const rasterizer = new Rasterizer(W, H);
    const first = render(build(), cam, rasterizer);
    expect(firstDifference(render(build(), cam, rasterizer), first)).toBe(-1);
    expect(firstDifference(render(build(), cam, new Rasterizer(W, H)), first)).toBe(-1);
    // Not blank: many pixels differ from the background, with several distinct colours.
    const colours = new Set<number>();
    let covered = 0;
    for (let i = 0; i < W * H; i++) {
      const c = ((first[i * 3] as number) << 16) | ((first[i * 3 + 1] as number) << 8) | (first[i * 3 + 2] as number);
      colours.add(c);
      if (c !== 0x202020) covered++;
    }
    expect(colours.size).toBeGreaterThan(10);
    expect(covered).toBeGreaterThan(W * H * 0.05);
    const moved = build();
    (moved.children[2] as THREE.Object3D).position.x += 0.3;
    // the box left part of its old place and covers a new one: 82 of the 64×64 pixels change
    expect(differingPixels(render(moved, cam, rasterizer), first)).toBeGreaterThan(40);
  });

  it("rejects a wrong output size, a bad image size and instanced meshes with clear errors", () => {
    const r = new Rasterizer(W, H);
    const scene = new THREE.Scene();
    const cam = camera([0, 0, 5], [0, 0, 0]);
    expect(() => r.render(scene, cam, new Uint8Array(10))).toThrow(/out must have H·W·3 = 12288 bytes .* got 10/);
    expect(() => new Rasterizer(0, 96)).toThrow(DuetError);
    expect(() => new Rasterizer(96, 1.5)).toThrow(/height must be an integer in \[1, 8192\], received 1.5/);
    const instanced = new THREE.InstancedMesh(new THREE.BoxGeometry(), new THREE.MeshBasicMaterial(), 2);
    instanced.name = "crates";
    scene.add(instanced);
    expect(() => r.render(scene, cam, new Uint8Array(W * H * 3))).toThrow(/"crates" is a THREE.InstancedMesh/);
  });
});
