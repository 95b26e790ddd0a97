/**
 * Gaussians sampled on the scene mesh, standing in for a trained 3DGS reconstruction: flat splats aligned with the
 * surface, density proportional to area plus a floor per object (so cups and books are represented), colour and
 * SH from the same material and lighting as the ground truth, and the artefacts of real reconstructions added on
 * purpose (scale and colour noise, offsets off the surface, a few floaters). Every Gaussian carries its class in
 * the extra channel `label` (65535 for floaters).
 */
import { quatMul } from "../core/math.ts";
import type { Rng } from "../core/rng.ts";
import { allocateCloud, shRestCount, type GaussianCloud, type ShDegree } from "../splat/cloud.ts";
import { shBasis, SH_C0 } from "../splat/sh.ts";
import { IGNORE_INDEX } from "./classes.ts";
import { shadePoint, type Lighting } from "./lighting.ts";
import { albedoAt, type Rgb } from "./materials.ts";
import { triangleArea, type SceneMesh } from "./mesh.ts";
import { lightVisibility } from "./shadows.ts";

export interface GaussianSamplingOptions {
  /** SH degree of the output (default 3). */
  shDegree?: ShDegree;
  /** Fraction of floaters (default 0.0005). */
  floaters?: number;
  /** Gaussians every object gets at least (default: min(120, count / (4 · objects))). */
  perObjectFloor?: number;
  /** Room bounds, for placing floaters. */
  bounds: { min: [number, number, number]; max: [number, number, number] };
}

/** Unit quaternion (w, x, y, z) rotating +z onto unit vector n. */
function quatZTo(nx: number, ny: number, nz: number): [number, number, number, number] {
  if (nz < -0.999999) return [0, 1, 0, 0];
  const w = 1 + nz, x = -ny, y = nx;
  const len = Math.hypot(w, x, y);
  return [w / len, x / len, y / len, 0];
}

/** Quadrature directions (Fibonacci sphere) for projecting view-dependent colour onto SH. */
function fibonacciDirections(n: number): Float64Array {
  const out = new Float64Array(n * 3);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < n; i++) {
    const y = 1 - (2 * (i + 0.5)) / n, r = Math.sqrt(1 - y * y);
    out[i * 3] = r * Math.cos(golden * i);
    out[i * 3 + 1] = y;
    out[i * 3 + 2] = r * Math.sin(golden * i);
  }
  return out;
}

const QUAD_N = 64;
/** The R2 sequence's steps (1/φ₂, 1/φ₂²), φ₂ the plastic number. */
const R2_A = 0.7548776662466927, R2_B = 0.5698402909980532;
/** Share of splats made large and faint. */
const FUZZY_FRACTION = 0.03;

/** Sample `count` Gaussians on `mesh`. */
export function sampleGaussians(mesh: SceneMesh, lighting: Lighting, count: number, rng: Rng, options: GaussianSamplingOptions): GaussianCloud {
  const degree = options.shDegree ?? 3;
  const K = shRestCount(degree);
  const nTri = mesh.indices.length / 3;
  const nFloat = Math.round(count * (options.floaters ?? 0.0005));
  const nSurf = count - nFloat;

  // Triangles grouped by instance, with cumulative areas for area-proportional picking.
  const byInstance = new Map<number, number[]>();
  const areas = new Float64Array(nTri);
  for (let t = 0; t < nTri; t++) {
    areas[t] = triangleArea(mesh, t);
    const inst = mesh.triInstance[t];
    let list = byInstance.get(inst);
    if (!list) byInstance.set(inst, (list = []));
    list.push(t);
  }
  const instances = [...byInstance.keys()].sort((a, b) => a - b);
  const instArea = instances.map((i) => byInstance.get(i)!.reduce((s, t) => s + areas[t], 0));
  const totalArea = instArea.reduce((s, a) => s + a, 0);
  const floor = Math.min(options.perObjectFloor ?? 120, Math.floor(nSurf / (4 * instances.length)));
  const spread = nSurf - floor * instances.length;
  // Largest-remainder rounding so the counts sum exactly to nSurf.
  const exact = instArea.map((a) => floor + (spread * a) / totalArea);
  const counts = exact.map(Math.floor);
  let left = nSurf - counts.reduce((s, c) => s + c, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) counts[order[k][1]]++;

  const cloud = allocateCloud(count, degree);
  const label = new Uint16Array(count);
  const dirs = fibonacciDirections(QUAD_N);
  const basis = new Float64Array(16);
  const basisTable = new Float64Array(QUAD_N * 16);
  for (let q = 0; q < QUAD_N; q++) {
    shBasis(degree, dirs[q * 3], dirs[q * 3 + 1], dirs[q * 3 + 2], basis);
    basisTable.set(basis, q * 16);
  }
  const albedo: Rgb = [0, 0, 0], col: Rgb = [0, 0, 0];
  const p = [0, 0, 0], n = [0, 0, 0], v = [0, 0, 0];
  const coef = new Float64Array(16 * 3);
  const pos = mesh.positions, idx = mesh.indices;
  const seqIndex = new Int32Array(nTri), seqStart = new Float64Array(nTri);
  const vis = new Float64Array(lighting.lights.length).fill(1);
  let g = 0;
  instances.forEach((inst, ii) => {
    const tris = byInstance.get(inst)!;
    const cdf = new Float64Array(tris.length);
    let acc = 0;
    tris.forEach((t, k) => (cdf[k] = acc += areas[t]));
    const m = counts[ii];
    if (m === 0) return;
    const sigma = 0.85 * Math.sqrt(instArea[ii] / m);
    for (let s = 0; s < m; s++, g++) {
      // Stratified along the area CDF, so each triangle gets its area's share of samples.
      const r = ((s + rng.uniform()) * acc) / m;
      let lo = 0, hi = tris.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] < r) lo = mid + 1;
        else hi = mid;
      }
      const t = tris[lo];
      // Within the triangle, the R2 low-discrepancy sequence (from a random start) spreads samples evenly, leaving
      // fewer holes than independent draws; the square-root map keeps that evenness on the triangle.
      if (seqIndex[t] === 0) seqStart[t] = rng.uniform(0, 1e4);
      const j = seqStart[t] + seqIndex[t]++;
      const su = Math.sqrt((0.5 + j * R2_A) % 1), sv = (0.5 + j * R2_B) % 1;
      const a = su * (1 - sv), b = su * sv;
      const i0 = idx[t * 3] * 3, i1 = idx[t * 3 + 1] * 3, i2 = idx[t * 3 + 2] * 3;
      n[0] = mesh.normals[t * 3];
      n[1] = mesh.normals[t * 3 + 1];
      n[2] = mesh.normals[t * 3 + 2];
      for (let c = 0; c < 3; c++) p[c] = pos[i0 + c] + a * (pos[i1 + c] - pos[i0 + c]) + b * (pos[i2 + c] - pos[i0 + c]);
      const mat = mesh.materials[mesh.triMaterial[t]];
      albedoAt(mat, p[0], p[1], p[2], n[0], n[1], n[2], albedo);
      if (lighting.shadows) lightVisibility(lighting.shadows, p, n, vis);
      // Reconstructions sit a little off the true surface.
      const off = rng.normal(0, 0.002);
      cloud.positions[g * 3] = p[0] + off * n[0];
      cloud.positions[g * 3 + 1] = p[1] + off * n[1];
      cloud.positions[g * 3 + 2] = p[2] + off * n[2];
      // A few splats are larger and fainter, as optimisation leaves them around edges: slightly blurred outlines.
      const fuzzy = rng.bernoulli(FUZZY_FRACTION);
      const sz = sigma * Math.exp(0.2 * rng.normal()) * (fuzzy ? rng.uniform(1.6, 2.4) : 1);
      cloud.logScales[g * 3] = Math.log(sz);
      cloud.logScales[g * 3 + 1] = Math.log(sz * rng.uniform(0.6, 1));
      cloud.logScales[g * 3 + 2] = Math.log(sz * 0.08);
      const theta = rng.uniform(0, Math.PI);
      const q = quatMul(quatZTo(n[0], n[1], n[2]), [Math.cos(theta), 0, 0, Math.sin(theta)]);
      cloud.rotations.set(q, g * 4);
      cloud.opacityLogits[g] = fuzzy ? rng.uniform(-0.5, 0.5) : Math.max(2, rng.normal(4.5, 0.7));
      label[g] = mesh.triClass[t];
      coef.fill(0);
      if (mat.ks > 0 && degree > 0) {
        // Project the view-dependent radiance onto SH: colour(d) for a view ray d from the camera to the point.
        for (let qd = 0; qd < QUAD_N; qd++) {
          let vx = -dirs[qd * 3], vy = -dirs[qd * 3 + 1], vz = -dirs[qd * 3 + 2];
          const nv = vx * n[0] + vy * n[1] + vz * n[2];
          if (nv < 0) {
            // Mirror views from behind to the front, keeping the function smooth where the splat is never seen.
            vx -= 2 * nv * n[0];
            vy -= 2 * nv * n[1];
            vz -= 2 * nv * n[2];
          }
          v[0] = vx;
          v[1] = vy;
          v[2] = vz;
          shadePoint(lighting, albedo, mat.ks, mat.shininess, p, n, v, col, vis);
          for (let k = 0; k <= K; k++) {
            const y = basisTable[qd * 16 + k] * ((4 * Math.PI) / QUAD_N);
            coef[k * 3] += (col[0] - 0.5) * y;
            coef[k * 3 + 1] += (col[1] - 0.5) * y;
            coef[k * 3 + 2] += (col[2] - 0.5) * y;
          }
        }
      } else {
        v[0] = n[0];
        v[1] = n[1];
        v[2] = n[2];
        shadePoint(lighting, albedo, 0, 1, p, n, v, col, vis);
        for (let c = 0; c < 3; c++) coef[c] = (col[c] - 0.5) / SH_C0;
      }
      for (let c = 0; c < 3; c++) cloud.shDc[g * 3 + c] = coef[c] + rng.normal(0, 0.02 / SH_C0);
      for (let k = 1; k <= K; k++) for (let c = 0; c < 3; c++) cloud.shRest[(g * K + k - 1) * 3 + c] = coef[k * 3 + c];
    }
  });

  // Floaters: faint blobs in mid-air, as optimisation leaves behind.
  const { min, max } = options.bounds;
  for (; g < count; g++) {
    for (let c = 0; c < 3; c++) cloud.positions[g * 3 + c] = rng.uniform(min[c] + 0.3, max[c] - 0.3);
    const sz = rng.uniform(0.01, 0.04);
    for (let c = 0; c < 3; c++) cloud.logScales[g * 3 + c] = Math.log(sz * rng.uniform(0.5, 1.5));
    cloud.opacityLogits[g] = rng.uniform(-3, -1);
    for (let c = 0; c < 3; c++) cloud.shDc[g * 3 + c] = (rng.uniform(0.2, 0.8) - 0.5) / SH_C0;
    label[g] = IGNORE_INDEX;
  }
  cloud.extras.set("label", label);
  return cloud;
}
