/**
 * Ground-truth frames from the mesh raster: RGB shaded per pixel with the scene's materials and baked lighting
 * (the same functions the Gaussians' colours come from), depth, class and instance.
 */
import { cameraCenter, type Camera } from "../core/camera.ts";
import { IGNORE_INDEX } from "./classes.ts";
import type { Lighting } from "./lighting.ts";
import { shadePoint } from "./lighting.ts";
import { albedoAt, type Rgb } from "./materials.ts";
import type { SceneMesh } from "./mesh.ts";
import { rasterizeMesh, type MeshRaster } from "./mesh-raster.ts";
import { lightVisibility } from "./shadows.ts";

/** One ground-truth frame. */
export interface GroundTruthFrame {
  width: number;
  height: number;
  /** [H·W·3] linear RGB in [0, 1]. */
  rgb: Float32Array;
  /** [H·W] planar depth in metres, 0 where empty. */
  depth: Float32Array;
  /** [H·W] class id, 65535 where empty. */
  semantic: Uint16Array;
  /** [H·W] instance id, 0 where empty. */
  instance: Uint16Array;
}

/** Rasterize and shade one frame. `reuse` is a raster buffer of the same size to overwrite. */
export function renderGroundTruth(mesh: SceneMesh, lighting: Lighting, camera: Camera, reuse?: MeshRaster): GroundTruthFrame {
  const raster = rasterizeMesh(mesh, camera, { reuse });
  const { width: W, height: H } = camera;
  const rgb = new Float32Array(W * H * 3);
  const semantic = new Uint16Array(W * H).fill(IGNORE_INDEX);
  const instance = new Uint16Array(W * H);
  const m = camera.viewMatrix;
  const eye = cameraCenter(camera);
  const albedo: Rgb = [0, 0, 0], colour: Rgb = [0, 0, 0];
  const p = [0, 0, 0], n = [0, 0, 0], v = [0, 0, 0];
  const vis = new Float64Array(lighting.lights.length).fill(1);
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const o = j * W + i;
      const t = raster.triangle[o];
      if (t < 0) continue;
      const z = raster.depth[o];
      // Back-project the pixel centre: world = Rᵀ(p_cam − t).
      const xc = ((i + 0.5 - camera.cx) / camera.fx) * z - m[3];
      const yc = ((j + 0.5 - camera.cy) / camera.fy) * z - m[7];
      const zc = z - m[11];
      p[0] = m[0] * xc + m[4] * yc + m[8] * zc;
      p[1] = m[1] * xc + m[5] * yc + m[9] * zc;
      p[2] = m[2] * xc + m[6] * yc + m[10] * zc;
      n[0] = mesh.normals[t * 3];
      n[1] = mesh.normals[t * 3 + 1];
      n[2] = mesh.normals[t * 3 + 2];
      const vx = eye[0] - p[0], vy = eye[1] - p[1], vz = eye[2] - p[2];
      const vn = Math.hypot(vx, vy, vz) || 1;
      v[0] = vx / vn;
      v[1] = vy / vn;
      v[2] = vz / vn;
      const mat = mesh.materials[mesh.triMaterial[t]];
      albedoAt(mat, p[0], p[1], p[2], n[0], n[1], n[2], albedo);
      if (lighting.shadows) lightVisibility(lighting.shadows, p, n, vis);
      shadePoint(lighting, albedo, mat.ks, mat.shininess, p, n, v, colour, vis);
      rgb[o * 3] = colour[0];
      rgb[o * 3 + 1] = colour[1];
      rgb[o * 3 + 2] = colour[2];
      semantic[o] = mesh.triClass[t];
      instance[o] = mesh.triInstance[t];
    }
  }
  return { width: W, height: H, rgb, depth: raster.depth.slice(), semantic, instance };
}

