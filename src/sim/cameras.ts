// The scenario's cameras: fixed or riding on a hand, rendered by the CPU rasterizer over the body scene.
import * as THREE from "three";
import type { Arm, CameraFrame } from "../core/index.ts";
import type { EnvCameras } from "./env.ts";
import { Rasterizer } from "./render/index.ts";
import type { CameraSpec } from "./scenario.ts";
import { BodyScene } from "./scene.ts";
import type { BimanualWorld } from "./world.ts";

interface Mounted {
  spec: CameraSpec;
  camera: THREE.PerspectiveCamera;
  rasterizer: Rasterizer;
  /** Hand the camera rides on, or null for a fixed camera. */
  hand: Arm | null;
  /** The episode's offset of this camera (sim/appearance.ts), or null when the scenario gives it none. */
  shift: THREE.Vector3 | null;
  turn: THREE.Quaternion | null;
}

const v = new THREE.Vector3();
const euler = new THREE.Euler();
const target = new THREE.Vector3();
const handQuat = new THREE.Quaternion();
const handPos = new THREE.Vector3();

/**
 * Renders every camera of a scenario each control step. The body scene is rebuilt when the world changes (a new
 * episode); poses are copied from the physics bodies. Frames are fresh arrays (they go into observations).
 */
export class SceneCameras implements EnvCameras {
  readonly names: readonly string[];
  private readonly mounted: Mounted[];
  private scene: BodyScene | null = null;
  private sceneWorld: BimanualWorld | null = null;
  private poses = new Float32Array(0);

  constructor(specs: readonly CameraSpec[]) {
    this.names = specs.map((s) => s.name);
    this.mounted = specs.map((spec) => {
      const camera = new THREE.PerspectiveCamera(spec.fov, spec.width / spec.height, 0.01, 5);
      const hand = spec.mount === "world" ? null : spec.mount === "left_hand" ? "left" : "right";
      return { spec, camera, rasterizer: new Rasterizer(spec.width, spec.height), hand, shift: null, turn: null };
    });
  }

  render(world: BimanualWorld): Record<string, CameraFrame> {
    if (this.sceneWorld !== world) {
      const look = world.params.appearance;
      this.scene = new BodyScene(world.specs, look.light);
      this.sceneWorld = world;
      this.poses = new Float32Array(world.bodies.length * 7);
      for (const m of this.mounted) {
        const offset = look.cameras[m.spec.name] ?? null;
        m.shift = offset && new THREE.Vector3(...offset.position);
        m.turn = offset && new THREE.Quaternion().setFromEuler(euler.set(...offset.rotation));
      }
    }
    const scene = this.scene!;
    world.bodyPoses(this.poses);
    scene.setPoses(this.poses);
    const frames: Record<string, CameraFrame> = {};
    for (const m of this.mounted) {
      this.place(m, world);
      const data = new Uint8Array(m.spec.width * m.spec.height * 3);
      m.rasterizer.render(scene.scene, m.camera, data);
      frames[m.spec.name] = { width: m.spec.width, height: m.spec.height, data };
    }
    return frames;
  }

  /**
   * Put a camera at its mount: position, look-at point and up vector are given in the mount frame; the episode's
   * offset shifts the first two alike, then turns the aimed camera about its own axes.
   */
  private place(m: Mounted, world: BimanualWorld): void {
    const { spec, camera } = m;
    if (m.hand === null) {
      handQuat.identity();
      handPos.set(0, 0, 0);
    } else {
      const hand = world.arms[m.hand].moving[7]!;
      handQuat.set(hand.quaternion.x, hand.quaternion.y, hand.quaternion.z, hand.quaternion.w);
      handPos.set(hand.position.x, hand.position.y, hand.position.z);
    }
    camera.position.set(...spec.position);
    target.set(...spec.look_at);
    if (m.shift) {
      camera.position.add(m.shift);
      target.add(m.shift);
    }
    camera.position.applyQuaternion(handQuat).add(handPos);
    target.applyQuaternion(handQuat).add(handPos);
    camera.up.copy(v.set(...spec.up).applyQuaternion(handQuat));
    camera.lookAt(target);
    if (m.turn) camera.quaternion.multiply(m.turn);
    camera.updateMatrixWorld();
  }
}
