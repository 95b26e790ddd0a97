/**
 * A slow per-pixel reference renderer: the test oracle, and the baseline `rtgs2 bench render` reports its speed-up
 * against. It shares no code with the tile renderer (only the SH basis): it builds Σ with
 * explicit 3×3 matrix products, projects with its own Jacobian, and evaluates every Gaussian at every pixel
 * with a direct exp, front to back by (depth, index). It uses the same inclusion rule as the tile renderer
 * (a Gaussian is considered only at pixels whose 16×16 tile its 3σ rectangle covers), as FORMATS.md §2 requires.
 */
import { quatToMat3 } from "../core/math.ts";
import { cameraCenter, type Camera } from "../core/camera.ts";
import { shBasis, shColor } from "../splat/sh.ts";
import type { GaussianCloud } from "../splat/cloud.ts";

type M3 = number[][];
const mul = (a: M3, b: M3): M3 => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const tr = (a: M3): M3 => a[0].map((_, j) => a.map((row) => row[j]));

/** A projected Gaussian of the reference renderer. */
export interface ReferenceItem {
  i: number;
  z: number;
  mx: number;
  my: number;
  conic: number[];
  o: number;
  col: number[];
  rect: number[];
}

export function referenceRender(cloud: GaussianCloud, cam: Camera, features?: { values: Float32Array; channels: number }) {
  return referenceComposite(referenceProject(cloud, cam), cam, features);
}

/** Stage one of the reference: every Gaussian's 2D conic, colour and tile rectangle, sorted by (depth, index). */
export function referenceProject(cloud: GaussianCloud, cam: Camera): ReferenceItem[] {
  const { width: W, height: H, fx, fy, cx, cy } = cam;
  const V = cam.viewMatrix;
  const Rv: M3 = [0, 1, 2].map((r) => [V[r * 4], V[r * 4 + 1], V[r * 4 + 2]]);
  const center = cameraCenter(cam);
  const items: ReferenceItem[] = [];
  for (let i = 0; i < cloud.count; i++) {
    const p = [0, 1, 2].map((a) => cloud.positions[i * 3 + a]);
    const t = [0, 1, 2].map((r) => V[r * 4] * p[0] + V[r * 4 + 1] * p[1] + V[r * 4 + 2] * p[2] + V[r * 4 + 3]);
    if (t[2] <= 0.2) continue;
    const q = Array.from(cloud.rotations.subarray(i * 4, i * 4 + 4));
    const R3 = quatToMat3(q[0], q[1], q[2], q[3]);
    const R: M3 = [0, 1, 2].map((r) => [R3[r * 3], R3[r * 3 + 1], R3[r * 3 + 2]]);
    const s = [0, 1, 2].map((a) => Math.exp(cloud.logScales[i * 3 + a]));
    const S: M3 = [[s[0] ** 2, 0, 0], [0, s[1] ** 2, 0], [0, 0, s[2] ** 2]];
    const sigma = mul(mul(R, S), tr(R));
    const limX = 0.3 * (W / (2 * fx)), limY = 0.3 * (H / (2 * fy));
    const xz = Math.min((W - cx) / fx + limX, Math.max(-(cx / fx + limX), t[0] / t[2])) * t[2];
    const yz = Math.min((H - cy) / fy + limY, Math.max(-(cy / fy + limY), t[1] / t[2])) * t[2];
    const J: M3 = [
      [fx / t[2], 0, (-fx * xz) / t[2] ** 2],
      [0, fy / t[2], (-fy * yz) / t[2] ** 2],
    ];
    const T = mul(J, Rv);
    const s2 = mul(mul(T, sigma), tr(T));
    const a = s2[0][0] + 0.3, b = s2[0][1], c = s2[1][1] + 0.3;
    const det = a * c - b * b;
    if (det <= 0) continue;
    const mid = (a + c) / 2;
    const r = Math.ceil(3 * Math.sqrt(mid + Math.sqrt(Math.max(0.1, mid * mid - det))));
    const mx = (fx * t[0]) / t[2] + cx, my = (fy * t[1]) / t[2] + cy;
    const gw = Math.ceil(W / 16), gh = Math.ceil(H / 16);
    const clampI = (v: number, hi: number) => Math.max(0, Math.min(hi, v));
    const rect = [
      clampI(Math.floor((mx - r) / 16), gw), clampI(Math.floor((my - r) / 16), gh),
      clampI(Math.ceil((mx + r) / 16), gw), clampI(Math.ceil((my + r) / 16), gh),
    ];
    if (rect[0] >= rect[2] || rect[1] >= rect[3]) continue;
    const d = [p[0] - center[0], p[1] - center[1], p[2] - center[2]];
    const dn = Math.hypot(d[0], d[1], d[2]);
    const basis = new Float64Array(16);
    shBasis(cloud.shDegree, d[0] / dn, d[1] / dn, d[2] / dn, basis);
    const col = new Float64Array(3);
    shColor(cloud.shDegree, cloud.shDc, cloud.shRest, i, basis, col, 0);
    const o = 1 / (1 + Math.exp(-cloud.opacityLogits[i]));
    items.push({ i, z: t[2], mx, my, conic: [c / det, -b / det, a / det], o, col: Array.from(col), rect });
  }
  items.sort((u, v) => u.z - v.z || u.i - v.i);
  return items;
}

/**
 * The per-pixel loop both reference passes share: every pixel visits every projected Gaussian whose rectangle
 * covers its tile, front to back, with the rasterizer's α clamp, 1/255 cut-off and early termination, calling
 * `visit(pixel, item, a·T)` per contribution and `done(pixel, T)` with the final transmittance.
 */
function traversePixels(items: ReferenceItem[], cam: Camera, visit: (pix: number, g: ReferenceItem, w: number) => void, done?: (pix: number, T: number) => void): void {
  const { width: W, height: H } = cam;
  for (let py = 0; py < H; py++)
    for (let px = 0; px < W; px++) {
      const tx = Math.floor(px / 16), ty = Math.floor(py / 16);
      let T = 1;
      const pix = py * W + px;
      for (const g of items) {
        if (tx < g.rect[0] || tx >= g.rect[2] || ty < g.rect[1] || ty >= g.rect[3]) continue;
        const dx = g.mx - (px + 0.5), dy = g.my - (py + 0.5);
        const power = -0.5 * (g.conic[0] * dx * dx + g.conic[2] * dy * dy) - g.conic[1] * dx * dy;
        if (power > 0) continue;
        const a = Math.min(0.99, g.o * Math.exp(power));
        if (a < 1 / 255) continue;
        const next = T * (1 - a);
        if (next < 1e-4) break;
        visit(pix, g, a * T);
        T = next;
      }
      done?.(pix, T);
    }
}

/** Stage two: every pixel evaluates every projected Gaussian whose rectangle covers its tile, front to back. */
export function referenceComposite(items: ReferenceItem[], cam: Camera, features?: { values: Float32Array; channels: number }) {
  const { width: W, height: H } = cam;
  const C = features?.channels ?? 0;
  const rgb = new Float64Array(W * H * 3), alpha = new Float64Array(W * H), depth = new Float64Array(W * H);
  const feats = new Float64Array(W * H * C);
  traversePixels(
    items,
    cam,
    (pix, g, w) => {
      for (let k = 0; k < 3; k++) rgb[pix * 3 + k] += g.col[k] * w;
      depth[pix] += g.z * w;
      for (let k = 0; k < C; k++) feats[pix * C + k] += features!.values[g.i * C + k] * w;
    },
    (pix, T) => {
      alpha[pix] = 1 - T;
    },
  );
  return { rgb, alpha, depth, features: feats };
}

/**
 * The weight pass of the reference (the oracle of `accumulateGaussianWeights`): the same per-pixel loop as
 * {@link referenceComposite}, but every contribution w = α·T of Gaussian g at pixel p adds w to weight[g] and
 * w·E[p, k] to evidence[g·K + k], where `evidenceAt(p, k)` gives E. Float64 throughout.
 */
export function referenceGaussianWeights(
  items: ReferenceItem[],
  cam: Camera,
  count: number,
  classes: number,
  evidenceAt: (pixel: number, k: number) => number,
) {
  const weight = new Float64Array(count), evidence = new Float64Array(count * classes);
  traversePixels(items, cam, (pix, g, w) => {
    weight[g.i] += w;
    for (let k = 0; k < classes; k++) evidence[g.i * classes + k] += w * evidenceAt(pix, k);
  });
  return { weight, evidence };
}
