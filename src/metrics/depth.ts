/**
 * Depth metrics with Atlas's definitions (DATA.md §4, METHOD.md §8; `compute_depth_metrics` in the paper's
 * code): valid pixels are those with 0 < gt < 10 m and pred > 0; Comp is the fraction of all pixels with
 * pred > 0. Like Atlas, a dataset's score is the mean of the per-frame scores ({@link meanDepthMetrics}).
 */
import { ShapeError } from "../core/errors.ts";

/** Atlas's depth scores for one frame (or their per-frame means). Errors in metres; δ and comp are fractions. */
export interface DepthMetrics {
  /** mean(|d̂ − d| / d) */
  absRel: number;
  /** mean|d̂ − d| */
  absDiff: number;
  /** mean(|d̂ − d|² / d) */
  sqRel: number;
  /** √mean(|d̂ − d|²) */
  rmse: number;
  /** √mean((ln d̂ − ln d)²) */
  logRmse: number;
  /** mean(max(d/d̂, d̂/d) < 1.25) */
  delta1: number;
  /** mean(max(d/d̂, d̂/d) < 1.25²) */
  delta2: number;
  /** mean(max(d/d̂, d̂/d) < 1.25³) */
  delta3: number;
  /** mean(d̂ > 0) over all pixels. */
  comp: number;
  /** Pixels the error terms were averaged over (for means: the total over frames). */
  validPixels: number;
}

/** Atlas's upper bound on valid ground-truth depth, in metres. */
export const DEPTH_MAX = 10;

/**
 * Atlas's depth metrics for one frame. Inputs are planar depth in metres, one value per pixel; a ground truth
 * of 0 marks "no depth". With no valid pixel the error terms are NaN (and skipped by {@link meanDepthMetrics}).
 * @throws ShapeError when the arrays differ in length.
 */
export function depthMetrics(pred: Float32Array | Float64Array, gt: Float32Array | Float64Array): DepthMetrics {
  if (pred.length !== gt.length) {
    throw new ShapeError("depthMetrics", `pred of gt's length [${gt.length}]`, `pred [${pred.length}]`);
  }
  let n = 0,
    filled = 0,
    absRel = 0,
    absDiff = 0,
    sqRel = 0,
    sq = 0,
    sqLog = 0,
    d1 = 0,
    d2 = 0,
    d3 = 0;
  const t1 = 1.25,
    t2 = 1.25 ** 2,
    t3 = 1.25 ** 3;
  for (let i = 0; i < gt.length; i++) {
    const p = pred[i],
      d = gt[i];
    if (!(p > 0)) continue;
    filled++;
    if (!(d > 0 && d < DEPTH_MAX)) continue;
    n++;
    const diff = Math.abs(p - d);
    absRel += diff / d;
    absDiff += diff;
    sqRel += (diff * diff) / d;
    sq += diff * diff;
    const l = Math.log(p) - Math.log(d);
    sqLog += l * l;
    const ratio = Math.max(d / p, p / d);
    if (ratio < t1) d1++;
    if (ratio < t2) d2++;
    if (ratio < t3) d3++;
  }
  return {
    absRel: absRel / n,
    absDiff: absDiff / n,
    sqRel: sqRel / n,
    rmse: Math.sqrt(sq / n),
    logRmse: Math.sqrt(sqLog / n),
    delta1: d1 / n,
    delta2: d2 / n,
    delta3: d3 / n,
    comp: gt.length === 0 ? NaN : filled / gt.length,
    validPixels: n,
  };
}

const KEYS = ["absRel", "absDiff", "sqRel", "rmse", "logRmse", "delta1", "delta2", "delta3", "comp"] as const;

/**
 * The per-key mean over frames, skipping NaN (a frame without valid pixels), as Atlas's `nanmean` does.
 * `validPixels` is the total.
 */
export function meanDepthMetrics(frames: readonly DepthMetrics[]): DepthMetrics {
  const out: DepthMetrics = {
    absRel: 0,
    absDiff: 0,
    sqRel: 0,
    rmse: 0,
    logRmse: 0,
    delta1: 0,
    delta2: 0,
    delta3: 0,
    comp: 0,
    validPixels: 0,
  };
  for (const key of KEYS) {
    let s = 0,
      c = 0;
    for (const f of frames) {
      if (Number.isNaN(f[key])) continue;
      s += f[key];
      c++;
    }
    out[key] = s / c;
  }
  for (const f of frames) out.validPixels += f.validPixels;
  return out;
}
