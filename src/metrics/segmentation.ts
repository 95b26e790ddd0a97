/**
 * Semantic segmentation metrics as DATA.md §4 defines them: one confusion matrix pooled over every non-ignored
 * pixel of every evaluated view (as the official code does), then per-class IoU and accuracy over the classes
 * present in the ground truth, their means, overall accuracy, and the same restricted to the K most frequent
 * ground-truth classes. Percentages (0–100) throughout, per ARCHITECTURE.md §5.
 */
import { ConfigError, ShapeError } from "../core/errors.ts";
import { IGNORE_LABEL } from "../core/image.ts";

/**
 * Ground truth × prediction counts. Row `g` is ground-truth class g; columns 0..K−1 are predicted classes and
 * column K collects predictions outside 0..K−1 (including the ignore label), so a pixel the model left
 * unlabelled still counts as a miss for its class without being a false positive of any class.
 */
export class ConfusionMatrix {
  /** Row-major [K × (K + 1)] pixel counts. Float64 so pooled counts stay exact far beyond 2^32. */
  readonly counts: Float64Array;

  /** @param numClasses K, the number of classes (training indices 0..K−1). */
  constructor(readonly numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses >= IGNORE_LABEL) {
      throw new ConfigError("numClasses", `must be an integer in 1..${IGNORE_LABEL - 1}, got ${numClasses}`);
    }
    this.counts = new Float64Array(numClasses * (numClasses + 1));
  }

  /** Pixels whose ground truth is `gt` and prediction is `pred` (`pred` = K for "outside 0..K−1"). */
  get(gt: number, pred: number): number {
    return this.counts[gt * (this.numClasses + 1) + pred];
  }

  /**
   * Add one view's labels. Pixels whose ground truth is the ignore label (65535) are skipped.
   * @throws ShapeError when the arrays differ in length.
   * @throws ConfigError when a ground-truth label is neither ignore nor a class index: it would otherwise be
   *   silently dropped and inflate every ratio.
   */
  add(pred: Uint16Array, gt: Uint16Array): this {
    if (pred.length !== gt.length) {
      throw new ShapeError("ConfusionMatrix.add", `pred of gt's length [${gt.length}]`, `pred [${pred.length}]`);
    }
    const k = this.numClasses;
    const stride = k + 1;
    const counts = this.counts;
    for (let i = 0; i < gt.length; i++) {
      const g = gt[i];
      if (g === IGNORE_LABEL) continue;
      if (g >= k) {
        throw new ConfigError("gt", `label ${g} at pixel ${i} is neither ${IGNORE_LABEL} (ignore) nor in 0..${k - 1}`);
      }
      const p = pred[i];
      counts[g * stride + (p < k ? p : k)]++;
    }
    return this;
  }

  /** Add another matrix's counts (e.g. from another scene or worker). */
  merge(other: ConfusionMatrix): this {
    if (other.numClasses !== this.numClasses) {
      throw new ShapeError("ConfusionMatrix.merge", `${this.numClasses} classes`, `${other.numClasses} classes`);
    }
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    return this;
  }

  /** Non-ignored pixels counted so far. */
  total(): number {
    let s = 0;
    for (let i = 0; i < this.counts.length; i++) s += this.counts[i];
    return s;
  }
}

/** One class's scores; IoU and accuracy are percentages. */
export interface ClassScore {
  /** Training index of the class. */
  id: number;
  /** Display name, when a class table was given. */
  name?: string;
  /** TP / (TP + FP + FN) × 100. */
  iou: number;
  /** TP / (TP + FN) × 100 (recall). */
  acc: number;
  /** Ground-truth pixels of this class (TP + FN). */
  pixels: number;
}

/** Means over a set of classes, and overall accuracy over the pixels whose ground truth is in that set. */
export interface SegmentationSummary {
  /** Mean IoU, percent. */
  mIoU: number;
  /** Mean per-class accuracy (recall), percent. */
  mAcc: number;
  /** Correct pixels / pixels, percent. */
  oAcc: number;
  /** Class ids the means run over, most frequent first for top-K, ascending for all classes. */
  classIds: number[];
}

/** All-class summary plus the top-K restriction and per-class scores. */
export interface SegmentationMetrics extends SegmentationSummary {
  /** K of the top-K restriction as asked; `top.classIds.length` may be smaller when fewer classes are present. */
  topK: number;
  /** The summary over the K most frequent ground-truth classes. */
  top: SegmentationSummary;
  /** Scores of every class present in the ground truth, ascending by id. */
  perClass: ClassScore[];
  /** Non-ignored pixels evaluated. */
  pixels: number;
}

/** Options of {@link segmentationMetrics}. */
export interface SegmentationOptions {
  /** K of the top-K summary (default 20). */
  topK?: number;
  /** Class names by training index, copied into `perClass`. */
  classNames?: readonly string[];
}

/**
 * mIoU / mAcc / oAcc over the classes present in the ground truth, and over the `topK` most frequent of them
 * (ties broken by the lower class id so the set is deterministic).
 *
 * IoU_c = TP / (TP + FP + FN) and Acc_c = TP / (TP + FN) come from the whole matrix, also for the top-K
 * summary: DATA.md restricts only the means and the oAcc pixels to those classes, not the false positives.
 * A matrix with no pixels gives NaN means.
 */
export function segmentationMetrics(cm: ConfusionMatrix, options: SegmentationOptions = {}): SegmentationMetrics {
  const topK = options.topK ?? 20;
  if (!Number.isInteger(topK) || topK < 1) throw new ConfigError("topK", `must be a positive integer, got ${topK}`);
  const k = cm.numClasses;
  const stride = k + 1;
  const rows = new Float64Array(k);
  const cols = new Float64Array(k);
  const tp = new Float64Array(k);
  for (let g = 0; g < k; g++) {
    for (let p = 0; p <= k; p++) {
      const c = cm.counts[g * stride + p];
      rows[g] += c;
      if (p < k) cols[p] += c;
    }
    tp[g] = cm.counts[g * stride + g];
  }
  const perClass: ClassScore[] = [];
  for (let c = 0; c < k; c++) {
    if (rows[c] === 0) continue;
    const score: ClassScore = {
      id: c,
      iou: (100 * tp[c]) / (rows[c] + cols[c] - tp[c]),
      acc: (100 * tp[c]) / rows[c],
      pixels: rows[c],
    };
    const name = options.classNames?.[c];
    if (name !== undefined) score.name = name;
    perClass.push(score);
  }
  const summarize = (scores: ClassScore[]): SegmentationSummary => {
    let iou = 0,
      acc = 0,
      correct = 0,
      pixels = 0;
    for (const s of scores) {
      iou += s.iou;
      acc += s.acc;
      correct += tp[s.id];
      pixels += rows[s.id];
    }
    return {
      mIoU: iou / scores.length,
      mAcc: acc / scores.length,
      oAcc: (100 * correct) / pixels,
      classIds: scores.map((s) => s.id),
    };
  };
  const byFrequency = [...perClass].sort((a, b) => b.pixels - a.pixels || a.id - b.id);
  let pixels = 0;
  for (let c = 0; c < k; c++) pixels += rows[c];
  return { ...summarize(perClass), topK, top: summarize(byFrequency.slice(0, topK)), perClass, pixels };
}

/** Pool a sequence of (pred, gt) label maps into one matrix and score it. */
export function evaluateSegmentation(
  views: Iterable<{ pred: Uint16Array; gt: Uint16Array }>,
  numClasses: number,
  options: SegmentationOptions = {},
): SegmentationMetrics {
  const cm = new ConfusionMatrix(numClasses);
  for (const v of views) cm.add(v.pred, v.gt);
  return segmentationMetrics(cm, options);
}

/** The summary as the CLI contract prints it: `mIoU, mAcc, oAcc, top<K>{mIoU, mAcc, oAcc}, perClass`. */
export interface SegmentationJson {
  mIoU: number;
  mAcc: number;
  oAcc: number;
  perClass: ClassScore[];
  [topKey: `top${number}`]: { mIoU: number; mAcc: number; oAcc: number };
}

/** The JSON fields of ARCHITECTURE.md §5 (`top20{…}` for the default K = 20). */
export function segmentationJson(m: SegmentationMetrics): SegmentationJson {
  const out: SegmentationJson = { mIoU: m.mIoU, mAcc: m.mAcc, oAcc: m.oAcc, perClass: m.perClass };
  out[`top${m.topK}`] = { mIoU: m.top.mIoU, mAcc: m.top.mAcc, oAcc: m.top.oAcc };
  return out;
}
