// The page's 3D view: three.js WebGLRenderer over the same BodyScene the simulator's cameras use, orbit controls,
// action-chunk paths and teleoperation target markers.
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import type { BodySpec } from "../../sim/bodies.ts";
import { BodyScene } from "../../sim/scene.ts";
import type { ChunkPaths } from "../episode.ts";
import { VIEW_FOV, VIEW_POSITION, VIEW_TARGET } from "../viewpoint.ts";

const ARM_COLORS = { left: 0x1f77b4, right: 0xff7f0e } as const;

export class View3D {
  readonly renderer: THREE.WebGLRenderer;
  readonly camera = new THREE.PerspectiveCamera(VIEW_FOV, 1, 0.01, 20);
  readonly controls: OrbitControls;
  bodies: BodyScene | null = null;
  private readonly overlay = new THREE.Group();
  private readonly chunkGroup = new THREE.Group();
  readonly targets = { left: this.marker(ARM_COLORS.left), right: this.marker(ARM_COLORS.right) };
  private pending = false;

  constructor(private readonly container: HTMLElement) {
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(1);
    container.appendChild(this.renderer.domElement);
    this.camera.up.set(0, 0, 1);
    this.camera.position.set(...VIEW_POSITION);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.target.set(...VIEW_TARGET);
    this.controls.update();
    this.controls.addEventListener("change", () => this.requestRender());
    this.overlay.add(this.chunkGroup, this.targets.left, this.targets.right);
    new ResizeObserver(() => this.resize()).observe(container);
    this.resize();
  }

  /** Rebuild the scene from body descriptions. */
  setBodies(specs: readonly BodySpec[]): void {
    this.bodies = new BodyScene(specs);
    this.bodies.scene.add(this.overlay);
    this.requestRender();
  }

  /** `poses: Nbodies·7`. */
  setPoses(poses: ArrayLike<number>): void {
    this.bodies?.setPoses(poses);
    this.requestRender();
  }

  /** Draw the chunk paths planned at or before `frame` and still running: executed bright, other candidates faint. */
  setChunks(chunks: readonly ChunkPaths[], frame: number): void {
    this.chunkGroup.clear();
    let current: ChunkPaths | undefined;
    for (const c of chunks) if (c.step <= frame) current = c;
    if (current === undefined) return this.requestRender();
    for (const p of current.paths) {
      const geometry = new THREE.BufferGeometry();
      geometry.setAttribute("position", new THREE.Float32BufferAttribute(p.points, 3));
      const material = new THREE.LineBasicMaterial({
        color: ARM_COLORS[p.arm],
        transparent: !p.executed,
        opacity: p.executed ? 1 : 0.35,
      });
      this.chunkGroup.add(new THREE.Line(geometry, material));
      if (p.executed)
        this.chunkGroup.add(
          new THREE.Points(
            geometry,
            new THREE.PointsMaterial({ color: ARM_COLORS[p.arm], size: 4, sizeAttenuation: false }),
          ),
        );
    }
    this.requestRender();
  }

  showTargets(visible: boolean): void {
    this.targets.left.visible = visible;
    this.targets.right.visible = visible;
    this.requestRender();
  }

  /** World point → canvas pixel (CSS px from the canvas' top-left). */
  project(p: readonly number[]): [number, number] {
    const v = new THREE.Vector3(p[0], p[1], p[2]).project(this.camera);
    const el = this.renderer.domElement;
    return [((v.x + 1) / 2) * el.clientWidth, ((1 - v.y) / 2) * el.clientHeight];
  }

  requestRender(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.renderNow();
    });
  }

  renderNow(): void {
    if (this.bodies) this.renderer.render(this.bodies.scene, this.camera);
  }

  private resize(): void {
    const w = Math.max(1, this.container.clientWidth);
    const h = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(w, h);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  private marker(color: number): THREE.Group {
    const g = new THREE.Group();
    g.add(
      new THREE.Mesh(
        new THREE.SphereGeometry(0.018, 16, 12),
        new THREE.MeshBasicMaterial({ color, transparent: true, opacity: 0.6 }),
      ),
    );
    g.add(new THREE.AxesHelper(0.06));
    g.visible = false;
    return g;
  }
}
