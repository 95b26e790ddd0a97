/** Plain-JS float64 reference implementations (naive loops) that the layer tests compare against. */

/** Row-major index helper for NHWC. */
const at4 = (s: number[], n: number, y: number, x: number, c: number): number => ((n * s[1] + y) * s[2] + x) * s[3] + c;

/** y = x Wᵀ + b on `[rows, I]`, W `[O, I]`. */
export function linearRef(x: Float64Array, rows: number, I: number, w: Float64Array, O: number, b?: Float64Array): Float64Array {
  const y = new Float64Array(rows * O);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < O; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < I; i++) s += x[r * I + i] * w[o * I + i];
      y[r * O + o] = s;
    }
  }
  return y;
}

/** Naive NHWC conv, weights `[O, k, k, C]`, stride s, symmetric zero padding p. Returns data and shape. */
export function convRef(
  x: Float64Array,
  xs: number[],
  w: Float64Array,
  O: number,
  k: number,
  s: number,
  p: number,
  b?: Float64Array,
): { y: Float64Array; shape: number[] } {
  const [N, H, W, C] = xs;
  const Ho = Math.floor((H + 2 * p - k) / s) + 1;
  const Wo = Math.floor((W + 2 * p - k) / s) + 1;
  const shape = [N, Ho, Wo, O];
  const y = new Float64Array(N * Ho * Wo * O);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let o = 0; o < O; o++) {
          let acc = b ? b[o] : 0;
          for (let dy = 0; dy < k; dy++) {
            const iy = oy * s + dy - p;
            if (iy < 0 || iy >= H) continue;
            for (let dx = 0; dx < k; dx++) {
              const ix = ox * s + dx - p;
              if (ix < 0 || ix >= W) continue;
              for (let c = 0; c < C; c++) acc += x[at4(xs, n, iy, ix, c)] * w[((o * k + dy) * k + dx) * C + c];
            }
          }
          y[at4(shape, n, oy, ox, o)] = acc;
        }
  return { y, shape };
}

/** Naive depthwise conv, weights `[C, k, k]`, stride 1, same padding. */
export function depthwiseRef(x: Float64Array, xs: number[], w: Float64Array, k: number, b?: Float64Array): Float64Array {
  const [N, H, W, C] = xs;
  const p = (k - 1) / 2;
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < H; oy++)
      for (let ox = 0; ox < W; ox++)
        for (let c = 0; c < C; c++) {
          let acc = b ? b[c] : 0;
          for (let dy = 0; dy < k; dy++)
            for (let dx = 0; dx < k; dx++) {
              const iy = oy + dy - p;
              const ix = ox + dx - p;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) acc += x[at4(xs, n, iy, ix, c)] * w[(c * k + dy) * k + dx];
            }
          y[at4(xs, n, oy, ox, c)] = acc;
        }
  return y;
}

/** LayerNorm over the last axis of `[rows, C]`. */
export function layerNormRef(x: Float64Array, C: number, g: Float64Array, b: Float64Array, eps: number): Float64Array {
  const rows = x.length / C;
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < C; c++) m += x[r * C + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[r * C + c] - m) ** 2;
    v /= C;
    for (let c = 0; c < C; c++) y[r * C + c] = ((x[r * C + c] - m) / Math.sqrt(v + eps)) * g[c] + b[c];
  }
  return y;
}

/** Softmax over rows of `[rows, n]`. */
export function softmaxRef(x: Float64Array, n: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / n; r++) {
    let mx = -Infinity;
    for (let i = 0; i < n; i++) mx = Math.max(mx, x[r * n + i]);
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.exp(x[r * n + i] - mx);
    for (let i = 0; i < n; i++) y[r * n + i] = Math.exp(x[r * n + i] - mx) / s;
  }
  return y;
}

/** Abramowitz–Stegun-free erf: series/continued fraction accurate to ~1e-15 for |x| < 6. */
export function erfRef(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc at larger |x|.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
}

/** Multi-head attention on token matrices: q `[Lq, D]`, k and v `[Lk, D]` (already projected), one batch item. */
export function attentionRef(q: Float64Array, k: Float64Array, v: Float64Array, Lq: number, Lk: number, D: number, heads: number): Float64Array {
  const d = D / heads;
  const out = new Float64Array(Lq * D);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < Lq; i++) {
      const s = new Float64Array(Lk);
      for (let j = 0; j < Lk; j++) {
        let acc = 0;
        for (let e = 0; e < d; e++) acc += q[i * D + h * d + e] * k[j * D + h * d + e];
        s[j] = acc / Math.sqrt(d);
      }
      const a = softmaxRef(s, Lk);
      for (let e = 0; e < d; e++) {
        let acc = 0;
        for (let j = 0; j < Lk; j++) acc += a[j] * v[j * D + h * d + e];
        out[i * D + h * d + e] = acc;
      }
    }
  return out;
}

/** PyTorch bilinear (align_corners = false) on one NHWC map, computed per output pixel from the formula. */
export function bilinearRef(x: Float64Array, xs: number[], Ho: number, Wo: number): Float64Array {
  const [N, H, W, C] = xs;
  const y = new Float64Array(N * Ho * Wo * C);
  const src = (i: number, inS: number, outS: number): [number, number, number] => {
    const s = Math.max(0, ((i + 0.5) * inS) / outS - 0.5);
    const lo = Math.min(Math.floor(s), inS - 1);
    return [lo, Math.min(lo + 1, inS - 1), s - lo];
  };
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < Ho; oy++) {
      const [y0, y1, ly] = src(oy, H, Ho);
      for (let ox = 0; ox < Wo; ox++) {
        const [x0, x1, lx] = src(ox, W, Wo);
        for (let c = 0; c < C; c++) {
          const v =
            (1 - ly) * ((1 - lx) * x[at4(xs, n, y0, x0, c)] + lx * x[at4(xs, n, y0, x1, c)]) +
            ly * ((1 - lx) * x[at4(xs, n, y1, x0, c)] + lx * x[at4(xs, n, y1, x1, c)]);
          y[((n * Ho + oy) * Wo + ox) * C + c] = v;
        }
      }
    }
  return y;
}
