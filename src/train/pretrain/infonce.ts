/**
 * The contrastive loss of stage 1 (METHOD.md §3, Eq. 7; §10 decision 4): InfoNCE over up to 4096 positive
 * correspondences between two views, one-way (view 1 → view 2), temperature 0.07, on L2-normalized features.
 */
import { numpy as np, lax } from "../../nn/jax.ts";
import type { Rng } from "../../core/rng.ts";
import { ConfigError } from "../../core/errors.ts";
import { takeRows } from "../../models/gaussian-encoder/ops.ts";

/** The paper's temperature τ. */
export const INFONCE_TEMPERATURE = 0.07;
/** Most correspondences per pair (PointContrast `npos`). */
export const INFONCE_MAX_PAIRS = 4096;

/**
 * Up to `max` of the `[M·2]` interleaved correspondences, drawn without replacement (a partial Fisher–Yates
 * shuffle), or all of them in their order when M ≤ max — as the code's `np.random.choice(…, replace=False)`.
 */
export function sampleCorrespondences(pairs: Uint32Array, max: number, rng: Rng): Uint32Array {
  const m = pairs.length / 2;
  if (!Number.isInteger(m)) throw new ConfigError("correspondences", "need interleaved (view 1, view 2) pairs");
  if (m <= max) return pairs.slice();
  const pick = new Uint32Array(m);
  for (let i = 0; i < m; i++) pick[i] = i;
  const out = new Uint32Array(max * 2);
  for (let i = 0; i < max; i++) {
    const j = i + rng.int(m - i);
    [pick[i], pick[j]] = [pick[j], pick[i]];
    out[i * 2] = pairs[pick[i] * 2];
    out[i * 2 + 1] = pairs[pick[i] * 2 + 1];
  }
  return out;
}

/** Rows scaled to unit L2 norm (PyTorch `F.normalize`, eps keeping a zero row finite). */
export function l2Normalize(x: np.Array, eps = 1e-12): np.Array {
  const sq = np.sum(np.square(x.ref), -1, { keepdims: true });
  return x.mul(np.reciprocal(np.sqrt(np.maximum(sq, eps * eps))));
}

/**
 * InfoNCE: q = normalize(f1[idx1]), k = normalize(f2[idx2]), logits = q kᵀ / τ, and the cross-entropy with
 * target i for row i, averaged: −(1/m) Σᵢ log softmax(logitsᵢ)ᵢ. Consumes every argument.
 * @param f1 `[n1, D]` features of view 1; `f2` `[n2, D]` of view 2.
 * @param idx1 `[m]` int32 rows of view 1; `idx2` the matching rows of view 2.
 * @param valid `[m]` 1 for a real correspondence, 0 for padding (a fixed count of rows keeps a compiled step's
 *   shapes fixed): a padded row is left out of the mean and a padded column out of every softmax, so the loss
 *   and its gradient are those of the real rows alone.
 */
export function infoNCE(f1: np.Array, f2: np.Array, idx1: np.Array, idx2: np.Array, tau = INFONCE_TEMPERATURE, valid?: np.Array): np.Array {
  if (!(tau > 0)) throw new ConfigError("tau", `must be positive, got ${tau}`);
  const q = l2Normalize(takeRows(f1, idx1));
  const k = l2Normalize(takeRows(f2, idx2));
  const positive = np.sum(q.ref.mul(k.ref), -1).mul(1 / tau);
  let logits = np.matmul(q, k.transpose()).mul(1 / tau);
  // A large finite penalty rather than −∞, so no 0·∞ can appear in a vjp.
  if (valid !== undefined) logits = logits.add(valid.ref.sub(1).mul(1e30).reshape([1, -1]));
  // Max-shifted log-sum-exp; the shift carries no gradient, as in every stable softmax.
  const shift = lax.stopGradient(np.max(logits.ref, -1, { keepdims: true }));
  const lse = np.log(np.sum(np.exp(logits.sub(shift.ref)), -1)).add(shift.reshape([-1]));
  if (valid === undefined) return np.mean(lse.sub(positive));
  const count = np.sum(valid.ref);
  return np.sum(lse.sub(positive).mul(valid)).div(count);
}
