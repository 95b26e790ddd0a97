/**
 * Lifting over a whole scene, with the measurements `rtgs2 lift` prints: per-view evidence sources (the
 * ground-truth label images, a seeded noisy oracle of them, or any {@link EvidenceSource} such as the network),
 * the lifted ply, and the lifted labels rendered back into every view and scored against the ground truth —
 * mIoU, view consistency against its GT ceiling (DATA.md §4) and per-Gaussian accuracy against the ply's
 * ground-truth `label` — next to the same scores of the per-view source labels themselves.
 */
import { ConfigError } from "../core/errors.ts";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { IGNORE_LABEL, writePng } from "../core/image.ts";
import { Rng } from "../core/rng.ts";
import { createProgress } from "../core/progress.ts";
import { readScene } from "../datasets/detect.ts";
import { resizeNearest, scaleCamera } from "../train/render-cache.ts";
import { loadSceneFeatures } from "../train/semantic/features.ts";
import { Segmenter } from "./segment.ts";
import { loadDepth, loadLabels } from "../datasets/frames.ts";
import type { Scene } from "../datasets/scene.ts";
import { frustumIoU, viewVisibility } from "../datasets/view-pairs.ts";
import { evaluateSegmentation } from "../metrics/segmentation.ts";
import { viewConsistency, type ConsistencyView } from "../metrics/view-consistency.ts";
import type { GaussianCloud } from "../splat/cloud.ts";
import {
  evidenceLabels,
  labelColorImage,
  labelScores,
  liftLabels,
  renderLabelScores,
  renderLabels,
  writeLiftedPly,
  type EvidenceSource,
  type LabelRenderMode,
  type LiftResult,
} from "./lift.ts";

/** The number of classes of a scene's class table, checked for the weight pass's 1–64 channels. */
function sceneClasses(scene: Scene): number {
  const k = scene.classes.length;
  if (k < 1) throw new ConfigError("lift", `${scene.root} has no class table (no dataset.json with classes), so there is nothing to lift`);
  if (k > 64) throw new ConfigError("lift", `${scene.root} has ${k} classes; lifting supports at most 64`);
  return k;
}

/** The scene's ground-truth label images as hard-label evidence (the "oracle" source; the GT ceiling). */
export function gtLabelSource(scene: Scene): EvidenceSource {
  const classes = sceneClasses(scene);
  return { classes, evidence: (v) => ({ kind: "labels", labels: loadLabels(scene, v), classes }) };
}

/** How {@link noisyLabelSource} corrupts each view's labels. */
export interface LabelNoise {
  seed: number;
  /** Discs per view replaced by one wrong class each (default 8). */
  blobs?: number;
  /** Disc radii in pixels, uniform in [min, max] (default [4, 20]). */
  radius?: readonly [number, number];
  /** Per-pixel probability of a random wrong class (default 0.02). */
  flicker?: number;
}

/**
 * Ground-truth labels with view-independent noise, drawn from `Rng("<seed>/noise/<view>")`: discs of a wrong
 * class (the small flickering regions the paper names as its limitation) and salt noise. A stand-in for a
 * per-view segmenter whose errors do not agree across views; ignore pixels stay ignore.
 */
export function noisyLabelSource(scene: Scene, noise: LabelNoise): EvidenceSource {
  const classes = sceneClasses(scene);
  if (classes < 2) throw new ConfigError("noise", "needs at least 2 classes to draw a wrong one");
  const blobs = noise.blobs ?? 8;
  const [r0, r1] = noise.radius ?? [4, 20];
  const flicker = noise.flicker ?? 0.02;
  if (!(Number.isInteger(blobs) && blobs >= 0)) throw new ConfigError("noise.blobs", `must be a non-negative integer, got ${blobs}`);
  if (!(r0 >= 0 && r1 >= r0)) throw new ConfigError("noise.radius", `must be 0 ≤ min ≤ max, got [${r0}, ${r1}]`);
  if (!(flicker >= 0 && flicker <= 1)) throw new ConfigError("noise.flicker", `must be a probability, got ${flicker}`);
  const wrong = (rng: Rng, l: number) => {
    const k = rng.int(classes - 1);
    return l < classes && k >= l ? k + 1 : k;
  };
  return {
    classes,
    evidence: (v, camera) => {
      const labels = loadLabels(scene, v);
      const rng = new Rng(`${noise.seed}/noise/${v}`);
      const { width: W, height: H } = camera;
      for (let b = 0; b < blobs; b++) {
        const cx = rng.uniform(0, W), cy = rng.uniform(0, H), r = rng.uniform(r0, r1);
        const centre = labels[Math.min(H - 1, Math.floor(cy)) * W + Math.min(W - 1, Math.floor(cx))];
        const cls = wrong(rng, centre);
        for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(H, Math.ceil(cy + r)); y++)
          for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(W, Math.ceil(cx + r)); x++) {
            const p = y * W + x;
            if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r && labels[p] !== IGNORE_LABEL) labels[p] = cls;
          }
      }
      if (flicker > 0) for (let p = 0; p < labels.length; p++) if (labels[p] !== IGNORE_LABEL && rng.uniform() < flicker) labels[p] = wrong(rng, labels[p]);
      return { kind: "labels", labels, classes };
    },
  };
}

/**
 * The network as an evidence source: a VDVI checkpoint (default: the committed one) segments every view at its
 * render size and its softmax probabilities are the evidence. Call `dispose()` when done.
 */
export async function segmenterSource(scene: Scene, model?: string, threads?: number): Promise<EvidenceSource & { dispose(): void }> {
  const seg = Segmenter.load(model);
  try {
    if (seg.task !== "semantic") throw new ConfigError("--model", `${seg.path} is a ${seg.task} checkpoint; lifting needs a semantic one`);
    const K = seg.config.numClasses;
    if (scene.classes.length > 0 && scene.classes.length !== K) {
      throw new ConfigError("--model", `${seg.path} predicts ${K} classes but ${scene.root} has ${scene.classes.length}`);
    }
    if (K > 64) throw new ConfigError("--model", `${seg.path} predicts ${K} classes; lifting supports at most 64`);
    const sf = await loadSceneFeatures(scene.splatPath, scene.root, seg.featureSource, scene.name);
    seg.checkEncoder(sf.encoder, scene.root);
    return {
      classes: K,
      evidence: async (_v, camera) => {
        const out = await seg.segment(sf.cloud, camera, { features: { values: sf.features, channels: sf.channels }, threads });
        return { kind: "dense", values: out.probabilities, classes: K, camera: scaleCamera(camera, out.width, out.height) };
      },
      dispose: () => seg.dispose(),
    };
  } catch (err) {
    seg.dispose();
    throw err;
  }
}

/** Scores of one set of per-view labels against the ground truth. */
export interface LabelScores {
  /** Percent, pooled confusion matrix over the evaluated views (DATA.md §4). */
  mIoU: number;
  /** Fraction of counted pixels whose labels agree between overlapping views. */
  viewConsistency: number;
}

export interface LiftSceneOptions {
  threads?: number;
  /** Write the lifted ply here (atomically). */
  out?: string;
  /** Recolour SH-DC by class (default true). */
  recolor?: boolean;
  /** Show a progress bar on a TTY (default true). */
  progress?: boolean;
  /**
   * Also render the ply's own ground-truth `label` per Gaussian into every view and score it (`gaussianGt`): the
   * best any per-Gaussian labelling of these splats can do, as the splats do not tile the surfaces exactly.
   */
  gaussianGtRenders?: boolean;
  /**
   * Lift from these views only (default: all). Every view is still scored; the views left out are also scored
   * on their own (`heldOut`), which shows how the lifted labels render from cameras that gave no evidence.
   */
  liftViews?: readonly number[];
  /**
   * Write class-colour previews of every `previewEvery`-th view (default 8) into this folder:
   * `view-NNN-gt.png`, `view-NNN-source.png` (the per-view labels) and `view-NNN-lifted.png`.
   */
  previewDir?: string;
  previewEvery?: number;
  /** What the lifted-label renders splat (default "onehot"); see `labelScores`. */
  render?: LabelRenderMode;
}

export interface LiftSceneResult {
  scene: string;
  gaussians: number;
  views: number;
  classes: number;
  /** Gaussians that gathered evidence, and their fraction of all. */
  seen: number;
  seenRatio: number;
  /** Percent of the Gaussians with a ground-truth `label` and some evidence whose lifted label equals it. */
  gaussianAccuracy: number;
  /** The same over every Gaussian with a ground-truth label, unseen ones counting as wrong. */
  gaussianAccuracyAll: number;
  /** Gaussians with a ground-truth label (NaN accuracies when 0: the splat file has no `label`). */
  gaussiansLabelled: number;
  /** `gaussianAccuracy` with each Gaussian weighted by its gathered blending weight Σ α·T (what the views see). */
  gaussianAccuracyWeighted: number;
  /** How the lifted labels were rendered for the scores below. */
  render: LabelRenderMode;
  /** Lifted labels rendered into every view, against the ground-truth label images. */
  mIoU: number;
  viewConsistency: number;
  /** The ground-truth labels' own consistency (DATA.md §4). */
  gtCeiling: number;
  /** The per-view source labels themselves (before lifting). */
  perView: LabelScores;
  /** With `gaussianGtRenders`: the ply's ground-truth `label` rendered the same way as the lifted labels. */
  gaussianGt?: LabelScores;
  /** Preview files written (with `previewDir`). */
  previews?: string[];
  /** With `liftViews`: mIoU (percent) over the views that were not lifted from, lifted renders and source labels. */
  heldOut?: { views: number; mIoU: number; perViewMIoU: number };
  /** View pairs the consistency used, and pixels it counted. */
  pairs: number;
  countedPixels: number;
  /** Seconds per view of the weight pass (projection + binning + blending + reduction). */
  accumulateSecondsPerView: number;
  /** Seconds per view to render the lifted labels. */
  renderSecondsPerView: number;
  seconds: number;
  out?: string;
}

/** Lift `source` over every view of the scene at `sceneOrDir`, optionally write the ply, and score the result. */
export async function liftScene(
  sceneOrDir: Scene | string,
  source: EvidenceSource | "gt" | LabelNoise,
  options: LiftSceneOptions = {},
): Promise<LiftSceneResult> {
  const t0 = performance.now();
  const scene = typeof sceneOrDir === "string" ? readScene(sceneOrDir) : sceneOrDir;
  const src = source === "gt" ? gtLabelSource(scene) : "evidence" in source ? source : noisyLabelSource(scene, source);
  const K = src.classes;
  const cloud = scene.loadGaussians();
  const cameras = scene.cameras;
  const progress = createProgress(`lift ${scene.name}`, (options.liftViews?.length ?? cameras.length) + cameras.length, { quiet: options.progress === false });
  const sourceLabels: Uint16Array[] = [];
  let lift: LiftResult;
  try {
    lift = await liftLabels(cloud, cameras, src, {
      threads: options.threads,
      views: options.liftViews,
      onView: (v, labels, _seconds, camera) => {
        const { width, height } = cameras[v];
        sourceLabels[v] = resizeNearest(labels, camera.width, camera.height, width, height);
        progress.tick();
      },
    });
    if (options.out) {
      writeLiftedPly(options.out, cloud, lift, {
        colors: scene.classes.map((c) => c.color),
        recolor: options.recolor,
        comments: [`rtgs2 lift scene ${scene.name}, ${lift.views} views, ${K} classes`],
      });
    }
    const t1 = performance.now();
    const lifted: ConsistencyView[] = [];
    const perView: ConsistencyView[] = [];
    const gaussianGt: ConsistencyView[] = [];
    const gtExtra = cloud.extras.get("label");
    const renderMode = options.render ?? "onehot";
    const scores = labelScores(lift, K, renderMode);
    const gtPerGaussian = options.gaussianGtRenders && gtExtra ? Uint16Array.from(gtExtra, (t) => (t >= 0 && t < K ? t : IGNORE_LABEL)) : undefined;
    for (let v = 0; v < cameras.length; v++) {
      const gt = loadLabels(scene, v);
      const depth = loadDepth(scene, v);
      const pred = await renderLabelScores(cloud, scores, K, cameras[v], { threads: options.threads });
      lifted.push({ camera: cameras[v], depth, gt, pred });
      if (!sourceLabels[v]) {
        const e = await src.evidence(v, cameras[v]);
        const at = e.camera ?? cameras[v];
        sourceLabels[v] = resizeNearest(evidenceLabels(e), at.width, at.height, cameras[v].width, cameras[v].height);
      }
      perView.push({ camera: cameras[v], depth, gt, pred: sourceLabels[v] });
      if (gtPerGaussian) {
        gaussianGt.push({ camera: cameras[v], depth, gt, pred: await renderLabels(cloud, gtPerGaussian, K, cameras[v], { threads: options.threads }) });
      }
      progress.tick();
    }
    const renderSeconds = (performance.now() - t1) / 1000;
    const previews: string[] = [];
    if (options.previewDir) {
      const every = options.previewEvery ?? 8;
      if (!(Number.isInteger(every) && every >= 1)) throw new ConfigError("previewEvery", `must be a positive integer, got ${every}`);
      mkdirSync(options.previewDir, { recursive: true });
      const colors = scene.classes.map((c) => c.color);
      for (let v = 0; v < cameras.length; v += every) {
        const { width, height } = cameras[v];
        for (const [kind, labels] of [["gt", lifted[v].gt], ["source", perView[v].pred], ["lifted", lifted[v].pred]] as const) {
          const path = join(options.previewDir, `view-${String(v).padStart(3, "0")}-${kind}.png`);
          writePng(path, labelColorImage(labels, width, height, colors));
          previews.push(path);
        }
      }
    }
    const vis = viewVisibility(cloud.positions, cameras);
    const consistencyOptions = { frustumIoU: (a: number, b: number) => frustumIoU(vis, a, b) };
    const vcLifted = viewConsistency(lifted, consistencyOptions);
    const vcPerView = viewConsistency(perView, consistencyOptions);
    const liftedFrom = new Set(options.liftViews ?? cameras.map((_, v) => v));
    const held = lifted.map((_, v) => v).filter((v) => !liftedFrom.has(v));
    const heldOut = held.length > 0 && options.liftViews
      ? {
          views: held.length,
          mIoU: evaluateSegmentation(held.map((v) => lifted[v]), K).mIoU,
          perViewMIoU: evaluateSegmentation(held.map((v) => perView[v]), K).mIoU,
        }
      : undefined;
    const acc = gaussianAccuracy(cloud, lift.labels, lift.accumulator.values, K + 1);
    return {
      scene: scene.name,
      gaussians: cloud.count,
      views: cameras.length,
      classes: K,
      render: renderMode,
      seen: lift.seen,
      seenRatio: lift.seen / cloud.count,
      gaussianAccuracy: acc.accuracy,
      gaussianAccuracyAll: acc.accuracyAll,
      gaussiansLabelled: acc.labelled,
      gaussianAccuracyWeighted: acc.accuracyWeighted,
      mIoU: evaluateSegmentation(lifted, K).mIoU,
      viewConsistency: vcLifted.viewConsistency,
      gtCeiling: vcLifted.gtCeiling,
      perView: { mIoU: evaluateSegmentation(perView, K).mIoU, viewConsistency: vcPerView.viewConsistency },
      gaussianGt: gtPerGaussian
        ? { mIoU: evaluateSegmentation(gaussianGt, K).mIoU, viewConsistency: viewConsistency(gaussianGt, consistencyOptions).viewConsistency }
        : undefined,
      heldOut,
      previews: options.previewDir ? previews : undefined,
      pairs: vcLifted.pairs,
      countedPixels: vcLifted.counted,
      accumulateSecondsPerView: lift.accumulateSeconds / Math.max(1, lift.views),
      renderSecondsPerView: renderSeconds / Math.max(1, cameras.length),
      seconds: (performance.now() - t0) / 1000,
      out: options.out,
    };
  } finally {
    progress.done();
  }
}

/**
 * Per-Gaussian accuracy (percent) of `labels` against the cloud's ground-truth `label` extra: over the Gaussians
 * with a ground-truth class that were labelled (`accuracy`), and over all with a ground-truth class, unlabelled
 * ones counting as wrong (`accuracyAll`), and optionally over the labelled ones weighted by `weights[g·stride]`
 * (`accuracyWeighted`). NaN when the cloud has no `label`.
 */
export function gaussianAccuracy(
  cloud: GaussianCloud,
  labels: Uint16Array,
  weights?: ArrayLike<number>,
  stride = 1,
): { accuracy: number; accuracyAll: number; accuracyWeighted: number; labelled: number } {
  const gt = cloud.extras.get("label");
  if (!gt) return { accuracy: NaN, accuracyAll: NaN, accuracyWeighted: NaN, labelled: 0 };
  let labelled = 0, seen = 0, correct = 0, wSeen = 0, wCorrect = 0;
  for (let g = 0; g < cloud.count; g++) {
    const t = gt[g];
    if (!(t >= 0 && t < IGNORE_LABEL)) continue;
    labelled++;
    if (labels[g] === IGNORE_LABEL) continue;
    seen++;
    const w = weights ? weights[g * stride] : 1;
    wSeen += w;
    if (labels[g] === t) {
      correct++;
      wCorrect += w;
    }
  }
  return { accuracy: (100 * correct) / seen, accuracyAll: (100 * correct) / labelled, accuracyWeighted: (100 * wCorrect) / wSeen, labelled };
}
