/**
 * Baked shadows: one shadow map per light, rendered with the ground-truth rasterizer from the light looking down
 * (the lights hang under the ceiling, so a wide cone covers everything they reach), looked up with 3×3
 * percentage-closer filtering for soft edges. The mesh raster and the Gaussians query the same maps, so their
 * shading agrees.
 */
import { focalFromFov, lookAtCamera, type Camera } from "../core/camera.ts";
import type { Lighting } from "./lighting.ts";
import type { SceneMesh } from "./mesh.ts";
import { rasterizeMesh } from "./mesh-raster.ts";

/** A light's depth map. */
export interface ShadowMap {
  camera: Camera;
  /** [S·S] planar depth from the light, Infinity where nothing was drawn. */
  depth: Float32Array;
}

/** Field of view of the shadow cone; points outside it count as lit (they are near the ceiling, far off-axis). */
const SHADOW_FOV = (150 * Math.PI) / 180;
const SHADOW_SIZE = 384;

/** Shadow maps of every light of `lighting`. */
export function buildShadowMaps(mesh: SceneMesh, lighting: Lighting): ShadowMap[] {
  return lighting.lights.map((light) => {
    const p = light.position;
    const camera = lookAtCamera(p, [p[0], p[1] - 1, p[2]], [0, 0, 1], {
      width: SHADOW_SIZE,
      height: SHADOW_SIZE,
      fx: focalFromFov(SHADOW_FOV, SHADOW_SIZE),
    });
    const r = rasterizeMesh(mesh, camera, { near: 0.05 });
    const depth = new Float32Array(r.depth.length);
    for (let i = 0; i < depth.length; i++) depth[i] = r.triangle[i] >= 0 ? r.depth[i] : Infinity;
    return { camera, depth };
  });
}

/**
 * Fraction of each light that reaches world point p (0 = full shadow), written to `out` (one entry per map).
 * `n` is the surface normal: the point is pushed off the surface along it before the lookup, against acne.
 */
export function lightVisibility(maps: readonly ShadowMap[], p: readonly number[], n: readonly number[], out: Float64Array): Float64Array {
  for (let k = 0; k < maps.length; k++) {
    const { camera: c, depth } = maps[k];
    const m = c.viewMatrix;
    const x = p[0] + 0.01 * n[0], y = p[1] + 0.01 * n[1], z = p[2] + 0.01 * n[2];
    const cz = m[8] * x + m[9] * y + m[10] * z + m[11];
    if (cz <= 0.05) {
      out[k] = 1;
      continue;
    }
    const u = (c.fx * (m[0] * x + m[1] * y + m[2] * z + m[3])) / cz + c.cx - 0.5;
    const v = (c.fy * (m[4] * x + m[5] * y + m[6] * z + m[7])) / cz + c.cy - 0.5;
    const i0 = Math.round(u), j0 = Math.round(v);
    const S = c.width;
    if (i0 < 1 || j0 < 1 || i0 >= S - 1 || j0 >= S - 1) {
      out[k] = 1;
      continue;
    }
    // A texel covers more surface far from the light and at grazing angles; the bias grows with depth.
    const bias = 0.03 + 0.03 * cz;
    let lit = 0;
    for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) if (cz <= depth[(j0 + dj) * S + i0 + di] + bias) lit++;
    out[k] = lit / 9;
  }
  return out;
}
