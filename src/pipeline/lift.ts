/**
 * 3D label lifting (issue 9 §3): gather every view's per-pixel class evidence onto the Gaussians with the
 * renderer's blending weights, take a per-Gaussian argmax, export a labelled ply, and render the lifted labels
 * from any camera.
 *
 * For view v and Gaussian g, the evidence is Σ_pixels α·T · E_v[pixel, k] over the pixels g contributes to (the
 * renderer's weight pass, `accumulateGaussianWeights`), summed over views. `label` = argmax_k, `label_confidence`
 * = that class's share of the gathered evidence, max_k / Σ_k (0–1). A Gaussian that gathers no evidence gets
 * 65535 and 0. The evidence of a view is either per-pixel scores [H·W·K] (probabilities; a network's softmax) or
 * hard labels [H·W] (their one-hot), so the same code lifts ground truth, a noisy oracle or the network.
 */
import type { Camera } from "../core/camera.ts";
import { ConfigError, ShapeError } from "../core/errors.ts";
import { IGNORE_LABEL, type Image, type Rgb255 } from "../core/image.ts";
import { writeFileAtomic } from "../core/fs.ts";
import { allocateCloud, SH_C0, type GaussianCloud } from "../splat/cloud.ts";
import { encodePly } from "../splat/io/ply.ts";
import {
  accumulateGaussianWeights,
  createGaussianAccumulator,
  render,
  type GaussianAccumulator,
  type PixelEvidence,
} from "../render/render.ts";

export type { PixelEvidence } from "../render/render.ts";

/**
 * Where per-view evidence comes from: ground-truth label images, a noisy oracle, or the network (a Segmenter's
 * per-pixel probabilities). `evidence(v, camera)` is called once per view, in view order; its size must be the
 * camera's.
 */
export interface EvidenceSource {
  /** K, the number of classes (1–64). */
  readonly classes: number;
  evidence(view: number, camera: Camera): ViewEvidence | Promise<ViewEvidence>;
}

/**
 * One view's evidence; `camera`, when set, is the (rescaled) camera the evidence image was made for, e.g. the
 * network's render size; otherwise it is the view's own camera.
 */
export type ViewEvidence = PixelEvidence & { camera?: Camera };

/**
 * The hook for the network: anything that gives per-pixel class probabilities [H·W·K] for a camera (stage 3's
 * Segmenter) becomes an evidence source. Probabilities (not logits) are expected, so every pixel's evidence sums
 * to 1 and `label_confidence` is the winning class's share of the probability mass.
 */
export interface ViewSegmenter {
  readonly classes: number;
  probabilities(view: number, camera: Camera): Float32Array | Promise<Float32Array>;
}

export function probabilitySource(segmenter: ViewSegmenter): EvidenceSource {
  const classes = segmenter.classes;
  return {
    classes,
    evidence: async (v, camera) => ({ kind: "dense", values: await segmenter.probabilities(v, camera), classes, camera }),
  };
}

export interface LiftOptions {
  /** Render worker threads (default: all cores); never changes the result. */
  threads?: number;
  /** Views to lift from (default: all). */
  views?: readonly number[];
  /**
   * Called after each view with its index, the view's per-pixel source labels (argmax), the pass time and the
   * camera the evidence was made for (its size is the labels' size).
   */
  onView?: (view: number, sourceLabels: Uint16Array, seconds: number, camera: Camera) => void;
}

export interface LiftResult {
  /** [N] lifted class per Gaussian; 65535 where no view gave evidence. */
  labels: Uint16Array;
  /** [N] the winning class's share of the gathered evidence, 0–1; 0 where unseen. */
  confidence: Float32Array;
  /** The raw sums, row g = [Σ α·T, Σ α·T·E_0, …] (see GaussianAccumulator). */
  accumulator: GaussianAccumulator;
  /** Gaussians that gathered evidence. */
  seen: number;
  views: number;
  /** Wall time of the weight passes only (projection, binning, blending, reduction), summed over views. */
  accumulateSeconds: number;
}

/** Per-pixel argmax of an evidence image (65535 where every score is ≤ 0, or for hard labels ≥ K). */
export function evidenceLabels(e: PixelEvidence): Uint16Array {
  if (e.kind === "labels") return e.labels.map((l) => (l < e.classes ? l : IGNORE_LABEL));
  const K = e.classes;
  const n = e.values.length / K;
  const out = new Uint16Array(n);
  for (let p = 0; p < n; p++) {
    let best = IGNORE_LABEL, bestV = 0;
    for (let k = 0; k < K; k++) {
      const v = e.values[p * K + k];
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    out[p] = best;
  }
  return out;
}

/** Gather the evidence of every view onto `cloud`'s Gaussians and take the per-Gaussian argmax. */
export async function liftLabels(
  cloud: GaussianCloud,
  cameras: readonly Camera[],
  source: EvidenceSource,
  options: LiftOptions = {},
): Promise<LiftResult> {
  const acc = createGaussianAccumulator(cloud.count, source.classes);
  const views = options.views ?? cameras.map((_, i) => i);
  let seconds = 0;
  for (const v of views) {
    if (!(Number.isInteger(v) && v >= 0 && v < cameras.length)) {
      throw new ConfigError("views", `view ${v} does not exist (${cameras.length} cameras)`);
    }
    const e = await source.evidence(v, cameras[v]);
    if (e.classes !== source.classes) {
      throw new ShapeError(`evidence of view ${v}`, `${source.classes} classes`, `${e.classes} classes`);
    }
    const camera = e.camera ?? cameras[v];
    const t0 = performance.now();
    await accumulateGaussianWeights(cloud, camera, e, acc, { threads: options.threads });
    const dt = (performance.now() - t0) / 1000;
    seconds += dt;
    options.onView?.(v, evidenceLabels(e), dt, camera);
  }
  return { ...argmaxLabels(acc), accumulator: acc, views: views.length, accumulateSeconds: seconds };
}

/** `label` and `label_confidence` from accumulated evidence (ties go to the lower class index). */
export function argmaxLabels(acc: GaussianAccumulator): { labels: Uint16Array; confidence: Float32Array; seen: number } {
  const K = acc.classes, S = K + 1;
  const labels = new Uint16Array(acc.count).fill(IGNORE_LABEL);
  const confidence = new Float32Array(acc.count);
  let seen = 0;
  for (let g = 0; g < acc.count; g++) {
    let sum = 0, best = -1, bestV = 0;
    for (let k = 0; k < K; k++) {
      const v = acc.values[g * S + 1 + k];
      if (v > 0) sum += v;
      if (v > bestV) {
        bestV = v;
        best = k;
      }
    }
    if (best < 0) continue;
    labels[g] = best;
    confidence[g] = bestV / sum;
    seen++;
  }
  return { labels, confidence, seen };
}

export interface LiftedPlyOptions {
  /** Class colours by index, 0–255 (a dataset's class table). */
  colors: readonly (readonly [number, number, number] | Rgb255)[];
  /**
   * Recolour SH-DC with the lifted class colour and zero the SH rest (default true), so any splat viewer shows
   * the labels; unseen Gaussians are grey. False keeps the input's appearance.
   */
  recolor?: boolean;
  /** Extra `comment` lines for the header. */
  comments?: readonly string[];
}

const UNSEEN_GREY: readonly [number, number, number] = [128, 128, 128];

/**
 * A copy of `input` with `label` (the lifted class), `label_confidence` and, when the input has a `label`
 * (ground truth), that as `gt_label`; other extras (e.g. f_pc_*) are kept.
 */
export function liftedCloud(input: GaussianCloud, lift: Pick<LiftResult, "labels" | "confidence">, options: LiftedPlyOptions): GaussianCloud {
  const n = input.count;
  if (lift.labels.length !== n || lift.confidence.length !== n) {
    throw new ShapeError("liftedCloud", `labels and confidence of [${n}]`, `[${lift.labels.length}] and [${lift.confidence.length}]`);
  }
  const recolor = options.recolor ?? true;
  const out = allocateCloud(n, input.shDegree);
  out.positions.set(input.positions);
  out.logScales.set(input.logScales);
  out.rotations.set(input.rotations);
  out.opacityLogits.set(input.opacityLogits);
  if (recolor) {
    for (let g = 0; g < n; g++) {
      const l = lift.labels[g];
      const c = l < options.colors.length ? options.colors[l] : UNSEEN_GREY;
      if (l !== IGNORE_LABEL && l >= options.colors.length) {
        throw new ConfigError("colors", `class ${l} of Gaussian ${g} has no colour (${options.colors.length} in the table)`);
      }
      // Colour = SH_C0 · f_dc + 0.5 for the view-independent term.
      for (let ch = 0; ch < 3; ch++) out.shDc[g * 3 + ch] = (c[ch] / 255 - 0.5) / SH_C0;
    }
    // out.shRest stays zero.
  } else {
    out.shDc.set(input.shDc);
    out.shRest.set(input.shRest);
  }
  for (const [name, values] of input.extras) {
    if (name === "label" || name === "label_confidence" || name === "gt_label") continue;
    out.extras.set(name, values);
  }
  const gt = input.extras.get("label");
  if (gt) out.extras.set("gt_label", gt instanceof Uint16Array ? gt : Uint16Array.from(gt, (v) => (v >= 0 && v < IGNORE_LABEL ? v : IGNORE_LABEL)));
  out.extras.set("label", lift.labels);
  out.extras.set("label_confidence", lift.confidence);
  return out;
}

/** Write the lifted ply atomically (binary little-endian, via the project's ply writer). */
export function writeLiftedPly(path: string, input: GaussianCloud, lift: Pick<LiftResult, "labels" | "confidence">, options: LiftedPlyOptions): GaussianCloud {
  const cloud = liftedCloud(input, lift, options);
  const comments = ["rtgs2 lifted labels: label = argmax of alpha*T-weighted per-view evidence, label_confidence = its share", ...(options.comments ?? [])];
  writeFileAtomic(path, encodePly(cloud, { comments }));
  return cloud;
}

export interface LabelRenderOptions {
  threads?: number;
  /** A pixel whose splatted one-hot mass (Σ α·T over labelled Gaussians) is below this gets 65535. Default 1e-3. */
  minMass?: number;
}

/**
 * What each Gaussian splats when lifted labels are rendered: "onehot" (its label), "confidence" (its label's
 * one-hot scaled by label_confidence; both come from the ply alone) or "soft" (its whole normalized evidence
 * vector, which needs the accumulator).
 */
export type LabelRenderMode = "onehot" | "confidence" | "soft";

/** Per-Gaussian class scores [N·K] for {@link renderLabelScores}; unlabelled Gaussians get all zeros. */
export function labelScores(
  lift: { labels: Uint16Array; confidence?: Float32Array; accumulator?: GaussianAccumulator },
  classes: number,
  mode: LabelRenderMode = "onehot",
): Float32Array {
  const n = lift.labels.length;
  const out = new Float32Array(n * classes);
  if (mode === "soft") {
    const acc = lift.accumulator;
    if (!acc || acc.classes !== classes || acc.count !== n) throw new ConfigError("labelScores", `"soft" needs the lift's accumulator of [${n}, ${classes} + 1]`);
    const S = classes + 1;
    for (let g = 0; g < n; g++) {
      let sum = 0;
      for (let k = 0; k < classes; k++) sum += Math.max(0, acc.values[g * S + 1 + k]);
      if (sum > 0) for (let k = 0; k < classes; k++) out[g * classes + k] = Math.max(0, acc.values[g * S + 1 + k]) / sum;
    }
    return out;
  }
  if (mode === "confidence" && lift.confidence?.length !== n) throw new ConfigError("labelScores", `"confidence" needs label_confidence for all ${n} Gaussians`);
  for (let g = 0; g < n; g++) {
    const l = lift.labels[g];
    if (l < classes) out[g * classes + l] = mode === "confidence" ? lift.confidence![g] : 1;
  }
  return out;
}

/**
 * Render per-Gaussian class scores [N·K] (see {@link labelScores}) from any camera: splat them as K ≤ 64 feature
 * channels with the renderer's weights and take the per-pixel argmax → [H·W] labels (65535 where the winning
 * class's splatted mass is below `minMass`).
 */
export async function renderLabelScores(
  cloud: GaussianCloud,
  scores: Float32Array,
  classes: number,
  camera: Camera,
  options: LabelRenderOptions = {},
): Promise<Uint16Array> {
  if (!Number.isInteger(classes) || classes < 1 || classes > 64) throw new ConfigError("classes", `need 1 to 64 classes, got ${classes}`);
  if (scores.length !== cloud.count * classes) throw new ShapeError("renderLabelScores.scores", `[${cloud.count}·${classes}]`, `[${scores.length}]`);
  const out = await render(cloud, camera, { features: { values: scores, channels: classes }, threads: options.threads, shDegree: 0 });
  const minMass = options.minMass ?? 1e-3;
  return evidenceLabels({ kind: "dense", values: out.features!, classes }).map((l, p) => {
    if (l === IGNORE_LABEL) return l;
    return out.features![p * classes + l] >= minMass ? l : IGNORE_LABEL;
  });
}

/** Render per-Gaussian labels from any camera by splatting their one-hot vectors (see {@link renderLabelScores}). */
export async function renderLabels(
  cloud: GaussianCloud,
  labels: Uint16Array,
  classes: number,
  camera: Camera,
  options: LabelRenderOptions = {},
): Promise<Uint16Array> {
  if (labels.length !== cloud.count) throw new ShapeError("renderLabels.labels", `[${cloud.count}]`, `[${labels.length}]`);
  if (!Number.isInteger(classes) || classes < 1 || classes > 64) throw new ConfigError("classes", `need 1 to 64 classes, got ${classes}`);
  return renderLabelScores(cloud, labelScores({ labels }, classes, "onehot"), classes, camera, options);
}

/** A label image in class colours (ignore = black), for previews and the report. */
export function labelColorImage(labels: Uint16Array, width: number, height: number, colors: readonly (readonly [number, number, number])[]): Image {
  if (labels.length !== width * height) throw new ShapeError("labelColorImage", `[${height}·${width}]`, `[${labels.length}]`);
  const data = new Float32Array(width * height * 3);
  for (let p = 0; p < labels.length; p++) {
    const c = colors[labels[p]];
    if (!c) continue;
    data[p * 3] = c[0] / 255;
    data[p * 3 + 1] = c[1] / 255;
    data[p * 3 + 2] = c[2] / 255;
  }
  return { width, height, channels: 3, data };
}
