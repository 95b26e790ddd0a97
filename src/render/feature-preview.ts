/**
 * Feature images → RGB previews by PCA: the three principal components of the feature vectors of covered pixels,
 * each stretched between its 1st and 99th percentile. Deterministic (fixed start vectors, fixed sign), so the
 * same features always give the same colours.
 */
import type { Image } from "../core/image.ts";

export function featurePca(
  features: Float32Array,
  channels: number,
  width: number,
  height: number,
  alpha?: Float32Array,
): Image {
  const pixels = width * height;
  const C = channels;
  const mask = (p: number) => !alpha || alpha[p] > 0.5;
  // Mean and covariance over a strided subset of covered pixels (at most ~20k: plenty for 3 components).
  const stride = Math.max(1, Math.floor(pixels / 20000));
  const mean = new Float64Array(C);
  let n = 0;
  for (let p = 0; p < pixels; p += stride) {
    if (!mask(p)) continue;
    for (let c = 0; c < C; c++) mean[c] += features[p * C + c];
    n++;
  }
  const out = new Float32Array(pixels * 3);
  if (n === 0) return { width, height, channels: 3, data: out };
  for (let c = 0; c < C; c++) mean[c] /= n;
  const cov = new Float64Array(C * C);
  const d = new Float64Array(C);
  for (let p = 0; p < pixels; p += stride) {
    if (!mask(p)) continue;
    for (let c = 0; c < C; c++) d[c] = features[p * C + c] - mean[c];
    for (let a = 0; a < C; a++) for (let b = a; b < C; b++) cov[a * C + b] += d[a] * d[b];
  }
  for (let a = 0; a < C; a++) for (let b = 0; b < a; b++) cov[a * C + b] = cov[b * C + a];
  const components = topEigenvectors(cov, C, Math.min(3, C));

  const proj = new Float32Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < components.length; k++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += (features[p * C + c] - mean[c]) * components[k][c];
      proj[p * 3 + k] = s;
    }
  }
  for (let k = 0; k < components.length; k++) {
    const vals: number[] = [];
    for (let p = 0; p < pixels; p += stride) if (mask(p)) vals.push(proj[p * 3 + k]);
    vals.sort((a, b) => a - b);
    const lo = vals[Math.floor(0.01 * (vals.length - 1))], hi = vals[Math.ceil(0.99 * (vals.length - 1))];
    const span = hi - lo || 1;
    for (let p = 0; p < pixels; p++) {
      const v = mask(p) ? (proj[p * 3 + k] - lo) / span : 0;
      out[p * 3 + k] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { width, height, channels: 3, data: out };
}

/** The `k` leading eigenvectors of a symmetric C×C matrix, by power iteration with deflation. */
function topEigenvectors(m: Float64Array, C: number, k: number): Float64Array[] {
  const a = Float64Array.from(m);
  const result: Float64Array[] = [];
  for (let e = 0; e < k; e++) {
    let v = new Float64Array(C).map((_, i) => 1 + ((i * 7 + e * 3) % 5) * 0.1);
    let lambda = 0;
    for (let it = 0; it < 200; it++) {
      const w = new Float64Array(C);
      for (let r = 0; r < C; r++) for (let c = 0; c < C; c++) w[r] += a[r * C + c] * v[c];
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      for (let r = 0; r < C; r++) w[r] /= norm;
      lambda = norm;
      v = w;
    }
    // Fix the sign: largest-magnitude entry positive.
    let big = 0;
    for (let i = 1; i < C; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    if (v[big] < 0) v = v.map((x) => -x);
    result.push(v);
    for (let r = 0; r < C; r++) for (let c = 0; c < C; c++) a[r * C + c] -= lambda * v[r] * v[c];
  }
  return result;
}
