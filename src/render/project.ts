/**
 * Stage 1 of the rasterizer: project each Gaussian to a 2D conic, a colour and a tile rectangle, with the
 * reference 3DGS math (FORMATS.md §2): near-plane cull, the 1.3× frustum clamp of the Jacobian, the +0.3 pixel
 * dilation, a 3σ radius from the larger eigenvalue, and 16×16 tiles. Pure array code, run on ranges so the work
 * splits across threads.
 */
import { shBasis, shColor } from "../splat/sh.ts";
import type { Intrinsics } from "../core/camera.ts";

export const TILE = 16;
/** Floats per projected Gaussian in `records`. */
export const REC = 13;
/** Offsets inside a record. */
export const R_X = 0,
  R_Y = 1,
  R_CA = 2,
  R_CB = 3,
  R_CC = 4,
  R_OPACITY = 5,
  R_RED = 6,
  R_GREEN = 7,
  R_BLUE = 8,
  R_DEPTH = 9,
  /** Half-extents in pixels of the α ≥ 1/255 ellipse, plus 1 px of margin against rounding. */
  R_EX = 10,
  R_EY = 11,
  /** 2·ln(255·opacity): the quadratic form A·dx² + 2B·dx·dy + C·dy² must not exceed it for α ≥ 1/255. */
  R_QMAX = 12;

/** The Gaussian arrays projection reads (a GaussianCloud satisfies it). */
export interface ProjectSource {
  count: number;
  shDegree: number;
  positions: Float32Array;
  logScales: Float32Array;
  rotations: Float32Array;
  opacityLogits: Float32Array;
  shDc: Float32Array;
  shRest: Float32Array;
}

/** Everything projection needs to know about the camera, in plain numbers so it crosses threads cheaply. */
export interface ProjectCamera extends Intrinsics {
  /** World-to-camera, row-major 4×4 (OpenCV). */
  view: ArrayLike<number>;
  /** Camera centre in world coordinates (for the SH view direction). */
  center: [number, number, number];
  near: number;
  scaleModifier: number;
  /** SH degree to evaluate (≤ the source's). */
  shDegree: number;
}

/**
 * Project Gaussians [start, end). Writes `records[i·REC …]` and `rects[i·4 …]` = tile rectangle
 * [x0, y0, x1, y1) (x1 = x0 when the Gaussian is culled or off-screen).
 */
export function projectGaussians(
  src: ProjectSource,
  cam: ProjectCamera,
  start: number,
  end: number,
  records: Float32Array,
  rects: Int32Array,
): void {
  const { positions: P, logScales: S, rotations: Q, opacityLogits: O, shDc, shRest } = src;
  const v = cam.view;
  const v0 = v[0], v1 = v[1], v2 = v[2], v3 = v[3];
  const v4 = v[4], v5 = v[5], v6 = v[6], v7 = v[7];
  const v8 = v[8], v9 = v[9], v10 = v[10], v11 = v[11];
  const { fx, fy, cx, cy, near, scaleModifier } = cam;
  // Frustum clamp of the Jacobian's evaluation point: 1.3× the half field of view, generalized to an
  // off-centre principal point as gsplat does (equal to the reference's 1.3·tan(fov/2) when cx = W/2).
  const tanX = (0.5 * cam.width) / fx,
    tanY = (0.5 * cam.height) / fy;
  const limXPos = (cam.width - cx) / fx + 0.3 * tanX,
    limXNeg = cx / fx + 0.3 * tanX;
  const limYPos = (cam.height - cy) / fy + 0.3 * tanY,
    limYNeg = cy / fy + 0.3 * tanY;
  const gridW = Math.ceil(cam.width / TILE),
    gridH = Math.ceil(cam.height / TILE);
  const [ccx, ccy, ccz] = cam.center;
  const degree = cam.shDegree;
  const basis = new Float64Array(16);
  const rgb = new Float64Array(3);

  for (let i = start; i < end; i++) {
    const r4 = i * 4;
    rects[r4] = rects[r4 + 1] = rects[r4 + 2] = rects[r4 + 3] = 0;
    const px = P[i * 3],
      py = P[i * 3 + 1],
      pz = P[i * 3 + 2];
    const tx = v0 * px + v1 * py + v2 * pz + v3;
    const ty = v4 * px + v5 * py + v6 * pz + v7;
    const tz = v8 * px + v9 * py + v10 * pz + v11;
    if (!(tz > near)) continue;

    // 3D covariance Σ = M·Mᵀ with M = R·diag(s).
    let qw = Q[r4], qx = Q[r4 + 1], qy = Q[r4 + 2], qz = Q[r4 + 3];
    const qq = qw * qw + qx * qx + qy * qy + qz * qz;
    if (qq > 0) {
      const qn = 1 / Math.sqrt(qq);
      qw *= qn; qx *= qn; qy *= qn; qz *= qn;
    } else {
      qw = 1; // a zero quaternion means no rotation, as the readers' normalizeQuaternions reads it
    }
    const sx = Math.exp(S[i * 3]) * scaleModifier,
      sy = Math.exp(S[i * 3 + 1]) * scaleModifier,
      sz = Math.exp(S[i * 3 + 2]) * scaleModifier;
    const m00 = (1 - 2 * (qy * qy + qz * qz)) * sx, m01 = 2 * (qx * qy - qw * qz) * sy, m02 = 2 * (qx * qz + qw * qy) * sz;
    const m10 = 2 * (qx * qy + qw * qz) * sx, m11 = (1 - 2 * (qx * qx + qz * qz)) * sy, m12 = 2 * (qy * qz - qw * qx) * sz;
    const m20 = 2 * (qx * qz - qw * qy) * sx, m21 = 2 * (qy * qz + qw * qx) * sy, m22 = (1 - 2 * (qx * qx + qy * qy)) * sz;
    const s00 = m00 * m00 + m01 * m01 + m02 * m02;
    const s01 = m00 * m10 + m01 * m11 + m02 * m12;
    const s02 = m00 * m20 + m01 * m21 + m02 * m22;
    const s11 = m10 * m10 + m11 * m11 + m12 * m12;
    const s12 = m10 * m20 + m11 * m21 + m12 * m22;
    const s22 = m20 * m20 + m21 * m21 + m22 * m22;

    // 2D covariance Σ₂ = T·Σ·Tᵀ with T = J·W (J the projection Jacobian at the clamped point, W the view rotation).
    const iz = 1 / tz;
    const xc = Math.min(limXPos, Math.max(-limXNeg, tx * iz)) * tz;
    const yc = Math.min(limYPos, Math.max(-limYNeg, ty * iz)) * tz;
    const j00 = fx * iz, j02 = -fx * xc * iz * iz;
    const j11 = fy * iz, j12 = -fy * yc * iz * iz;
    const t00 = j00 * v0 + j02 * v8, t01 = j00 * v1 + j02 * v9, t02 = j00 * v2 + j02 * v10;
    const t10 = j11 * v4 + j12 * v8, t11 = j11 * v5 + j12 * v9, t12 = j11 * v6 + j12 * v10;
    const u0 = s00 * t00 + s01 * t01 + s02 * t02, u1 = s01 * t00 + s11 * t01 + s12 * t02, u2 = s02 * t00 + s12 * t01 + s22 * t02;
    const w0 = s00 * t10 + s01 * t11 + s02 * t12, w1 = s01 * t10 + s11 * t11 + s12 * t12, w2 = s02 * t10 + s12 * t11 + s22 * t12;
    const a = t00 * u0 + t01 * u1 + t02 * u2 + 0.3;
    const b = t10 * u0 + t11 * u1 + t12 * u2;
    const c = t10 * w0 + t11 * w1 + t12 * w2 + 0.3;
    const det = a * c - b * b;
    if (!(det > 0)) continue;
    const mid = 0.5 * (a + c);
    const lambda = mid + Math.sqrt(Math.max(0.1, mid * mid - det));
    const radius = Math.ceil(3 * Math.sqrt(lambda));

    const mx = fx * tx * iz + cx,
      my = fy * ty * iz + cy;
    const opacity = 1 / (1 + Math.exp(-O[i]));
    // α ≥ 1/255 needs A·dx² + 2B·dx·dy + C·dy² ≤ qmax; that ellipse's half-extents are √(qmax·a) and √(qmax·c).
    // Tiles outside it receive nothing from this Gaussian even when its 3σ rectangle covers them, so
    // intersecting the two skips them without changing a pixel (gsplat's opacity-aware extent, exact here).
    const qmax = 2 * Math.log(255 * opacity);
    if (!(qmax >= 0)) continue;
    const ex = Math.sqrt(qmax * a) + 1;
    const ey = Math.sqrt(qmax * c) + 1;
    const x0 = clampInt(Math.max(Math.floor((mx - radius) / TILE), Math.floor((mx - ex) / TILE)), gridW);
    const x1 = clampInt(Math.min(Math.ceil((mx + radius) / TILE), Math.ceil((mx + ex) / TILE)), gridW);
    const y0 = clampInt(Math.max(Math.floor((my - radius) / TILE), Math.floor((my - ey) / TILE)), gridH);
    const y1 = clampInt(Math.min(Math.ceil((my + radius) / TILE), Math.ceil((my + ey) / TILE)), gridH);
    if (x0 >= x1 || y0 >= y1) continue;

    const rec = i * REC;
    records[rec + R_X] = mx;
    records[rec + R_Y] = my;
    records[rec + R_CA] = c / det;
    records[rec + R_CB] = -b / det;
    records[rec + R_CC] = a / det;
    records[rec + R_OPACITY] = opacity;
    records[rec + R_DEPTH] = tz;
    records[rec + R_EX] = ex;
    records[rec + R_EY] = ey;
    records[rec + R_QMAX] = qmax;

    let dx = px - ccx, dy = py - ccy, dz = pz - ccz;
    const dn = 1 / Math.sqrt(dx * dx + dy * dy + dz * dz);
    dx *= dn; dy *= dn; dz *= dn;
    shBasis(degree, dx, dy, dz, basis);
    shColor(degree, shDc, shRest, i, basis, rgb, 0, src.shDegree);
    records[rec + R_RED] = rgb[0];
    records[rec + R_GREEN] = rgb[1];
    records[rec + R_BLUE] = rgb[2];
    rects[r4] = x0;
    rects[r4 + 1] = y0;
    rects[r4 + 2] = x1;
    rects[r4 + 3] = y1;
  }
}

function clampInt(v: number, hi: number): number {
  return v < 0 ? 0 : v > hi ? hi : v;
}
