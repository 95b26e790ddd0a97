/**
 * Stage-3 losses (METHOD.md §6, §8, §10 decisions 2, 3, 13, 17), as jax-js functions a training step can
 * differentiate:
 * - cross-entropy with label smoothing ε over the non-ignored pixels (target (1−ε)·onehot + ε/K; labels equal to
 *   65535 contribute nothing and are not counted in the mean);
 * - CeCo's centre-collapse term L_NC: per-class batch means z̄_k of the decoder embedding (absent classes give
 *   z̄_k = 0 and are still included), centre logits Z̄·W* against the fixed simplex ETF W*, and CE_ε with targets
 *   0..K−1, averaged over the K classes;
 * - a masked depth MSE in metres (ground truth 0 = invalid).
 * Every function consumes its array arguments, as jax-js ops do.
 */
import { numpy as np, lax } from "../nn/jax.ts";
import { ConfigError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";

/** Label meaning "no class" (ARCHITECTURE.md §4). */
export const IGNORE_INDEX = 65535;
/** λ of Eq. 8 (hard-coded 0.4 in the paper's code). */
export const CECO_LAMBDA = 0.4;
/** Label smoothing of generalization training. */
export const GENERALIZE_EPSILON = 0.15;

/** log-softmax along the last axis, max-subtracted (the max does not enter the gradient). */
export function logSoftmax(x: np.Array): np.Array {
  const shifted = x.ref.sub(lax.stopGradient(np.max(x, -1, { keepdims: true })));
  return shifted.ref.sub(np.log(np.sum(np.exp(shifted), -1, { keepdims: true })));
}

/** `[..., K]` float one-hot of int32 labels; labels outside 0..K−1 (the ignore label) give all-zero rows. */
export function oneHotLabels(labels: np.Array, numClasses: number): np.Array {
  return np.equal(labels.reshape([...labels.shape, 1]), np.arange(numClasses).astype(np.int32)).astype(np.float32);
}

/**
 * Mean cross-entropy with label smoothing over the pixels whose label is a class (`labels` int32, 65535 or any
 * value outside 0..K−1 = ignored). `logits` is `[..., K]`, `labels` the same shape without K. With no valid pixel
 * the loss is 0.
 */
export function smoothedCrossEntropy(logits: np.Array, labels: np.Array, epsilon: number): np.Array {
  if (!(epsilon >= 0 && epsilon < 1)) throw new ConfigError("epsilon", `label smoothing must be in [0, 1), got ${epsilon}`);
  const K = logits.shape[logits.shape.length - 1];
  const onehot = oneHotLabels(labels, K);
  const valid = np.sum(onehot.ref, -1); // 1 for a class pixel, 0 for an ignored one
  const logp = logSoftmax(logits);
  // −Σ_k t_k log p_k with t = (1−ε)·onehot + ε/K, only on valid pixels.
  const hit = np.sum(onehot.mul(logp.ref), -1).mul(1 - epsilon);
  const uniform = np.sum(logp, -1).mul(valid.ref).mul(epsilon / K);
  const perPixel = hit.add(uniform).neg();
  return np.sum(perPixel).div(np.maximum(np.sum(valid), 1));
}

/**
 * The fixed simplex ETF W* (METHOD.md §10 decision 3): √(K/(K−1)) · U · (I_K − 11ᵀ/K), with U an E×K matrix of
 * orthonormal columns from Gram–Schmidt on a seeded Gaussian matrix. Row-major `[E·K]`. Needs E ≥ K and K ≥ 2.
 */
export function simplexEtf(embedDim: number, numClasses: number, seed = 0): Float32Array {
  const E = embedDim;
  const K = numClasses;
  if (K < 2) throw new ConfigError("numClasses", `the simplex ETF needs at least 2 classes, got ${K}`);
  if (E < K) throw new ConfigError("decoderDim", `the simplex ETF needs an embedding of at least K = ${K} dimensions, got ${E}`);
  const rng = new Rng(seed).fork(`etf-${E}x${K}`);
  // Columns u_k as Float64 vectors, orthonormalized (modified Gram–Schmidt, twice for stability).
  const cols: Float64Array[] = [];
  for (let k = 0; k < K; k++) {
    const v = new Float64Array(E);
    for (let e = 0; e < E; e++) v[e] = rng.normal();
    for (let pass = 0; pass < 2; pass++) {
      for (const u of cols) {
        let d = 0;
        for (let e = 0; e < E; e++) d += u[e] * v[e];
        for (let e = 0; e < E; e++) v[e] -= d * u[e];
      }
    }
    let n = 0;
    for (let e = 0; e < E; e++) n += v[e] * v[e];
    n = Math.sqrt(n);
    for (let e = 0; e < E; e++) v[e] /= n;
    cols.push(v);
  }
  const scale = Math.sqrt(K / (K - 1));
  const out = new Float32Array(E * K);
  // (U(I − 11ᵀ/K))[e, k] = u_k[e] − mean_j u_j[e].
  for (let e = 0; e < E; e++) {
    let mean = 0;
    for (let k = 0; k < K; k++) mean += cols[k][e];
    mean /= K;
    for (let k = 0; k < K; k++) out[e * K + k] = scale * (cols[k][e] - mean);
  }
  return out;
}

/**
 * Per-class means of `z` (`[..., E]`) over the pixels of each class (`labels`, same leading shape, int32); an
 * absent class gets a zero row. Returns `[K, E]`.
 */
export function classCentres(z: np.Array, labels: np.Array, numClasses: number): np.Array {
  const E = z.shape[z.shape.length - 1];
  const P = z.size / E;
  const zf = z.reshape([P, E]);
  const onehot = oneHotLabels(labels.reshape([P]), numClasses); // [P, K]
  const counts = np.sum(onehot.ref, 0); // [K]
  const sums = np.matmul(onehot.transpose(), zf); // [K, E]
  return sums.div(np.maximum(counts, 1).reshape([numClasses, 1]));
}

/**
 * CeCo's L_NC (METHOD.md §6 Eq. 9): CE_ε(Z̄·W*, [0..K−1]) with Z̄ the per-class batch means of `z` (`[..., E]`)
 * over `labels` (int32, same leading shape; ignored pixels count for no class) and `etf` the `[E, K]` W*.
 */
export function centreCollapseLoss(z: np.Array, labels: np.Array, etf: np.Array, epsilon: number): np.Array {
  const K = etf.shape[1];
  const centres = classCentres(z, labels, K);
  const logits = np.matmul(centres, etf); // [K, K]
  return smoothedCrossEntropy(logits, np.arange(K).astype(np.int32), epsilon);
}

/**
 * Mean squared error in metres over the pixels with valid ground truth (gt > 0). `pred` and `gt` have the same
 * number of elements (a trailing channel of 1 is fine). With no valid pixel the loss is 0.
 */
export function maskedDepthMse(pred: np.Array, gt: np.Array): np.Array {
  const p = pred.reshape([pred.size]);
  const g = gt.reshape([gt.size]);
  const mask = np.greater(g.ref, 0).astype(np.float32);
  const d = p.sub(g);
  return np.sum(np.square(d).mul(mask.ref)).div(np.maximum(np.sum(mask), 1));
}

/** Which terms of the semantic loss are on (the `no-lsr` / `no-ceco` ablations switch one off). */
export interface SemanticLossOptions {
  /** Label smoothing ε (0.15 generalization, 0 fine-tuning and `no-lsr`). */
  epsilon: number;
  /** Weight of L_NC (0.4; 0 under `no-ceco`). */
  lambda: number;
}

/**
 * Eq. 8: CE_ε(logits, y) + λ·L_NC(z, y↓4). `logits` `[B, H, W, K]` against `labels` `[B, H, W]`; `z`
 * `[B, h, w, E]` against `labels4` `[B, h, w]` (labels nearest-downsampled to z's grid, decision 13). Returns the
 * total and the two terms (the terms as arrays so a jitted step can return them).
 */
export function semanticLoss(
  logits: np.Array,
  labels: np.Array,
  z: np.Array,
  labels4: np.Array,
  etf: np.Array,
  options: SemanticLossOptions,
): { total: np.Array; ce: np.Array; nc: np.Array } {
  const ce = smoothedCrossEntropy(logits, labels, options.epsilon);
  if (options.lambda === 0) {
    z.dispose();
    labels4.dispose();
    etf.dispose();
    return { total: ce.ref, ce, nc: np.zeros([]) };
  }
  const nc = centreCollapseLoss(z, labels4, etf, options.epsilon);
  return { total: ce.ref.add(nc.ref.mul(options.lambda)), ce, nc };
}

/**
 * Labels nearest-downsampled to a `h × w` grid (the decoder's 1/4 grid, decision 13): output (i, j) takes the
 * label at the centre of its cell, `floor((i + 0.5)·H/h)`. Host-side, `[N·H·W]` → `[N·h·w]`.
 */
export function downsampleLabelsNearest(labels: Uint16Array | Int32Array, n: number, H: number, W: number, h: number, w: number): Int32Array {
  const out = new Int32Array(n * h * w);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++) {
      const si = Math.min(H - 1, Math.floor(((i + 0.5) * H) / h));
      for (let j = 0; j < w; j++) {
        const sj = Math.min(W - 1, Math.floor(((j + 0.5) * W) / w));
        out[(b * h + i) * w + j] = labels[(b * H + si) * W + sj];
      }
    }
  return out;
}
