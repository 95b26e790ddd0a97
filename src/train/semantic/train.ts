/**
 * Stage-3 training of the VDVI network (issue 8 §3; METHOD.md §6–§8, §10 decisions 2, 13, 14, 16, 17):
 * - generalization over the train scenes' views except `splits.val` (index % 8 == 0), validated every epoch on
 *   those held-out views: AdamW lr 1e-4, wd 1e-4, clip 1.0, linear warm-up over 4 epochs then poly 0.9, batch 4,
 *   CE with ε 0.15 plus λ 0.4 · L_NC, all augmentations;
 * - fine-tuning (`finetune`) from a generalization checkpoint on one scene's train views (index % 8 != 0): no
 *   warm-up, ε 0, zoom-in only; its validation is on the scene's novel views and only reported (never used to
 *   pick a checkpoint, since those views are the test set);
 * - the depth task (MSE in metres, softplus head) and the ablations (`no-vi`, `no-rgb` change the network;
 *   `no-lsr` sets ε 0; `no-ceco` drops L_NC); `features: random:<seed>` trains on an untrained encoder's features.
 *
 * Every random choice derives from the seed and the step (epoch order, augmentation, dropout keys), so a run
 * stopped at any step (`minutes`, a kill) and resumed from its last checkpoint continues bit-identically.
 * Checkpoints: `out` is the last state (written every epoch and on stop, with AdamW moments, for `resume`);
 * `<out>.best.safetensors` is the best validation epoch (generalization only).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { numpy as np, random, blockUntilReady } from "../../nn/jax.ts";
import { ConfigError, MissingFileError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import { createProgress } from "../../core/progress.ts";
import { readProjectDataset, type ProjectDataset } from "../../datasets/project.ts";
import { isNovelView, type Scene } from "../../datasets/scene.ts";
import { AdamW, polySchedule, withWarmup, type AdamWState } from "../../nn/optim.ts";
import { refParams, disposeParams } from "../../nn/params.ts";
import { JsonlLogger, type Batch } from "../../nn/train.ts";
import { ConfusionMatrix, segmentationMetrics } from "../../metrics/segmentation.ts";
import { depthMetrics, meanDepthMetrics, type DepthMetrics } from "../../metrics/depth.ts";
import { vdviConfig, type VdviAblation, type VdviConfig } from "../../models/configs.ts";
import { VdviNet, type BnStates, type VdviParams } from "../../models/vdvi/index.ts";
import { CECO_LAMBDA, GENERALIZE_EPSILON, downsampleLabelsNearest, simplexEtf } from "../losses.ts";
import { augmentSample, type AugmentMode, type Sample } from "../augment.ts";
import { openRenderCache, viewToSample, type RenderCache } from "../render-cache.ts";
import type { FeatureSource } from "./features.ts";
import { loadVdviCheckpoint, saveVdviCheckpoint, type VdviCheckpointInfo } from "./checkpoint.ts";
import { EvalForward, TrainStep, disposeStates, refStates, type StepLosses } from "./step.ts";

/** `--ablate` values. */
export const ABLATIONS = ["no-vi", "no-rgb", "no-lsr", "no-ceco"] as const;
export type TrainAblation = (typeof ABLATIONS)[number];

/** Options of {@link trainSemantic}. */
export interface TrainOptions {
  /** Project-layout dataset folder. */
  data: string;
  /** Checkpoint path (the last state; the best goes to `<out>.best.safetensors`). */
  out: string;
  config?: string;
  /** Fine-tune on this scene, starting from `from`. */
  finetune?: string;
  /** Generalization checkpoint to start fine-tuning from (required with `finetune` unless resuming). */
  from?: string;
  task?: "semantic" | "depth";
  ablate?: TrainAblation;
  features?: FeatureSource;
  /** Epochs (the schedule's length); default 100 for generalization. */
  epochs?: number;
  /** Total steps instead of epochs (fine-tuning default 1000). */
  steps?: number;
  /** Stop cleanly (with a checkpoint) after this many minutes of training. */
  minutes?: number;
  batch?: number;
  lr?: number;
  width?: number;
  height?: number;
  seed?: number;
  resume?: boolean;
  /** JSONL log path. */
  log?: string;
  /** Render cache root (default `DATA/.cache/render`). */
  cacheDir?: string;
  /** Warm-up epochs of generalization (default 4, at most a quarter of the run). */
  warmupEpochs?: number;
  /** Stop after this many steps in this call (tests, debugging); the schedule is unchanged. */
  stopAfterSteps?: number;
  /** Render threads for building the cache. */
  threads?: number;
  /** Validation views per epoch at most (default all). */
  maxValViews?: number;
}

/** What a run reports (`--json`: `steps, loss, val{mIoU}`). */
export interface TrainResult {
  steps: number;
  /** Mean loss over the last epoch run (or the steps run since the last epoch start). */
  loss: number;
  val: { mIoU?: number; absRel?: number };
  epochs: number;
  totalSteps: number;
  imagesPerSecond: number;
  seconds: number;
  stopped: "done" | "minutes" | "stopAfterSteps";
  out: string;
  best: string | null;
  cacheBuilt: number;
  config: string;
  width: number;
  height: number;
}

/** `<out>.best.safetensors` next to `out`. */
export function bestPath(out: string): string {
  return out.replace(/(\.safetensors)?$/, ".best.safetensors");
}

interface ViewRef {
  cache: RenderCache;
  index: number;
}

/** A seed for jax's PRNG from (seed, step). */
function stepKey(seed: number, step: number): np.Array {
  return random.key(new Rng(seed).fork(`dropout-${step}`).int(2 ** 31 - 1));
}

/** Run (or resume) stage-3 training. */
export async function trainSemantic(opts: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const seed = opts.seed ?? 0;
  const task = opts.task ?? "semantic";
  const features: FeatureSource = opts.features ?? "encoded";
  const finetune = opts.finetune;
  if (!existsSync(join(opts.data, "dataset.json"))) throw new MissingFileError(join(opts.data, "dataset.json"), "not a dataset folder (no dataset.json)");
  const ds: ProjectDataset = readProjectDataset(opts.data);
  const classes = ds.dataset.classes;
  const batchSize = opts.batch ?? 4;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError("--batch", `must be a positive integer, got ${batchSize}`);
  const lrBase = opts.lr ?? 1e-4;
  if (!(lrBase > 0)) throw new ConfigError("--lr", `must be positive, got ${lrBase}`);
  if (opts.ablate !== undefined && !(ABLATIONS as readonly string[]).includes(opts.ablate)) {
    throw new ConfigError("--ablate", `expected one of ${ABLATIONS.join(", ")}, got "${opts.ablate}"`);
  }

  // Scenes and views.
  let trainScenes: Scene[];
  let valOf: (scene: Scene) => number[];
  let trainOf: (scene: Scene) => number[];
  if (finetune !== undefined) {
    const all = [...ds.train, ...ds.test];
    const scene = all.find((s) => s.name === finetune);
    if (scene === undefined) {
      throw new ConfigError("--finetune", `scene "${finetune}" is not in ${opts.data} (scenes: ${all.map((s) => s.name).join(", ")})`);
    }
    trainScenes = [scene];
    trainOf = (s) => s.split.train;
    valOf = (s) => s.split.test;
  } else {
    trainScenes = ds.train;
    if (trainScenes.length === 0) throw new ConfigError("--data", `${opts.data} has no train scenes`);
    const val = ds.dataset.splits.val ?? {};
    valOf = (s) => val[s.name] ?? s.cameras.map((_, i) => i).filter(isNovelView);
    trainOf = (s) => {
      const v = new Set(valOf(s));
      return s.cameras.map((_, i) => i).filter((i) => !v.has(i));
    };
  }

  // Config: from the base checkpoint (fine-tuning), from the resumed checkpoint, or a preset.
  const resume = opts.resume === true && existsSync(opts.out);
  if (opts.resume === true && !resume && finetune === undefined && opts.from === undefined) {
    // --resume with nothing to resume starts fresh (a scheduler can always pass --resume).
  }
  let base: ReturnType<typeof loadVdviCheckpoint> | null = null;
  if (resume) base = loadVdviCheckpoint(opts.out, { optimizer: true });
  else if (finetune !== undefined) {
    if (opts.from === undefined) throw new ConfigError("--from", "fine-tuning starts from a generalization checkpoint: pass --from CKPT");
    base = loadVdviCheckpoint(opts.from);
  }
  let config: VdviConfig;
  if (base !== null) {
    config = base.config;
    if (base.classes.length !== classes.length || base.classes.some((c, i) => c.name !== classes[i].name)) {
      throw new ConfigError("--data", `${opts.data}'s class table differs from the checkpoint's (${base.classes.length} classes)`);
    }
  } else {
    const netAblation: VdviAblation = opts.ablate === "no-vi" || opts.ablate === "no-rgb" ? opts.ablate : "none";
    const name = opts.config ?? "lite";
    const preset = vdviConfig(name);
    config = vdviConfig(name, {
      task,
      ablation: netAblation,
      numClasses: classes.length,
      width: opts.width ?? preset.width,
      height: opts.height ?? preset.height,
    });
    // L_NC's simplex ETF needs an embedding of at least K dimensions (tiny's 16 < 28 synthetic classes).
    if (task === "semantic" && opts.ablate !== "no-ceco" && config.decoderDim < classes.length) {
      config.decoderDim = Math.ceil(classes.length / 8) * 8;
    }
  }
  const W = config.width;
  const H = config.height;
  if ((opts.width !== undefined && opts.width !== W) || (opts.height !== undefined && opts.height !== H)) {
    throw new ConfigError("--size", `the checkpoint was trained at ${W}x${H}; fine-tuning and resuming keep its size`);
  }
  const epsilon = finetune !== undefined || opts.ablate === "no-lsr" ? 0 : GENERALIZE_EPSILON;
  const lambda = opts.ablate === "no-ceco" || task === "depth" ? 0 : CECO_LAMBDA;
  if (lambda > 0 && config.decoderDim < config.numClasses) {
    throw new ConfigError(
      "--ablate",
      `L_NC needs a decoder embedding of at least K = ${config.numClasses} dimensions and this network's is ${config.decoderDim}; pass --ablate no-ceco`,
    );
  }
  const augMode: AugmentMode = finetune !== undefined ? "finetune" : "generalize";
  const trainSettings: Record<string, unknown> = {
    data: ds.dataset.name,
    task: config.task,
    ablate: opts.ablate ?? "none",
    features,
    finetune: finetune ?? null,
    batch: batchSize,
    lr: lrBase,
    seed,
    epsilon,
    lambda,
    epochs: opts.epochs ?? null,
    steps: opts.steps ?? null,
  };
  if (resume && base?.train !== undefined) {
    for (const k of Object.keys(trainSettings)) {
      if (JSON.stringify(base.train[k]) !== JSON.stringify(trainSettings[k])) {
        throw new ConfigError("--resume", `${opts.out} was trained with ${k} = ${JSON.stringify(base.train[k])}, this run asks for ${JSON.stringify(trainSettings[k])}`);
      }
    }
  }

  // Render caches (built on first use).
  const cacheDir = opts.cacheDir ?? join(opts.data, ".cache", "render");
  const caches: { scene: Scene; cache: RenderCache }[] = [];
  let cacheBuilt = 0;
  let encoder: string | null = null;
  for (const scene of trainScenes) {
    const cache = await openRenderCache(scene, { cacheDir, width: W, height: H, features, threads: opts.threads });
    cacheBuilt += cache.built;
    if (encoder !== null && cache.parts.encoder !== encoder) {
      throw new ConfigError("--data", `scene ${scene.name}'s features come from encoder ${cache.parts.encoder}, another scene's from ${encoder}; re-encode the dataset`);
    }
    encoder = cache.parts.encoder;
    caches.push({ scene, cache });
  }
  const trainEncoder = encoder ?? "none";
  if (base !== null && base.encoder !== trainEncoder) {
    throw new ConfigError("--data", `the dataset's features come from encoder ${trainEncoder}, the checkpoint ${base.path} was trained on ${base.encoder}`);
  }
  const trainViews: ViewRef[] = caches.flatMap(({ scene, cache }) => trainOf(scene).map((index) => ({ cache, index })));
  let valViews: ViewRef[] = caches.flatMap(({ scene, cache }) => valOf(scene).map((index) => ({ cache, index })));
  if (opts.maxValViews !== undefined && opts.maxValViews < valViews.length) {
    // An evenly spaced subset, so every scene keeps some of its held-out views.
    const all = valViews;
    const m = opts.maxValViews;
    valViews = Array.from({ length: m }, (_, i) => all[Math.floor((i * all.length) / m)]);
  }
  if (trainViews.length === 0) throw new ConfigError("--data", "no training views");

  // Schedule.
  const stepsPerEpoch = Math.max(1, Math.floor(trainViews.length / batchSize));
  const totalSteps = opts.steps ?? (opts.epochs ?? (finetune !== undefined ? Math.ceil(1000 / stepsPerEpoch) : 100)) * stepsPerEpoch;
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new ConfigError("--epochs", `the run must have at least one step, got ${totalSteps}`);
  const epochs = Math.ceil(totalSteps / stepsPerEpoch);
  const warmupSteps = finetune !== undefined ? 0 : Math.min((opts.warmupEpochs ?? 4) * stepsPerEpoch, Math.floor(totalSteps / 4));
  const poly = polySchedule(lrBase, totalSteps, 0.9);
  const schedule = warmupSteps > 0 ? withWarmup(poly, warmupSteps) : poly;

  // Model and optimizer state.
  const net = new VdviNet(config);
  let params: VdviParams;
  let bn: BnStates;
  let optState: AdamWState;
  const opt = new AdamW({ weightDecay: 1e-4, maxGradNorm: 1.0 });
  let step = 0;
  let best: number | null = null;
  if (resume && base !== null) {
    params = base.params;
    bn = base.state;
    if (base.optimizer === undefined) throw new ConfigError("--resume", `${opts.out} has no optimizer state`);
    optState = base.optimizer;
    step = base.step;
    best = base.best;
  } else if (base !== null) {
    params = base.params;
    bn = base.state;
    optState = opt.init(params);
  } else {
    params = net.init(new Rng(seed).fork("vdvi-init"));
    bn = net.initState();
    optState = opt.init(params);
  }
  const info = (): VdviCheckpointInfo => {
    const i: VdviCheckpointInfo = {
      config,
      classes,
      encoder: trainEncoder,
      step,
      epoch: Math.floor(step / stepsPerEpoch),
      best,
      train: trainSettings,
      rng: new Rng(seed).getState(),
    };
    if (finetune !== undefined) i.finetuneScene = finetune;
    return i;
  };

  const K = config.numClasses;
  const E = config.decoderDim;
  const etfHost = task === "semantic" && lambda > 0 ? simplexEtf(E, K) : null;
  const trainStep = new TrainStep(net, { epsilon, lambda });
  const evalFwd = new EvalForward(net);
  const logger = opts.log !== undefined ? new JsonlLogger(opts.log, resume ? { resumeStep: step } : {}) : null;
  const h4 = Math.ceil(H / 4);
  const w4 = Math.ceil(W / 4);

  const makeBatch = (views: ViewRef[], s: number): Batch => {
    const samples: Sample[] = views.map((v, j) => augmentSample(viewToSample(v.cache.read(v.index)), augMode, new Rng(seed).fork(`aug-${s}-${j}`)));
    const C = samples[0].channels;
    const n = samples.length;
    const rgb = new Float32Array(n * H * W * 3);
    const feat = new Float32Array(n * H * W * C);
    samples.forEach((x, j) => {
      rgb.set(x.rgb, j * H * W * 3);
      feat.set(x.features, j * H * W * C);
    });
    const b: Batch = {
      rgb: np.array(rgb).reshape([n, H, W, 3]),
      features: np.array(feat).reshape([n, H, W, C]),
      key: stepKey(seed, s),
    };
    if (task === "depth") {
      const d = new Float32Array(n * H * W);
      samples.forEach((x, j) => d.set(x.depth, j * H * W));
      b.depth = np.array(d).reshape([n, H, W]);
    } else {
      const l = new Int32Array(n * H * W);
      samples.forEach((x, j) => l.set(x.labels, j * H * W));
      b.labels = np.array(l, { dtype: np.int32 }).reshape([n, H, W]);
      b.labels4 = np.array(downsampleLabelsNearest(l, n, H, W, h4, w4), { dtype: np.int32 }).reshape([n, h4, w4]);
      b.etf = np.array(etfHost ?? new Float32Array(E * K)).reshape([E, K]);
    }
    return b;
  };

  const validate = async (): Promise<{ mIoU?: number; absRel?: number }> => {
    if (valViews.length === 0) return {};
    const cm = new ConfusionMatrix(K === 1 ? 1 : K);
    const depths: DepthMetrics[] = [];
    for (const v of valViews) {
      const x = viewToSample(v.cache.read(v.index));
      const out = evalFwd.run(
        refParams(params),
        refStates(bn),
        np.array(x.rgb).reshape([1, H, W, 3]),
        np.array(x.features).reshape([1, H, W, x.channels]),
      );
      const host = (await out.data()) as Float32Array;
      if (task === "depth") depths.push(depthMetrics(host, x.depth));
      else cm.add(argmaxLabels(host, K), x.labels);
    }
    if (task === "depth") return { absRel: meanDepthMetrics(depths).absRel };
    return { mIoU: segmentationMetrics(cm).mIoU };
  };

  const save = (path: string, withOptimizer: boolean): void => {
    saveVdviCheckpoint(path, params, bn, info(), withOptimizer ? optState : undefined);
  };

  const stopAt = opts.stopAfterSteps !== undefined ? step + opts.stopAfterSteps : Infinity;
  let stopped: TrainResult["stopped"] = "done";
  let lastVal: { mIoU?: number; absRel?: number } = {};
  let epochLoss = 0;
  let lastLoss = Number.NaN;
  let epochSteps = 0;
  let images = 0;
  const tTrain = performance.now();
  // The time budget counts training (steps, validation, checkpoints), not the one-off render-cache build.
  const deadline = opts.minutes !== undefined ? tTrain + opts.minutes * 60_000 : Infinity;
  let failed = true;
  const progress = createProgress(finetune !== undefined ? `fine-tune ${finetune}` : "train", totalSteps);
  progress.update(step);
  try {
    while (step < totalSteps) {
      if (performance.now() >= deadline) {
        stopped = "minutes";
        break;
      }
      if (step >= stopAt) {
        stopped = "stopAfterSteps";
        break;
      }
      const epoch = Math.floor(step / stepsPerEpoch);
      const inEpoch = step % stepsPerEpoch;
      const order = new Rng(seed).fork(`epoch-${epoch}`).shuffle(trainViews.map((_, i) => i));
      const picks = Array.from({ length: batchSize }, (_, j) => trainViews[order[(inEpoch * batchSize + j) % order.length]]);
      const ts = performance.now();
      const batch = makeBatch(picks, step);
      const r = await trainStep.run(refParams(params), bn, batch);
      bn = r.state;
      const lr = schedule(step);
      const upd = opt.step(params, r.grads, optState, lr);
      params = upd.params;
      optState = upd.state;
      await upd.ready();
      await blockUntilReady(params);
      const gradNorm = (await upd.gradNorm.data())[0];
      step++;
      images += batchSize;
      const losses: StepLosses = r.losses;
      if (!Number.isFinite(losses.loss)) throw new ConfigError("training", `the loss became ${losses.loss} at step ${step}; lower --lr`);
      epochLoss += losses.loss;
      epochSteps++;
      const dt = (performance.now() - ts) / 1000;
      logger?.log({ step, epoch, loss: losses.loss, ce: losses.ce, nc: losses.nc, depth: losses.depth, lr, gradNorm, imagesPerSecond: batchSize / dt });
      progress.update(step);
      if (step % stepsPerEpoch === 0 || step === totalSteps) {
        lastVal = await validate();
        const score = lastVal.mIoU ?? (lastVal.absRel !== undefined ? -lastVal.absRel : undefined);
        const improved = score !== undefined && Number.isFinite(score) && (best === null || score > best);
        if (improved) best = score as number;
        logger?.log({ step, epoch: epoch + 1, trainLoss: epochLoss / epochSteps, ...numbers(lastVal) });
        if (improved && finetune === undefined) save(bestPath(opts.out), false);
        save(opts.out, true);
        lastLoss = epochLoss / epochSteps;
        epochLoss = 0;
        epochSteps = 0;
      }
    }
    failed = false;
  } finally {
    progress.done();
    // After an exception the arrays may be half-consumed: keep the last good checkpoint instead.
    if (!failed && (stopped !== "done" || step % stepsPerEpoch !== 0)) save(opts.out, true);
    trainStep.dispose();
    evalFwd.dispose();
    opt.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const trainSeconds = (performance.now() - tTrain) / 1000;
  const result: TrainResult = {
    steps: step,
    loss: epochSteps > 0 ? epochLoss / epochSteps : lastLoss,
    val: lastVal,
    epochs,
    totalSteps,
    imagesPerSecond: images / Math.max(trainSeconds, 1e-9),
    seconds,
    stopped,
    out: opts.out,
    best: finetune === undefined && existsSync(bestPath(opts.out)) ? bestPath(opts.out) : null,
    cacheBuilt,
    config: config.name,
    width: W,
    height: H,
  };
  disposeParams(params);
  disposeStates(bn);
  return result;
}

function numbers(v: { mIoU?: number; absRel?: number }): Record<string, number> {
  const out: Record<string, number> = {};
  if (v.mIoU !== undefined) out.valMIoU = v.mIoU;
  if (v.absRel !== undefined) out.valAbsRel = v.absRel;
  return out;
}

/** Per-pixel argmax over the last axis of `[P·K]` scores. */
export function argmaxLabels(scores: Float32Array, K: number): Uint16Array {
  const P = scores.length / K;
  const out = new Uint16Array(P);
  for (let p = 0; p < P; p++) {
    let bi = 0;
    let bv = scores[p * K];
    for (let k = 1; k < K; k++) {
      const v = scores[p * K + k];
      if (v > bv) {
        bv = v;
        bi = k;
      }
    }
    out[p] = bi;
  }
  return out;
}
