/**
 * Multi-view label consistency, the paper's named limitation, exactly as DATA.md §4 defines it: for view pairs
 * (i, i + k), k ∈ {1, 2, 4}, whose frusta overlap, every valid pixel centre of one view is unprojected with its
 * ground-truth depth and pose, projected into the other view, and compared with that view's nearest pixel when
 * the depths agree (so occluded pixels drop out). `viewConsistency` is the fraction of those pixels whose
 * predicted labels agree, `gtCeiling` the same for the ground-truth labels; both are fractions in [0, 1].
 *
 * This module imports only core, so the frustum overlap comes in as a callback: `frustumIoU` from
 * src/datasets/view-pairs.ts over the scene's Gaussians.
 */
import type { Camera } from "../core/camera.ts";
import { ConfigError, ShapeError } from "../core/errors.ts";
import { IGNORE_LABEL } from "../core/image.ts";
import { invertRigid4, mul4 } from "../core/math.ts";

/** One evaluated view: its camera, ground-truth depth and labels, and the predicted labels, all H×W row-major. */
export interface ConsistencyView {
  camera: Camera;
  /** Ground-truth planar depth (camera z) in metres; 0 or non-finite = invalid. */
  depth: Float32Array;
  /** Ground-truth class per pixel; 65535 = ignore. */
  gt: Uint16Array;
  /** Predicted class per pixel. */
  pred: Uint16Array;
}

/** Pixel counts behind the two ratios, additive over pairs and scenes. */
export interface ConsistencyCounts {
  /** Pixels that passed every test (both directions of every kept pair). */
  counted: number;
  /** Of those, pixels whose predicted labels agree. */
  predAgree: number;
  /** Of those, pixels whose ground-truth labels agree. */
  gtAgree: number;
  /** View pairs kept by the overlap test (each evaluated in both directions). */
  pairs: number;
}

/** The two ratios plus the counts they come from. */
export interface ViewConsistencyResult extends ConsistencyCounts {
  /** predAgree / counted, 0–1 (NaN when nothing counted). */
  viewConsistency: number;
  /** gtAgree / counted, 0–1: the score a perfect predictor would get, given GT noise at edges. */
  gtCeiling: number;
}

/** Options of {@link viewConsistencyCounts}. */
export interface ViewConsistencyOptions {
  /**
   * Frustum IoU of the Gaussians views a and b see, from src/datasets/view-pairs.ts (`frustumIoU`). Called
   * only for the candidate pairs.
   */
  frustumIoU: (a: number, b: number) => number;
  /** Frame offsets k of the pairs (i, i + k) (default [1, 2, 4]). */
  offsets?: readonly number[];
  /** Pairs are kept when their frustum IoU is at least this (default 0.3). */
  minOverlap?: number;
  /** Absolute depth tolerance in metres (default 0.02). */
  depthTolAbs?: number;
  /** Relative depth tolerance, a fraction of B's depth (default 0.02). */
  depthTolRel?: number;
}

function checkView(where: string, v: ConsistencyView, index: number): void {
  const { width: w, height: h } = v.camera;
  const n = w * h;
  for (const key of ["depth", "gt", "pred"] as const) {
    if (v[key].length !== n) {
      throw new ShapeError(`${where}: view ${index}.${key}`, `[${h}×${w}] = ${n}`, `[${v[key].length}]`);
    }
  }
}

/** A zeroed {@link ConsistencyCounts}. */
export function emptyConsistencyCounts(): ConsistencyCounts {
  return { counted: 0, predAgree: 0, gtAgree: 0, pairs: 0 };
}

/**
 * Add one direction, A → B, to `acc`: unproject each of A's pixel centres with A's depth, move it into B's
 * camera frame, and compare with B's nearest pixel (the one whose cell contains the projection).
 */
export function accumulateDirection(
  a: ConsistencyView,
  b: ConsistencyView,
  acc: ConsistencyCounts,
  depthTolAbs = 0.02,
  depthTolRel = 0.02,
): ConsistencyCounts {
  checkView("accumulateDirection", a, 0);
  checkView("accumulateDirection", b, 1);
  const ca = a.camera,
    cb = b.camera;
  // One rigid transform from A's camera frame to B's: view_B · view_A⁻¹.
  const t = mul4(cb.viewMatrix, invertRigid4(ca.viewMatrix));
  const [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11] = t;
  const wa = ca.width,
    ha = ca.height,
    wb = cb.width,
    hb = cb.height;
  const { fx: fxb, fy: fyb, cx: cxb, cy: cyb } = cb;
  let counted = 0,
    predAgree = 0,
    gtAgree = 0;
  for (let j = 0; j < ha; j++) {
    const ry = (j + 0.5 - ca.cy) / ca.fy;
    for (let i = 0; i < wa; i++) {
      const ia = j * wa + i;
      const d = a.depth[ia];
      if (!(d > 0 && d < Infinity)) continue;
      const ga = a.gt[ia];
      if (ga === IGNORE_LABEL) continue;
      const x = ((i + 0.5 - ca.cx) / ca.fx) * d,
        y = ry * d;
      const zb = t8 * x + t9 * y + t10 * d + t11;
      if (!(zb > 0)) continue;
      const u = (fxb * (t0 * x + t1 * y + t2 * d + t3)) / zb + cxb;
      const v = (fyb * (t4 * x + t5 * y + t6 * d + t7)) / zb + cyb;
      if (!(u >= 0 && u < wb && v >= 0 && v < hb)) continue;
      const ib = Math.floor(v) * wb + Math.floor(u);
      const db = b.depth[ib];
      if (!(db > 0 && db < Infinity)) continue;
      if (Math.abs(zb - db) > Math.max(depthTolAbs, depthTolRel * db)) continue;
      const gb = b.gt[ib];
      if (gb === IGNORE_LABEL) continue;
      counted++;
      if (ga === gb) gtAgree++;
      // Two "no prediction" pixels are not an agreement on a class.
      const pa = a.pred[ia];
      if (pa === b.pred[ib] && pa !== IGNORE_LABEL) predAgree++;
    }
  }
  acc.counted += counted;
  acc.predAgree += predAgree;
  acc.gtAgree += gtAgree;
  return acc;
}

/**
 * Counts of one scene: every pair (i, i + k) with frustum IoU ≥ `minOverlap`, in both directions.
 * @throws ShapeError when a view's depth or label arrays do not match its camera's W×H.
 */
export function viewConsistencyCounts(
  views: readonly ConsistencyView[],
  options: ViewConsistencyOptions,
  acc: ConsistencyCounts = emptyConsistencyCounts(),
): ConsistencyCounts {
  const offsets = options.offsets ?? [1, 2, 4];
  const minOverlap = options.minOverlap ?? 0.3;
  for (const k of offsets) {
    if (!Number.isInteger(k) || k < 1) throw new ConfigError("offsets", `must be positive integers, got ${k}`);
  }
  views.forEach((v, i) => checkView("viewConsistency", v, i));
  for (let i = 0; i < views.length; i++) {
    for (const k of offsets) {
      const j = i + k;
      if (j >= views.length || !(options.frustumIoU(i, j) >= minOverlap)) continue;
      acc.pairs++;
      accumulateDirection(views[i], views[j], acc, options.depthTolAbs, options.depthTolRel);
      accumulateDirection(views[j], views[i], acc, options.depthTolAbs, options.depthTolRel);
    }
  }
  return acc;
}

/** The ratios of pooled counts (e.g. summed over scenes). */
export function consistencyRatios(counts: ConsistencyCounts): ViewConsistencyResult {
  return {
    ...counts,
    viewConsistency: counts.predAgree / counts.counted,
    gtCeiling: counts.gtAgree / counts.counted,
  };
}

/** `viewConsistency` and `gtCeiling` of one scene's views (DATA.md §4). */
export function viewConsistency(
  views: readonly ConsistencyView[],
  options: ViewConsistencyOptions,
): ViewConsistencyResult {
  return consistencyRatios(viewConsistencyCounts(views, options));
}
