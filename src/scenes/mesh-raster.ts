/**
 * Z-buffered triangle rasterizer for ground truth. It uses the splat renderer's conventions exactly
 * (src/core/camera.ts): OpenCV world-to-camera, pixel (i, j) sampled at its centre (i + 0.5, j + 0.5),
 * u = fx·x/z + cx, planar depth z, and triangles clipped at the near plane (0.2 m by default).
 * Coverage is inclusive on edges and ties in depth keep the earlier triangle, so the output is deterministic.
 */
import type { Camera } from "../core/camera.ts";

/** Depth and triangle id per pixel. */
export interface MeshRaster {
  width: number;
  height: number;
  /** [H·W] planar camera z in metres; 0 where no triangle covers the pixel. */
  depth: Float32Array;
  /** [H·W] triangle index, −1 where empty. */
  triangle: Int32Array;
}

/** The geometry the rasterizer needs: positions [V·3] and triangle indices [T·3]. */
export interface RasterMesh {
  positions: Float32Array;
  indices: Uint32Array;
}

/** Rasterize `mesh` seen from `camera`. `reuse` lends the output arrays of a previous call of the same size. */
export function rasterizeMesh(mesh: RasterMesh, camera: Camera, options: { near?: number; reuse?: MeshRaster } = {}): MeshRaster {
  const near = options.near ?? 0.2;
  const { width: W, height: H, fx, fy, cx, cy } = camera;
  const out =
    options.reuse && options.reuse.width === W && options.reuse.height === H
      ? options.reuse
      : { width: W, height: H, depth: new Float32Array(W * H), triangle: new Int32Array(W * H) };
  const zbuf = new Float64Array(W * H).fill(Infinity);
  out.triangle.fill(-1);
  const m = camera.viewMatrix, p = mesh.positions, idx = mesh.indices;
  const nv = p.length / 3;
  const cam = new Float64Array(nv * 3);
  for (let v = 0; v < nv; v++) {
    const x = p[v * 3], y = p[v * 3 + 1], z = p[v * 3 + 2];
    cam[v * 3] = m[0] * x + m[1] * y + m[2] * z + m[3];
    cam[v * 3 + 1] = m[4] * x + m[5] * y + m[6] * z + m[7];
    cam[v * 3 + 2] = m[8] * x + m[9] * y + m[10] * z + m[11];
  }
  // Clipped polygon (at most 4 vertices from a triangle and one plane) in camera space.
  const poly = new Float64Array(4 * 3);
  const tri = new Float64Array(3 * 3);
  const sx = new Float64Array(4), sy = new Float64Array(4), iz = new Float64Array(4);
  for (let t = 0; t < idx.length / 3; t++) {
    for (let k = 0; k < 3; k++) {
      const v = idx[t * 3 + k] * 3;
      tri[k * 3] = cam[v];
      tri[k * 3 + 1] = cam[v + 1];
      tri[k * 3 + 2] = cam[v + 2];
    }
    if (tri[2] < near && tri[5] < near && tri[8] < near) continue;
    let n = 0;
    for (let k = 0; k < 3; k++) {
      const a = k * 3, b = ((k + 1) % 3) * 3;
      const za = tri[a + 2], zb = tri[b + 2];
      if (za >= near) {
        poly[n * 3] = tri[a];
        poly[n * 3 + 1] = tri[a + 1];
        poly[n * 3 + 2] = za;
        n++;
      }
      if (za >= near !== zb >= near) {
        const s = (near - za) / (zb - za);
        poly[n * 3] = tri[a] + s * (tri[b] - tri[a]);
        poly[n * 3 + 1] = tri[a + 1] + s * (tri[b + 1] - tri[a + 1]);
        poly[n * 3 + 2] = near;
        n++;
      }
    }
    for (let k = 0; k < n; k++) {
      const z = poly[k * 3 + 2];
      sx[k] = (fx * poly[k * 3]) / z + cx;
      sy[k] = (fy * poly[k * 3 + 1]) / z + cy;
      iz[k] = 1 / z;
    }
    for (let k = 1; k + 1 < n; k++) fillTriangle(out, zbuf, t, sx[0], sy[0], iz[0], sx[k], sy[k], iz[k], sx[k + 1], sy[k + 1], iz[k + 1]);
  }
  for (let i = 0; i < W * H; i++) out.depth[i] = out.triangle[i] >= 0 ? zbuf[i] : 0;
  return out;
}

/** Screen-space triangle fill; 1/z is affine in screen space, so interpolating it gives exact planar depth. */
function fillTriangle(
  out: MeshRaster,
  zbuf: Float64Array,
  t: number,
  x0: number, y0: number, w0: number,
  x1: number, y1: number, w1: number,
  x2: number, y2: number, w2: number,
): void {
  const area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
  if (area === 0 || !Number.isFinite(area)) return;
  const W = out.width, H = out.height;
  // Pixel i is sampled at i + 0.5: covered columns are those with i + 0.5 inside [min, max].
  const i0 = Math.max(0, Math.ceil(Math.min(x0, x1, x2) - 0.5)), i1 = Math.min(W - 1, Math.floor(Math.max(x0, x1, x2) - 0.5));
  const j0 = Math.max(0, Math.ceil(Math.min(y0, y1, y2) - 0.5)), j1 = Math.min(H - 1, Math.floor(Math.max(y0, y1, y2) - 0.5));
  if (i0 > i1 || j0 > j1) return;
  const inv = 1 / area;
  for (let j = j0; j <= j1; j++) {
    const py = j + 0.5;
    for (let i = i0; i <= i1; i++) {
      const px = i + 0.5;
      const b0 = ((x1 - px) * (y2 - py) - (x2 - px) * (y1 - py)) * inv;
      const b1 = ((x2 - px) * (y0 - py) - (x0 - px) * (y2 - py)) * inv;
      const b2 = 1 - b0 - b1;
      if (b0 < 0 || b1 < 0 || b2 < 0) continue;
      const z = 1 / (b0 * w0 + b1 * w1 + b2 * w2);
      const o = j * W + i;
      if (z < zbuf[o]) {
        zbuf[o] = z;
        out.triangle[o] = t;
      }
    }
  }
}
