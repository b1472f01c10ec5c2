// The three.js scene built from body descriptions: used by the CPU rasterizer cameras and by the browser viewer.
// Poses arrive as a flat array (per body: px, py, pz, qx, qy, qz, qw), so live sims and recorded replays drive it alike.
import * as THREE from "three";
import type { BodySpec, ShapeSpec, Vec3 } from "./bodies.ts";

/** Numbers per body in a pose frame. */
export const POSE_STRIDE = 7;

/** The light of a scene: the nominal one, or an episode's drawn from its scenario's `lighting` (sim/appearance.ts). */
export interface SceneLight {
  /** Factor on every light's intensity. */
  intensity: number;
  /** Factor on each colour channel (r, g, b, linear) of every light. */
  tint: Vec3;
  /** Where the sun shines from: a direction, any length (three's DirectionalLight points from here to the origin). */
  sun: Vec3;
}

/** The light every scene had before lighting could be perturbed; a scene built with it renders as it always did. */
export const NOMINAL_LIGHT: Readonly<SceneLight> = { intensity: 1, tint: [1, 1, 1], sun: [0.6, 0.4, 1.5] };
/** Intensities of the nominal ambient light and sun (three's units). */
const AMBIENT = 1.4;
const SUN = 2.2;

function geometry(s: ShapeSpec): THREE.BufferGeometry {
  switch (s.kind) {
    case "box":
      return new THREE.BoxGeometry(s.half[0] * 2, s.half[1] * 2, s.half[2] * 2);
    case "sphere":
      return new THREE.SphereGeometry(s.radius, 10, 6);
    case "cylinder":
      // three's cylinders run along Y; ours along z
      return new THREE.CylinderGeometry(s.radius, s.radius, s.length, 14).rotateX(Math.PI / 2);
  }
}

/** A scene with one group per body (in description order), lights and a background. */
export class BodyScene {
  readonly scene = new THREE.Scene();
  readonly groups: THREE.Group[] = [];

  constructor(specs: readonly BodySpec[], light: Readonly<SceneLight> = NOMINAL_LIGHT) {
    this.scene.background = new THREE.Color(0xb8c4d0);
    const ambient = new THREE.AmbientLight(0xffffff, AMBIENT * light.intensity);
    const sun = new THREE.DirectionalLight(0xffffff, SUN * light.intensity);
    // tinted by multiplying the white three made from 0xffffff, so the nominal tint (1, 1, 1) changes no bit of it
    for (const l of [ambient, sun]) l.color.multiply(new THREE.Color(...light.tint));
    sun.position.set(...light.sun);
    this.scene.add(ambient, sun);
    const materials = new Map<number, THREE.MeshLambertMaterial>();
    for (const spec of specs) {
      const group = new THREE.Group();
      group.name = spec.name;
      for (const s of spec.shapes) {
        if (s.hidden) continue;
        let material = materials.get(s.color);
        if (!material) {
          material = new THREE.MeshLambertMaterial({ color: s.color });
          materials.set(s.color, material);
        }
        const mesh = new THREE.Mesh(geometry(s), material);
        mesh.position.set(...s.offset);
        mesh.quaternion.set(...s.rotation);
        group.add(mesh);
      }
      this.groups.push(group);
      this.scene.add(group);
    }
  }

  /** Pose every body from a frame: `poses: Nbodies·7` (position xyz, quaternion xyzw). */
  setPoses(poses: ArrayLike<number>): void {
    for (let i = 0; i < this.groups.length; i++) {
      const g = this.groups[i]!;
      const o = i * POSE_STRIDE;
      g.position.set(poses[o]!, poses[o + 1]!, poses[o + 2]!);
      g.quaternion.set(poses[o + 3]!, poses[o + 4]!, poses[o + 5]!, poses[o + 6]!);
    }
    this.scene.updateMatrixWorld();
  }
}
