/**
 * GPU-ready arrays from a decoded payload: vec4 per Gaussian for position + opacity, scale, rotation and an
 * "alternative colour" (feature PCA or class colour), and the SH coefficients padded to whole vec4s per Gaussian.
 */
import type { ViewerScene } from "../src/viewer-server/format.ts";

export interface Packed {
  count: number;
  shDegree: number;
  /** Floats per Gaussian in `sh` (a multiple of 4). */
  shStride: number;
  posOp: Float32Array;
  scale: Float32Array;
  rot: Float32Array;
  sh: Float32Array;
}

export function pack(s: ViewerScene): Packed {
  const N = s.count;
  const posOp = new Float32Array(N * 4), scale = new Float32Array(N * 4);
  for (let i = 0; i < N; i++) {
    posOp[i * 4] = s.position[i * 3];
    posOp[i * 4 + 1] = s.position[i * 3 + 1];
    posOp[i * 4 + 2] = s.position[i * 3 + 2];
    posOp[i * 4 + 3] = s.opacity[i];
    scale[i * 4] = s.scale[i * 3];
    scale[i * 4 + 1] = s.scale[i * 3 + 1];
    scale[i * 4 + 2] = s.scale[i * 3 + 2];
  }
  const raw = ((s.shDegree + 1) * (s.shDegree + 1)) * 3;
  const shStride = Math.ceil(raw / 4) * 4;
  const sh = new Float32Array(N * shStride);
  for (let i = 0; i < N; i++) sh.set(s.sh.subarray(i * raw, (i + 1) * raw), i * shStride);
  return { count: N, shDegree: s.shDegree, shStride, posOp, scale, rot: s.rotation.slice(), sh };
}

/**
 * Feature PCA colours per Gaussian: the top three principal components of the features (mean and covariance over
 * a strided subset of at most ~20k Gaussians), each stretched between its 1st and 99th percentile to [0, 1].
 * Blending is linear, so rendering these colours equals the PCA projection of the rendered features (up to the
 * stretch). Deterministic: fixed start vectors, the largest entry of each component made positive.
 */
export function featurePcaColors(features: Float32Array, channels: number, count: number): Float32Array {
  const C = channels;
  const stride = Math.max(1, Math.floor(count / 20000));
  const mean = new Float64Array(C);
  let n = 0;
  for (let i = 0; i < count; i += stride, n++) for (let c = 0; c < C; c++) mean[c] += features[i * C + c];
  for (let c = 0; c < C; c++) mean[c] /= Math.max(1, n);
  const cov = new Float64Array(C * C);
  const d = new Float64Array(C);
  for (let i = 0; i < count; i += stride) {
    for (let c = 0; c < C; c++) d[c] = features[i * C + c] - mean[c];
    for (let a = 0; a < C; a++) for (let b = 0; b < C; b++) cov[a * C + b] += d[a] * d[b];
  }
  const comps: Float64Array[] = [];
  for (let k = 0; k < Math.min(3, C); k++) {
    let v = new Float64Array(C).map((_, j) => 1 + 0.1 * j + k);
    for (let it = 0; it < 100; it++) {
      const w = new Float64Array(C);
      for (let a = 0; a < C; a++) {
        let s = 0;
        for (let b = 0; b < C; b++) s += cov[a * C + b] * v[b];
        w[a] = s;
      }
      for (const u of comps) {
        let p = 0;
        for (let a = 0; a < C; a++) p += w[a] * u[a];
        for (let a = 0; a < C; a++) w[a] -= p * u[a];
      }
      const len = Math.hypot(...w) || 1;
      v = w.map((x) => x / len);
    }
    let big = 0;
    for (let a = 1; a < C; a++) if (Math.abs(v[a]) > Math.abs(v[big])) big = a;
    if (v[big] < 0) v = v.map((x) => -x);
    comps.push(v);
  }
  const out = new Float32Array(count * 4);
  for (let k = 0; k < comps.length; k++) {
    const proj = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += (features[i * C + c] - mean[c]) * comps[k][c];
      proj[i] = s;
    }
    const sample = Float32Array.from({ length: Math.ceil(count / stride) }, (_, j) => proj[j * stride]).sort();
    const lo = sample[Math.floor(0.01 * (sample.length - 1))], hi = sample[Math.floor(0.99 * (sample.length - 1))];
    const span = hi - lo || 1;
    for (let i = 0; i < count; i++) out[i * 4 + k] = Math.min(1, Math.max(0, (proj[i] - lo) / span));
  }
  return out;
}

/** Class colours per Gaussian (0–1 RGB); 65535 (unknown) is dark grey. */
export function labelColors(labels: Uint16Array, palette: [number, number, number][]): Float32Array {
  const out = new Float32Array(labels.length * 4);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    const c = l === 65535 ? [40, 40, 40] : (palette[l] ?? hashColor(l));
    out[i * 4] = c[0] / 255;
    out[i * 4 + 1] = c[1] / 255;
    out[i * 4 + 2] = c[2] / 255;
  }
  return out;
}

/** A stable colour for class `k` when the scene has no class table. */
export function hashColor(k: number): [number, number, number] {
  let h = (k + 1) * 2654435761;
  const c: number[] = [];
  for (let j = 0; j < 3; j++) {
    h = Math.imul(h ^ (h >>> 15), 2246822519) >>> 0;
    c.push(60 + (h % 180));
  }
  return [c[0], c[1], c[2]];
}
