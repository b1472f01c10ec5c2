// Headless CPU rasterizer over a three.js scene graph: z-buffered, flat-shaded (Lambert) triangles into RGB uint8.
// Over 400 lines because its inner loops (transform, clip, raster) are written out by hand for speed, with the
// measurements that chose each.
//
// Cost model (predicted before profiling, for the ~25-mesh bench scene, ≈1.6k triangles, ≈2.5k vertices):
//   per frame  = vertex transform (≈2.5k × 28 multiply-adds ≈ 30 µs)
//              + triangle setup, culling, shading (≈1.6k × ~60 ns ≈ 0.1 ms)
//              + pixel fill (bounding-box scan, ≈2–3× overdraw: 96² → ≈25k pixel tests ≈ 0.1–0.2 ms)
//   ⇒ ≈ 0.3–0.6 ms at 96×96 on one core; fill grows with pixels, so 224×224 (5.4× the pixels) ≈ 1–2 ms.
// Measured (`npx tsx bench/render.ts`, 26 meshes, 1238 triangles, one core of the shared 2-core dev VM): median
// 0.26–0.40 ms at 96², 0.45–0.57 ms at 128², 1.1–1.4 ms at 224² (range over runs). CPU profile: pixel fill is 44% of
// the time at 96² and 78% at 224²; the rest is triangle setup/culling (12%), vertex transform (10%), shading (5%).
// Removed on the way: boxed-double arguments to shadeFace (the only per-frame allocation, ≈140 GCs per 20k frames)
// and a per-pixel clear loop (11% at 96², now native copyWithin). Next step if ever needed: per-row span setup in fill.
import * as THREE from "three";
import { DuetError } from "../../core/index.ts";
import { byteLut, channelToByte, LUT_SIZE } from "./color-space.ts";

/** Options for a {@link Rasterizer}; every field is optional. */
export interface RasterizerOptions {
  /**
   * Encode output bytes as sRGB, like three's WebGLRenderer (default `outputColorSpace = SRGBColorSpace`), so the
   * browser viewer and the policy's camera agree on colours. `false` writes linear values. Default: true.
   */
  srgb?: boolean;
}

// Module-level scratch objects. NON-REENTRANT: one render() at a time per thread (worker threads each have their own).
const _viewProj = new THREE.Matrix4();
const _frustum = new THREE.Frustum();
const _camPos = new THREE.Vector3();
const _lightPos = new THREE.Vector3();
const _targetPos = new THREE.Vector3();
/** Near-plane-clipped polygon: ≤ 4 vertices × (x, y, z, w) in clip space. */
const _poly = new Float64Array(16);
/** Its vertices in screen space: ≤ 4 × (x, y, z_ndc). */
const _screen = new Float64Array(12);
/** Unit world normal of the face being shaded (x, y, z). */
const _normal = new Float64Array(3);
/** Material being drawn, linear: albedo r, g, b, emissive·intensity r, g, b. */
const _material = new Float64Array(6);
/** Shaded face colour as bytes (r, g, b), written by shadeFace. */
const _rgb = new Uint8Array(3);

// Outcodes of a clip-space vertex against the six frustum planes.
const OUT_LEFT = 1;
const OUT_RIGHT = 2;
const OUT_BOTTOM = 4;
const OUT_TOP = 8;
const OUT_NEAR = 16;
const OUT_FAR = 32;

const INV_PI = 1 / Math.PI;
/** Floats per transformed vertex: world x, y, z, then clip x, y, z, w. */
const VSTRIDE = 7;
/** Floats per directional light: direction toward the light (x, y, z, unit), colour·intensity (r, g, b). */
const DSTRIDE = 6;
/** Floats per hemisphere light: up direction (x, y, z, unit), sky r, g, b, ground r, g, b (colour·intensity). */
const HSTRIDE = 9;

// How a material is drawn, resolved once per mesh (or per group for multi-material meshes).
/** Not drawn (ShadowMaterial: it only receives shadows, which this renderer does not compute). */
const SHADE_NONE = 0;
/** Unlit colour (MeshBasicMaterial). */
const SHADE_UNLIT = 1;
/** Lambert: albedo·irradiance/π + emissive (MeshLambertMaterial; other lit materials are approximated so). */
const SHADE_LAMBERT = 2;

/**
 * Renders visible `THREE.Mesh` objects of a scene, as seen by a perspective camera, into an RGB uint8 image
 * (`out: H,W,3` row-major, row 0 = top of the image).
 *
 * Supported: BufferGeometry, indexed or not (interleaved positions too), geometry groups with material arrays,
 * `drawRange`, `layers`, `frustumCulled`, FrontSide/BackSide/DoubleSide (back faces culled for one-sided materials,
 * mirrored world matrices handled), MeshBasicMaterial (unlit colour) and MeshLambertMaterial (colour + emissive);
 * other materials with a `color` are shaded as Lambert. Lights: DirectionalLight, AmbientLight, HemisphereLight,
 * with three's conventions (irradiance·albedo/π, colour·intensity). Background: `scene.background` when it is a
 * THREE.Color, else black.
 * Not supported: textures, vertex colours, transparency (all opaque), point/spot lights (ignored), shadows,
 * wireframe (drawn solid), smooth normals (one flat normal per face). InstancedMesh/SkinnedMesh are rejected.
 *
 * Depth: NDC z is affine in screen space, so interpolating it linearly per pixel is exact (perspective-correct).
 * Triangles crossing the near plane are clipped in clip space (Sutherland–Hodgman on z + w ≥ 0); beyond the far plane
 * pixels are rejected by the depth test (the depth buffer starts at 1). Pixel centres are at (x + ½, y + ½); a pixel is
 * covered when it is inside or on every edge, so shared edges have no cracks (may be drawn twice; the depth test
 * decides).
 *
 * One instance per image size; render() allocates nothing after the first frame of a scene (buffers grow on first
 * use of a bigger geometry or more lights). Not reentrant (module-level scratch): one render at a time per thread.
 */
export class Rasterizer {
  readonly width: number;
  readonly height: number;
  /** `H,W` NDC depth of the nearest surface so far; 1 = far plane. */
  private readonly depth: Float32Array;
  /** Linear intensity → output byte. */
  private readonly lut: Uint8Array;
  private readonly srgb: boolean;
  /** Transformed vertices of the mesh being drawn: `V,7` (world xyz, clip xyzw); grown to the largest geometry. */
  private verts = new Float64Array(0);
  /** Outcodes of those vertices: `V`. */
  private codes = new Uint8Array(0);
  /** Meshes collected by the scene traversal of the current frame (reused; references cleared after each render). */
  private readonly meshes: THREE.Mesh[] = [];
  private meshCount = 0;
  /** Directional lights of the current frame: `Nd,6`. */
  private dirLights = new Float64Array(DSTRIDE * 4);
  private dirCount = 0;
  /** Hemisphere lights of the current frame: `Nh,9`. */
  private hemiLights = new Float64Array(HSTRIDE * 2);
  private hemiCount = 0;
  private ambR = 0;
  private ambG = 0;
  private ambB = 0;
  /** The camera of the current frame (for layer tests during traversal). */
  private camera: THREE.Camera | null = null;
  private readonly visit = (object: THREE.Object3D): void => this.collect(object);

  constructor(width: number, height: number, options: RasterizerOptions = {}) {
    for (const [name, v] of [
      ["width", width],
      ["height", height],
    ] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 8192) {
        throw new DuetError(`Rasterizer: ${name} must be an integer in [1, 8192], received ${String(v)}`);
      }
    }
    this.width = width;
    this.height = height;
    this.depth = new Float32Array(width * height);
    this.srgb = options.srgb ?? true;
    this.lut = byteLut(this.srgb);
  }

  /**
   * Render `scene` as seen by `camera` into `out` (`H,W,3` RGB, row 0 = top). Calls `scene.updateMatrixWorld()` once,
   * and `camera.updateMatrixWorld()` when the camera has no parent (as WebGLRenderer does). The camera's projection
   * matrix is used as is: call `camera.updateProjectionMatrix()` after changing fov/aspect/near/far.
   */
  render(scene: THREE.Scene, camera: THREE.PerspectiveCamera, out: Uint8Array): void {
    const W = this.width;
    const H = this.height;
    if (out.length !== W * H * 3) {
      throw new DuetError(
        `Rasterizer.render: out must have H·W·3 = ${W * H * 3} bytes (${H}×${W} RGB), got ${out.length}`,
      );
    }
    scene.updateMatrixWorld();
    if (camera.parent === null) camera.updateMatrixWorld();
    _viewProj.multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse);
    _frustum.setFromProjectionMatrix(_viewProj);
    _camPos.setFromMatrixPosition(camera.matrixWorld);

    this.clear(scene, out);

    this.meshCount = 0;
    this.dirCount = 0;
    this.hemiCount = 0;
    this.ambR = this.ambG = this.ambB = 0;
    this.camera = camera;
    scene.traverseVisible(this.visit);
    this.camera = null;

    for (let i = 0; i < this.meshCount; i++) {
      const mesh = this.meshes[i] as THREE.Mesh;
      this.meshes[i] = undefined as unknown as THREE.Mesh; // drop the reference; capacity stays
      this.drawMesh(mesh, out);
    }
  }

  /** Fill the colour buffer with the background and the depth buffer with the far plane. */
  private clear(scene: THREE.Scene, out: Uint8Array): void {
    let r = 0;
    let g = 0;
    let b = 0;
    const bg = scene.background;
    if (bg instanceof THREE.Color) {
      r = channelToByte(bg.r, this.srgb);
      g = channelToByte(bg.g, this.srgb);
      b = channelToByte(bg.b, this.srgb);
    }
    // One pixel, then doubling native copies: ≈10× faster than a per-pixel loop.
    out[0] = r;
    out[1] = g;
    out[2] = b;
    const n = out.length;
    for (let filled = 3; filled < n; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, n - filled));
    this.depth.fill(1);
  }

  /** Traversal callback: collect lights and drawable meshes of the frame. */
  private collect(object: THREE.Object3D): void {
    if (object instanceof THREE.Mesh) {
      if (object instanceof THREE.InstancedMesh || object instanceof THREE.SkinnedMesh) {
        throw new DuetError(
          `Rasterizer: mesh "${object.name || object.uuid}" is a ` +
            `${object instanceof THREE.InstancedMesh ? "THREE.InstancedMesh" : "THREE.SkinnedMesh"}, which the CPU rasterizer does not ` +
            `draw; use plain THREE.Mesh objects`,
        );
      }
      const camera = this.camera as THREE.Camera;
      if (!object.layers.test(camera.layers)) return;
      if (object.frustumCulled && !object.intersectsFrustum(_frustum)) return;
      this.meshes[this.meshCount++] = object;
    } else if (object instanceof THREE.DirectionalLight) {
      if (object.target.parent === null) object.target.updateMatrixWorld();
      _lightPos.setFromMatrixPosition(object.matrixWorld);
      _targetPos.setFromMatrixPosition(object.target.matrixWorld);
      _lightPos.sub(_targetPos);
      const len = _lightPos.length();
      if (len === 0) return; // no direction: three's shader would produce NaN; contribute nothing
      if (this.dirLights.length < (this.dirCount + 1) * DSTRIDE) this.dirLights = grow(this.dirLights, DSTRIDE);
      const o = this.dirCount++ * DSTRIDE;
      const d = this.dirLights;
      const k = object.intensity;
      d[o] = _lightPos.x / len;
      d[o + 1] = _lightPos.y / len;
      d[o + 2] = _lightPos.z / len;
      d[o + 3] = object.color.r * k;
      d[o + 4] = object.color.g * k;
      d[o + 5] = object.color.b * k;
    } else if (object instanceof THREE.AmbientLight) {
      const k = object.intensity;
      this.ambR += object.color.r * k;
      this.ambG += object.color.g * k;
      this.ambB += object.color.b * k;
    } else if (object instanceof THREE.HemisphereLight) {
      _lightPos.setFromMatrixPosition(object.matrixWorld);
      const len = _lightPos.length();
      if (len === 0) return;
      if (this.hemiLights.length < (this.hemiCount + 1) * HSTRIDE) this.hemiLights = grow(this.hemiLights, HSTRIDE);
      const o = this.hemiCount++ * HSTRIDE;
      const h = this.hemiLights;
      const k = object.intensity;
      h[o] = _lightPos.x / len;
      h[o + 1] = _lightPos.y / len;
      h[o + 2] = _lightPos.z / len;
      h[o + 3] = object.color.r * k;
      h[o + 4] = object.color.g * k;
      h[o + 5] = object.color.b * k;
      h[o + 6] = object.groundColor.r * k;
      h[o + 7] = object.groundColor.g * k;
      h[o + 8] = object.groundColor.b * k;
    }
  }

  /** Transform a mesh's vertices, then draw each of its index ranges with its material. */
  private drawMesh(mesh: THREE.Mesh, out: Uint8Array): void {
    const geometry = mesh.geometry;
    const position = geometry.getAttribute("position") as THREE.BufferAttribute | THREE.InterleavedBufferAttribute;
    if (position === undefined) return;
    const vertexCount = position.count;
    if (vertexCount === 0) return;
    this.transformVertices(mesh, position);

    const index = geometry.index;
    const total = index !== null ? index.count : vertexCount;
    const drawStart = Math.max(0, geometry.drawRange.start);
    const drawEnd = Math.min(total, drawStart + geometry.drawRange.count);
    // A mirrored world matrix flips the winding of every triangle.
    const mirrored = mesh.matrixWorld.determinant() < 0;
    const indices = index !== null ? index.array : null;
    const material = mesh.material;
    if (Array.isArray(material)) {
      const groups = geometry.groups;
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g] as THREE.GeometryGroup;
        const mat = material[group.materialIndex ?? 0];
        if (mat === undefined) continue;
        const start = Math.max(drawStart, group.start);
        const end = Math.min(drawEnd, group.start + group.count);
        this.drawRange(indices, start, end, mat, mirrored, out);
      }
    } else {
      this.drawRange(indices, drawStart, drawEnd, material, mirrored, out);
    }
  }

  /** World and clip coordinates plus frustum outcodes of every vertex, into `this.verts` / `this.codes`. */
  private transformVertices(
    mesh: THREE.Mesh,
    position: THREE.BufferAttribute | THREE.InterleavedBufferAttribute,
  ): void {
    const n = position.count;
    if (this.codes.length < n) {
      this.verts = new Float64Array(n * VSTRIDE);
      this.codes = new Uint8Array(n);
    }
    let src: ArrayLike<number>;
    let stride: number;
    let offset: number;
    if (position instanceof THREE.InterleavedBufferAttribute) {
      src = position.data.array as ArrayLike<number>;
      stride = position.data.stride;
      offset = position.offset;
    } else {
      src = position.array as ArrayLike<number>;
      stride = position.itemSize;
      offset = 0;
    }
    const m = mesh.matrixWorld.elements; // column-major 4×4, model → world
    const m0 = m[0] as number;
    const m1 = m[1] as number;
    const m2 = m[2] as number;
    const m4 = m[4] as number;
    const m5 = m[5] as number;
    const m6 = m[6] as number;
    const m8 = m[8] as number;
    const m9 = m[9] as number;
    const m10 = m[10] as number;
    const m12 = m[12] as number;
    const m13 = m[13] as number;
    const m14 = m[14] as number;
    const p = _viewProj.elements; // column-major 4×4, world → clip
    const p0 = p[0] as number;
    const p1 = p[1] as number;
    const p2 = p[2] as number;
    const p3 = p[3] as number;
    const p4 = p[4] as number;
    const p5 = p[5] as number;
    const p6 = p[6] as number;
    const p7 = p[7] as number;
    const p8 = p[8] as number;
    const p9 = p[9] as number;
    const p10 = p[10] as number;
    const p11 = p[11] as number;
    const p12 = p[12] as number;
    const p13 = p[13] as number;
    const p14 = p[14] as number;
    const p15 = p[15] as number;
    const verts = this.verts;
    const codes = this.codes;
    for (let i = 0, s = offset, o = 0; i < n; i++, s += stride, o += VSTRIDE) {
      const x = src[s] as number;
      const y = src[s + 1] as number;
      const z = src[s + 2] as number;
      const wx = m0 * x + m4 * y + m8 * z + m12;
      const wy = m1 * x + m5 * y + m9 * z + m13;
      const wz = m2 * x + m6 * y + m10 * z + m14;
      const cx = p0 * wx + p4 * wy + p8 * wz + p12;
      const cy = p1 * wx + p5 * wy + p9 * wz + p13;
      const cz = p2 * wx + p6 * wy + p10 * wz + p14;
      const cw = p3 * wx + p7 * wy + p11 * wz + p15;
      verts[o] = wx;
      verts[o + 1] = wy;
      verts[o + 2] = wz;
      verts[o + 3] = cx;
      verts[o + 4] = cy;
      verts[o + 5] = cz;
      verts[o + 6] = cw;
      let c = 0;
      if (cx < -cw) c |= OUT_LEFT;
      if (cx > cw) c |= OUT_RIGHT;
      if (cy < -cw) c |= OUT_BOTTOM;
      if (cy > cw) c |= OUT_TOP;
      if (cz < -cw) c |= OUT_NEAR;
      if (cz > cw) c |= OUT_FAR;
      codes[i] = c;
    }
  }

  /** Draw triangles `start..end` (in index order, or vertex order when `indices` is null) with one material. */
  private drawRange(
    indices: ArrayLike<number> | null,
    start: number,
    end: number,
    material: THREE.Material,
    mirrored: boolean,
    out: Uint8Array,
  ): void {
    if (!material.visible) return;
    const shading = shadingOf(material);
    if (shading === SHADE_NONE) return;
    const color = (material as THREE.MeshLambertMaterial).color as THREE.Color | undefined;
    const albR = color?.r ?? 1;
    const albG = color?.g ?? 1;
    const albB = color?.b ?? 1;
    let emR = 0;
    let emG = 0;
    let emB = 0;
    const emissive = (material as THREE.MeshLambertMaterial).emissive as THREE.Color | undefined;
    if (shading === SHADE_LAMBERT && emissive !== undefined) {
      const k = (material as THREE.MeshLambertMaterial).emissiveIntensity ?? 1;
      emR = emissive.r * k;
      emG = emissive.g * k;
      emB = emissive.b * k;
    }
    _material[0] = albR;
    _material[1] = albG;
    _material[2] = albB;
    _material[3] = emR;
    _material[4] = emG;
    _material[5] = emB;
    // Which faces to keep: front faces are counter-clockwise seen from the camera (after mirroring).
    const side = material.side;
    const keepFront = side !== THREE.BackSide;
    const keepBack = side !== THREE.FrontSide;
    const unlitR = this.lut[quantise(albR)] as number;
    const unlitG = this.lut[quantise(albG)] as number;
    const unlitB = this.lut[quantise(albB)] as number;

    const verts = this.verts;
    const codes = this.codes;
    const cx = _camPos.x;
    const cy = _camPos.y;
    const cz = _camPos.z;
    for (let t = start; t + 2 < end; t += 3) {
      const ia = indices !== null ? (indices[t] as number) : t;
      const ib = indices !== null ? (indices[t + 1] as number) : t + 1;
      const ic = indices !== null ? (indices[t + 2] as number) : t + 2;
      const ca = codes[ia] as number;
      const cb = codes[ib] as number;
      const cc = codes[ic] as number;
      if ((ca & cb & cc) !== 0) continue; // wholly outside one frustum plane
      const a = ia * VSTRIDE;
      const b = ib * VSTRIDE;
      const c = ic * VSTRIDE;
      // Face normal in world space (unnormalised), from the triangle's winding.
      const ax = verts[a] as number;
      const ay = verts[a + 1] as number;
      const az = verts[a + 2] as number;
      const e1x = (verts[b] as number) - ax;
      const e1y = (verts[b + 1] as number) - ay;
      const e1z = (verts[b + 2] as number) - az;
      const e2x = (verts[c] as number) - ax;
      const e2y = (verts[c + 1] as number) - ay;
      const e2z = (verts[c + 2] as number) - az;
      let nx = e1y * e2z - e1z * e2y;
      let ny = e1z * e2x - e1x * e2z;
      let nz = e1x * e2y - e1y * e2x;
      if (mirrored) {
        nx = -nx;
        ny = -ny;
        nz = -nz;
      }
      // Front-facing when the normal points toward the camera (exact for a perspective camera).
      const facing = nx * (cx - ax) + ny * (cy - ay) + nz * (cz - az);
      if (facing > 0) {
        if (!keepFront) continue;
      } else if (facing < 0) {
        if (!keepBack) continue;
        // DoubleSide shades the back with the flipped normal; BackSide's shading normal is the flipped one too.
        nx = -nx;
        ny = -ny;
        nz = -nz;
      } else {
        continue; // edge-on or degenerate
      }

      if (shading === SHADE_UNLIT) {
        _rgb[0] = unlitR;
        _rgb[1] = unlitG;
        _rgb[2] = unlitB;
      } else {
        const len = Math.sqrt(nx * nx + ny * ny + nz * nz);
        _normal[0] = nx / len;
        _normal[1] = ny / len;
        _normal[2] = nz / len;
        this.shadeFace();
      }

      if (((ca | cb | cc) & OUT_NEAR) === 0) {
        projectTo(_screen, 0, verts, a, this.width, this.height);
        projectTo(_screen, 3, verts, b, this.width, this.height);
        projectTo(_screen, 6, verts, c, this.width, this.height);
        this.fill(0, 3, 6, out);
      } else {
        this.clipAndFill(a, b, c, out);
      }
    }
  }

  /**
   * Lambert colour of a face into `_rgb` (bytes), from its unit world normal `_normal` and the material's `_material`.
   * three's convention: (emissive + E·albedo/π). Arguments travel in scratch arrays: doubles passed as arguments to a
   * call V8 does not inline are boxed, i.e. allocated.
   */
  private shadeFace(): void {
    const nx = _normal[0] as number;
    const ny = _normal[1] as number;
    const nz = _normal[2] as number;
    let r = this.ambR;
    let g = this.ambG;
    let b = this.ambB;
    const d = this.dirLights;
    for (let i = 0, o = 0; i < this.dirCount; i++, o += DSTRIDE) {
      const k = nx * (d[o] as number) + ny * (d[o + 1] as number) + nz * (d[o + 2] as number);
      if (k > 0) {
        r += k * (d[o + 3] as number);
        g += k * (d[o + 4] as number);
        b += k * (d[o + 5] as number);
      }
    }
    const h = this.hemiLights;
    for (let i = 0, o = 0; i < this.hemiCount; i++, o += HSTRIDE) {
      const w = 0.5 * (nx * (h[o] as number) + ny * (h[o + 1] as number) + nz * (h[o + 2] as number)) + 0.5;
      r += (h[o + 6] as number) + w * ((h[o + 3] as number) - (h[o + 6] as number));
      g += (h[o + 7] as number) + w * ((h[o + 4] as number) - (h[o + 7] as number));
      b += (h[o + 8] as number) + w * ((h[o + 5] as number) - (h[o + 8] as number));
    }
    const m = _material;
    const lut = this.lut;
    _rgb[0] = lut[quantise((m[3] as number) + r * (m[0] as number) * INV_PI)] as number;
    _rgb[1] = lut[quantise((m[4] as number) + g * (m[1] as number) * INV_PI)] as number;
    _rgb[2] = lut[quantise((m[5] as number) + b * (m[2] as number) * INV_PI)] as number;
  }

  /** Clip triangle (a, b, c) (offsets into `verts`) against the near plane z + w ≥ 0, then fill the 0–2 triangles. */
  private clipAndFill(a: number, b: number, c: number, out: Uint8Array): void {
    const verts = this.verts;
    let n = 0;
    for (let k = 0; k < 3; k++) {
      const i = k === 0 ? a : k === 1 ? b : c;
      const j = k === 0 ? b : k === 1 ? c : a;
      const di = (verts[i + 5] as number) + (verts[i + 6] as number);
      const dj = (verts[j + 5] as number) + (verts[j + 6] as number);
      if (di >= 0) {
        _poly[n * 4] = verts[i + 3] as number;
        _poly[n * 4 + 1] = verts[i + 4] as number;
        _poly[n * 4 + 2] = verts[i + 5] as number;
        _poly[n * 4 + 3] = verts[i + 6] as number;
        n++;
      }
      if (di >= 0 !== dj >= 0) {
        const t = di / (di - dj);
        for (let q = 0; q < 4; q++) {
          const vi = verts[i + 3 + q] as number;
          _poly[n * 4 + q] = vi + t * ((verts[j + 3 + q] as number) - vi);
        }
        n++;
      }
    }
    if (n < 3) return;
    const W = this.width;
    const H = this.height;
    for (let k = 0; k < n; k++) {
      const w = _poly[k * 4 + 3] as number;
      if (!(w > 0)) return; // cannot happen for a perspective projection after near clipping; never divide by ≤ 0
      const iw = 1 / w;
      _screen[k * 3] = ((_poly[k * 4] as number) * iw + 1) * 0.5 * W;
      _screen[k * 3 + 1] = (1 - (_poly[k * 4 + 1] as number) * iw) * 0.5 * H;
      _screen[k * 3 + 2] = (_poly[k * 4 + 2] as number) * iw;
    }
    this.fill(0, 3, 6, out);
    if (n === 4) this.fill(0, 6, 9, out);
  }

  /**
   * Scan-convert the screen-space triangle whose vertices are at offsets p, q, r of `_screen` (x, y, z_ndc) with
   * colour `_rgb`, depth-tested against and writing to the depth buffer.
   */
  private fill(p: number, q: number, r: number, out: Uint8Array): void {
    const x0 = _screen[p] as number;
    const y0 = _screen[p + 1] as number;
    const z0 = _screen[p + 2] as number;
    let x1 = _screen[q] as number;
    let y1 = _screen[q + 1] as number;
    let z1 = _screen[q + 2] as number;
    let x2 = _screen[r] as number;
    let y2 = _screen[r + 1] as number;
    let z2 = _screen[r + 2] as number;
    let area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0);
    if (!(area !== 0 && Number.isFinite(area))) return;
    if (area < 0) {
      // Make the edge functions positive inside (culling was decided in world space).
      let s = x1;
      x1 = x2;
      x2 = s;
      s = y1;
      y1 = y2;
      y2 = s;
      s = z1;
      z1 = z2;
      z2 = s;
      area = -area;
    }
    const W = this.width;
    const H = this.height;
    // Pixel centres px + ½ inside [min, max] → px ∈ [ceil(min − ½), floor(max − ½)], clamped to the image.
    const minX = Math.max(0, Math.ceil(Math.min(x0, x1, x2) - 0.5));
    const maxX = Math.min(W - 1, Math.floor(Math.max(x0, x1, x2) - 0.5));
    const minY = Math.max(0, Math.ceil(Math.min(y0, y1, y2) - 0.5));
    const maxY = Math.min(H - 1, Math.floor(Math.max(y0, y1, y2) - 0.5));
    if (minX > maxX || minY > maxY) return;
    // Edge functions e_k(x, y) = A_k·x + B_k·y + C_k, positive inside; e0 is opposite vertex 0, etc.
    const a0 = y1 - y2;
    const b0 = x2 - x1;
    const a1 = y2 - y0;
    const b1 = x0 - x2;
    const a2 = y0 - y1;
    const b2 = x1 - x0;
    const sx = minX + 0.5;
    const sy = minY + 0.5;
    let r0 = a0 * (sx - x1) + b0 * (sy - y1);
    let r1 = a1 * (sx - x2) + b1 * (sy - y2);
    let r2 = a2 * (sx - x0) + b2 * (sy - y0);
    // Depth plane: z = (e0·z0 + e1·z1 + e2·z2) / area.
    const inv = 1 / area;
    const zdx = (a0 * z0 + a1 * z1 + a2 * z2) * inv;
    const zdy = (b0 * z0 + b1 * z1 + b2 * z2) * inv;
    let rz = (r0 * z0 + r1 * z1 + r2 * z2) * inv;
    const cr = _rgb[0] as number;
    const cg = _rgb[1] as number;
    const cb = _rgb[2] as number;
    const depth = this.depth;
    for (let y = minY; y <= maxY; y++) {
      let e0 = r0;
      let e1 = r1;
      let e2 = r2;
      let z = rz;
      let i = y * W + minX;
      let inside = false;
      for (let x = minX; x <= maxX; x++, i++) {
        if (e0 >= 0 && e1 >= 0 && e2 >= 0) {
          inside = true;
          if (z < (depth[i] as number)) {
            depth[i] = z;
            const o = i * 3;
            out[o] = cr;
            out[o + 1] = cg;
            out[o + 2] = cb;
          }
        } else if (inside) {
          break; // convex: once out again, the rest of the row is outside
        }
        e0 += a0;
        e1 += a1;
        e2 += a2;
        z += zdx;
      }
      r0 += b0;
      r1 += b1;
      r2 += b2;
      rz += zdy;
    }
  }
}

/** Screen position (x, y in pixels, row 0 = top; NDC z) of the clip-space vertex at `verts[v + 3..v + 6]`. */
function projectTo(dst: Float64Array, o: number, verts: Float64Array, v: number, W: number, H: number): void {
  const iw = 1 / (verts[v + 6] as number);
  dst[o] = ((verts[v + 3] as number) * iw + 1) * 0.5 * W;
  dst[o + 1] = (1 - (verts[v + 4] as number) * iw) * 0.5 * H;
  dst[o + 2] = (verts[v + 5] as number) * iw;
}

/** Linear intensity → LUT index (clamped to [0, 1]). */
function quantise(v: number): number {
  return v <= 0 ? 0 : v >= 1 ? LUT_SIZE - 1 : (v * (LUT_SIZE - 1) + 0.5) | 0;
}

function shadingOf(material: THREE.Material): number {
  if (material instanceof THREE.MeshBasicMaterial) return SHADE_UNLIT;
  if (material instanceof THREE.ShadowMaterial) return SHADE_NONE;
  return SHADE_LAMBERT;
}

/** A copy of `a` with room for twice as many records of `stride` floats (growth happens only when lights are added). */
function grow(a: Float64Array<ArrayBuffer>, stride: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(Math.max(a.length * 2, stride * 4));
  b.set(a);
  return b;
}
