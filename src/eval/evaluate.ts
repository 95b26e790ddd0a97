/**
 * `rtgs2 eval`: a VDVI checkpoint over a project-layout dataset (issue 8 §4, DATA.md §4, ARCHITECTURE.md §5).
 * - Generalization checkpoints: every frame of the split's scenes (`test` by default).
 * - Fine-tuned checkpoints (`finetuneScene` in the metadata): the novel views (index % 8 == 0) of that scene.
 * Each view is rendered from the scene's Gaussians and segmented exactly as `Segmenter.segment` does; predictions
 * are compared with the ground truth at the camera's size (nearest-neighbour resize when the network ran at
 * another size). Reported: mIoU / mAcc / oAcc (all classes and top-20) with per-class IoU from one pooled
 * confusion matrix; PSNR / SSIM of the renders against the GT images; depth metrics (depth checkpoints);
 * view consistency with its GT ceiling; frames per second of render + network, with a breakdown.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, MissingFileError } from "../core/errors.ts";
import { createProgress } from "../core/progress.ts";
import { readProjectDataset } from "../datasets/project.ts";
import { isNovelView, type Scene } from "../datasets/scene.ts";
import { loadDepth, loadLabels, loadRgb } from "../datasets/frames.ts";
import { viewVisibility, frustumIoU } from "../datasets/view-pairs.ts";
import { ConfusionMatrix, segmentationMetrics, segmentationJson, type ClassScore } from "../metrics/segmentation.ts";
import { psnr, ssim } from "../metrics/image.ts";
import { depthMetrics, meanDepthMetrics, type DepthMetrics } from "../metrics/depth.ts";
import {
  consistencyRatios,
  emptyConsistencyCounts,
  viewConsistencyCounts,
  type ConsistencyView,
} from "../metrics/view-consistency.ts";
import { render } from "../render/render.ts";
import { Segmenter, PARTS_METHOD, resizeLabels, type SegmentTiming } from "../pipeline/segment.ts";
import { loadSceneFeatures } from "../train/semantic/features.ts";

/** Options of {@link evaluate}. */
export interface EvalOptions {
  /** Checkpoint (default: the committed lite checkpoint). */
  model?: string;
  data: string;
  split?: "test" | "train" | "all";
  threads?: number;
  /** Evaluate at most this many views per scene (quick checks; default all). */
  maxViews?: number;
  /** Only these scenes of the split (default: every scene of it). */
  scenes?: readonly string[];
}

/** One scene's view consistency (fractions), for per-scene figures. */
export interface SceneConsistency {
  scene: string;
  views: number;
  viewConsistency: number | null;
  gtCeiling: number | null;
}

/** Per-part milliseconds per frame (means over the timed views). */
export type EvalBreakdown = Omit<SegmentTiming, "total">;

/** The eval result (the `--json` object; ARCHITECTURE.md §5 fields first). */
export interface EvalResult {
  /** Semantic scores, percent (NaN-free: null when the checkpoint is a depth model). */
  mIoU: number | null;
  mAcc: number | null;
  oAcc: number | null;
  top20: { mIoU: number; mAcc: number; oAcc: number } | null;
  perClass: ClassScore[];
  fps: number;
  breakdown: EvalBreakdown;
  breakdownMethod: string;
  viewConsistency: number | null;
  gtCeiling: number | null;
  psnr: number | null;
  ssim: number | null;
  /** Depth checkpoints: Atlas's metrics, per-frame means. */
  depth?: DepthMetrics;
  absRel?: number;
  absDiff?: number;
  sqRel?: number;
  rmse?: number;
  logRmse?: number;
  delta1?: number;
  delta2?: number;
  delta3?: number;
  comp?: number;
  validPixels?: number;
  task: "semantic" | "depth";
  model: string;
  data: string;
  split: string;
  finetuneScene: string | null;
  scenes: string[];
  /** Per-scene view consistency (the pooled figures above weight scenes by their counted pixels). */
  perScene: SceneConsistency[];
  /** Pooled confusion matrix, row-major [K × (K + 1)] pixel counts (column K: predictions outside the table). */
  confusion: { numClasses: number; counts: number[] } | null;
  views: number;
  pixels: number;
  seconds: number;
}

/** Evaluate a checkpoint on a dataset. */
export async function evaluate(opts: EvalOptions): Promise<EvalResult> {
  const t0 = performance.now();
  if (!existsSync(join(opts.data, "dataset.json"))) throw new MissingFileError(join(opts.data, "dataset.json"), "not a dataset folder (no dataset.json)");
  const seg = Segmenter.load(opts.model);
  try {
    return await run(seg, opts, t0);
  } finally {
    seg.dispose();
  }
}

async function run(seg: Segmenter, opts: EvalOptions, t0: number): Promise<EvalResult> {
  const ds = readProjectDataset(opts.data);
  const classes = ds.dataset.classes;
  if (seg.task === "semantic" && (seg.classes.length !== classes.length || seg.classes.some((c, i) => c.name !== classes[i].name))) {
    throw new ConfigError("--data", `${opts.data}'s class table (${classes.length} classes) differs from the checkpoint's (${seg.classes.length})`);
  }
  const split = opts.split ?? "test";
  if (!["test", "train", "all"].includes(split)) throw new ConfigError("--split", `expected test, train or all, got "${split}"`);
  let jobs: { scene: Scene; views: number[] }[];
  if (seg.finetuneScene !== undefined) {
    const scene = [...ds.train, ...ds.test].find((s) => s.name === seg.finetuneScene);
    if (scene === undefined) throw new ConfigError("--data", `the checkpoint was fine-tuned on scene ${seg.finetuneScene}, which ${opts.data} does not hold`);
    jobs = [{ scene, views: scene.cameras.map((_, i) => i).filter(isNovelView) }];
  } else {
    const scenes = split === "test" ? ds.test : split === "train" ? ds.train : [...ds.train, ...ds.test];
    if (scenes.length === 0) throw new ConfigError("--split", `${opts.data} has no ${split} scenes`);
    jobs = scenes.map((scene) => ({ scene, views: scene.cameras.map((_, i) => i) }));
  }
  if (opts.scenes !== undefined) {
    const wanted = new Set(opts.scenes);
    for (const name of wanted) if (!jobs.some((j) => j.scene.name === name)) throw new ConfigError("scenes", `${opts.data} has no scene ${name} among the scenes evaluated (${jobs.map((j) => j.scene.name).join(", ")})`);
    jobs = jobs.filter((j) => wanted.has(j.scene.name));
  }
  if (opts.maxViews !== undefined) jobs = jobs.map((j) => ({ ...j, views: j.views.slice(0, opts.maxViews) }));
  const K = classes.length;
  const cm = new ConfusionMatrix(Math.max(1, K));
  const consistency = emptyConsistencyCounts();
  const perScene: SceneConsistency[] = [];
  const depthFrames: DepthMetrics[] = [];
  let psnrSum = 0,
    ssimSum = 0,
    imageViews = 0;
  const timing: EvalBreakdown = { render: 0, network: 0, rgbBranch: 0, featureBranch: 0, fusion: 0, decoder: 0 };
  let timed = 0;
  let totalViews = 0;
  const progress = createProgress("eval", jobs.reduce((s, j) => s + j.views.length, 0));
  try {
    for (const { scene, views } of jobs) {
      const sf = await loadSceneFeatures(scene.splatPath, scene.root, seg.featureSource, scene.name);
      seg.checkEncoder(sf.encoder, scene.name);
      const cv: ConsistencyView[] = [];
      for (const i of views) {
        const cam = scene.cameras[i];
        const out = await seg.segment(sf.cloud, cam, { features: { values: sf.features, channels: sf.channels }, threads: opts.threads });
        // The first view of the run pays the network's compile: it is not timed.
        if (totalViews > 0) {
          for (const k of Object.keys(timing) as (keyof EvalBreakdown)[]) timing[k] += out.timing[k];
          timed++;
        }
        totalViews++;
        const frame = scene.frames[i];
        const gtDepth = frame.depth !== undefined ? loadDepth(scene, i) : null;
        if (seg.task === "semantic" && frame.semantic !== undefined) {
          const gt = loadLabels(scene, i);
          const pred = resizeLabels(out.labels, out.width, out.height, cam.width, cam.height);
          cm.add(pred, gt);
          if (gtDepth !== null) cv.push({ camera: cam, depth: gtDepth, gt, pred });
        }
        if (seg.task === "depth" && gtDepth !== null && out.predictedDepth !== undefined) {
          depthFrames.push(depthMetrics(resizeLabels(out.predictedDepth, out.width, out.height, cam.width, cam.height), gtDepth));
        }
        if (frame.rgb !== undefined) {
          const gt = loadRgb(scene, i);
          let rgb = out.rgb;
          if (out.width !== cam.width || out.height !== cam.height) {
            const full = await render(sf.cloud, cam, { threads: opts.threads });
            rgb = full.rgb.map((v) => Math.min(1, Math.max(0, v)));
          }
          const img = { width: cam.width, height: cam.height, channels: 3, data: rgb };
          psnrSum += psnr(img, gt);
          ssimSum += ssim(img, gt);
          imageViews++;
        }
        progress.tick();
      }
      const sceneCounts = emptyConsistencyCounts();
      if (cv.length > 1) {
        const vis = viewVisibility(sf.cloud.positions, cv.map((v) => v.camera));
        viewConsistencyCounts(cv, { frustumIoU: (a, b) => frustumIoU(vis, a, b) }, sceneCounts);
        for (const k of Object.keys(sceneCounts) as (keyof typeof sceneCounts)[]) consistency[k] += sceneCounts[k];
      }
      const sr = sceneCounts.counted > 0 ? consistencyRatios(sceneCounts) : null;
      perScene.push({ scene: scene.name, views: views.length, viewConsistency: sr?.viewConsistency ?? null, gtCeiling: sr?.gtCeiling ?? null });
    }
  } finally {
    progress.done();
  }
  const n = Math.max(1, timed);
  const breakdown = Object.fromEntries(Object.entries(timing).map(([k, v]) => [k, v / n])) as EvalBreakdown;
  const frameMs = breakdown.render + breakdown.network;
  const ratios = consistency.counted > 0 ? consistencyRatios(consistency) : null;
  const result: EvalResult = {
    mIoU: null,
    mAcc: null,
    oAcc: null,
    top20: null,
    perClass: [],
    fps: frameMs > 0 ? 1000 / frameMs : 0,
    breakdown,
    breakdownMethod: PARTS_METHOD,
    viewConsistency: ratios?.viewConsistency ?? null,
    gtCeiling: ratios?.gtCeiling ?? null,
    psnr: imageViews > 0 ? psnrSum / imageViews : null,
    ssim: imageViews > 0 ? ssimSum / imageViews : null,
    task: seg.task,
    model: seg.path,
    data: opts.data,
    split: seg.finetuneScene !== undefined ? "novel-views" : split,
    finetuneScene: seg.finetuneScene ?? null,
    scenes: jobs.map((j) => j.scene.name),
    perScene,
    confusion: seg.task === "semantic" && cm.total() > 0 ? { numClasses: cm.numClasses, counts: Array.from(cm.counts) } : null,
    views: totalViews,
    pixels: cm.total(),
    seconds: 0,
  };
  if (seg.task === "semantic" && cm.total() > 0) {
    const m = segmentationMetrics(cm, { topK: 20, classNames: classes.map((c) => c.name) });
    const j = segmentationJson(m);
    result.mIoU = j.mIoU;
    result.mAcc = j.mAcc;
    result.oAcc = j.oAcc;
    result.top20 = { mIoU: m.top.mIoU, mAcc: m.top.mAcc, oAcc: m.top.oAcc };
    result.perClass = m.perClass;
  }
  if (seg.task === "depth" && depthFrames.length > 0) {
    const d = meanDepthMetrics(depthFrames);
    result.depth = d;
    Object.assign(result, d); // absRel, absDiff, sqRel, rmse, logRmse, delta1..3, comp, validPixels at top level too
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}
