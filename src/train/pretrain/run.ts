/**
 * The stage-1 training loop (METHOD.md §3, §10 decisions 14–16): draw a scene and one of its view pairs,
 * subsample at 0.05 m, augment both views, take an InfoNCE step with AdamW (lr 1e-3, weight decay 1e-5, clip
 * 1.0), checkpoint every N steps and at the end, resume from a checkpoint bit for bit, and keep the checkpoint
 * with the lowest held-out pair loss (pairs among the `splits.val` frames), stop cleanly at a time budget.
 *
 * Scenes are passed in memory (`PretrainScene`), so the loop is independent of the dataset reader; the CLI
 * adapts the project's datasets to it.
 */
import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { random, blockUntilReady } from "../../nn/jax.ts";
import { Rng } from "../../core/rng.ts";
import { ConfigError, InvalidFileError } from "../../core/errors.ts";
import type { Camera } from "../../core/camera.ts";
import { AdamW, type AdamWState } from "../../nn/optim.ts";
import { JsonlLogger } from "../../nn/train.ts";
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { disposeParams, refParams, type ParamTree } from "../../nn/params.ts";
import type { GaussianEncoderConfig } from "../../models/gaussian-encoder/config.ts";
import { GaussianEncoder, type GaussianEncoderParams } from "../../models/gaussian-encoder/encoder.ts";
import type { EncoderBnStates } from "../../models/gaussian-encoder/block.ts";
import type { EncoderInputSource } from "../../models/gaussian-encoder/input.ts";
import { saveEncoderCheckpoint } from "../../models/gaussian-encoder/checkpoint.ts";
import { voxelSubsample, type RotationAxis } from "./augment.ts";
import { capPairPoints, type PairCapMode } from "./pair-cap.ts";
import { INFONCE_MAX_PAIRS, INFONCE_TEMPERATURE } from "./infonce.ts";
import { makePairSample } from "./pair.ts";
import { scenePairs, type TrainingPair } from "./pairs.ts";
import { disposePair, pairLoss, pairLossAndGradAsync, preparePair, type DevicePair } from "./step.ts";
import { bucketCapacities, maxCapacities, planCapacities, planEncoder, type PlanCapacities } from "../../models/gaussian-encoder/levels.ts";
import type { PairSample } from "./pair.ts";

/** One scene as the loop needs it. */
export interface PretrainScene {
  name: string;
  cloud: EncoderInputSource;
  cameras: readonly Camera[];
  /** Frames whose pairs train (the novel-view train frames). */
  trainViews: readonly number[];
  /** Frames whose pairs measure the held-out loss (`splits.val`: index % 8 == 0). */
  valViews: readonly number[];
}

/** Loop settings; defaults are the paper's where it has one. */
export interface PretrainOptions {
  config: GaussianEncoderConfig;
  /** Total steps (a resumed run counts from its checkpoint's step). Default: 100 epochs of the train pairs. */
  steps?: number;
  /** The best checkpoint (by held-out loss); the training state goes to `lastPath` (default `lastPathOf(out)`). */
  out: string;
  lastPath?: string;
  seed?: number;
  lr?: number;
  weightDecay?: number;
  clip?: number;
  tau?: number;
  maxPairs?: number;
  subsampleVoxel?: number;
  /**
   * Most encoder rows of a pair (both views together). When the subsampled views hold more, a seeded uniform
   * subset of the subsampled scene is kept so they fit: a memory bound (jax-js's wasm heap is 4 GiB), not in
   * the paper. Default: no cap.
   */
  maxPoints?: number;
  /** How `maxPoints` is met (pair-cap.ts): `thin` (default) a uniform subset, `crop` a ball at full density. */
  pairCap?: PairCapMode;
  /** Axis of the augmentation's rotation (augment.ts): `random` (default, the paper's) or a world axis. */
  rotationAxis?: RotationAxis;
  /** Checkpoint and held-out evaluation every this many steps (default 100). */
  checkpointEvery?: number;
  /** Held-out pairs evaluated per evaluation, spread round-robin over the scenes (default 8). */
  valPairs?: number;
  /** Continue from `lastPath` when it exists (else start afresh; `PretrainResult.resumedFrom` says which). */
  resume?: boolean;
  /** Stop (with a checkpoint and a held-out evaluation) once this many milliseconds have passed in this call. */
  timeBudgetMs?: number;
  /** Checked after every step; `true` stops like an exhausted time budget (tests, signals). */
  shouldStop?: (step: number) => boolean;
  /** JSONL log: `{step, loss, seconds}` per step and `{step, valLoss}` per evaluation; a resume keeps earlier lines. */
  log?: string;
  /**
   * Compile each step's loss and gradient with jax-js `jit` (see `PairLossOptions.jit`). Default true; `false`
   * runs op by op (slower, and its heap grows with the pair size much faster).
   */
  jit?: boolean;
  /** Progress callback after each step. */
  onStep?: (step: number, loss: number) => void;
  /** Called once before the first step with the resolved step count and the step it starts from. */
  onStart?: (info: { steps: number; startStep: number; trainPairs: number; valPairs: number }) => void;
}

/** What a run returns. */
export interface PretrainResult {
  /** The step reached (including the steps of a resumed checkpoint). */
  steps: number;
  /** Steps the run was asked for. */
  targetSteps: number;
  /** Mean training loss over the last up-to-10 steps of this call (NaN when it took none). */
  loss: number;
  /** Held-out losses by step (this call's evaluations). */
  val: { step: number; loss: number }[];
  /** Step and loss of the best checkpoint so far (over the resumed run too); null without held-out pairs. */
  bestStep: number | null;
  bestLoss: number | null;
  /** Whether the time budget or `shouldStop` ended the run before `targetSteps`. */
  stoppedEarly: boolean;
  /** The checkpoint this call resumed from, if any. */
  resumedFrom: string | null;
  /** Steps taken in this call and their mean wall time (s). */
  stepsThisRun: number;
  secondsPerStep: number;
  out: string;
  lastPath: string;
}

/** Where the training state of `out` goes: `x.safetensors` → `x.last.safetensors` (else `out + ".last"`). */
export function lastPathOf(out: string): string {
  return out.endsWith(".safetensors") ? `${out.slice(0, -".safetensors".length)}.last.safetensors` : `${out}.last`;
}

/** Default step count: the paper's 100 epochs of one pair per step over every training pair. */
export const PRETRAIN_EPOCHS = 100;

/**
 * Run (or resume) pre-training. The held-out pairs are a fixed, seeded selection with fixed augmentation, so
 * their loss is comparable across evaluations.
 *
 * Files: `out` is the best checkpoint by held-out loss (weights, BatchNorm statistics, step; what `rtgs2 encode`
 * and `rtgs2 export` read), `lastPath` the full training state (plus AdamW moments and the RNG) that `resume`
 * continues from. Without held-out pairs `out` gets the last state's weights at every checkpoint.
 */
export async function runPretrain(scenes: readonly PretrainScene[], options: PretrainOptions): Promise<PretrainResult> {
  if (scenes.length === 0) throw new ConfigError("data", "no training scenes");
  if (options.steps !== undefined && (!Number.isInteger(options.steps) || options.steps < 0)) {
    throw new ConfigError("steps", `must be a non-negative integer, got ${options.steps}`);
  }
  const seed = options.seed ?? 0;
  const every = options.checkpointEvery ?? 100;
  if (!Number.isInteger(every) || every < 1) throw new ConfigError("checkpointEvery", `must be a positive integer, got ${every}`);
  const tau = options.tau ?? INFONCE_TEMPERATURE;
  const maxPairs = options.maxPairs ?? INFONCE_MAX_PAIRS;
  const voxel = options.subsampleVoxel ?? 0.05;
  const maxPoints = options.maxPoints;
  if (maxPoints !== undefined && (!Number.isInteger(maxPoints) || maxPoints < 2)) throw new ConfigError("maxPoints", `must be an integer ≥ 2, got ${maxPoints}`);
  const lastPath = options.lastPath ?? lastPathOf(options.out);
  if (lastPath === options.out) throw new ConfigError("out", `the last-state path must differ from the best checkpoint ${options.out}`);
  const encoder = new GaussianEncoder(options.config);
  const opt = new AdamW({ weightDecay: options.weightDecay ?? 1e-5, maxGradNorm: options.clip ?? 1 });
  const lr = options.lr ?? 1e-3;
  const jit = options.jit ?? true;
  // The settings a resume must share with the run it continues (the step count and time budget may change).
  const settings = { seed, lr, weightDecay: options.weightDecay ?? 1e-5, clip: options.clip ?? 1, tau, maxPairs, voxel, maxPoints: maxPoints ?? 0, pairCap: options.pairCap ?? "thin", rotationAxis: options.rotationAxis ?? "random" };
  // Settings added after the first checkpoints were written, with the value those runs used.
  const settingDefaults: Record<string, number | string> = { pairCap: "thin", rotationAxis: "random" };

  const sampleOptions = { maxPairs, augment: { rotationAxis: settings.rotationAxis } };

  // Pairs per scene come from their own seeded stream, so they do not depend on the step count.
  const pairRng = new Rng(seed).fork("pairs");
  const trainPairs = scenes.map((s) => scenePairs(s.cloud.positions, s.cameras, pairRng, { views: s.trainViews }));
  const valPairs = scenes.map((s) => scenePairs(s.cloud.positions, s.cameras, pairRng, { views: s.valViews }));
  const usable = scenes.map((_, i) => i).filter((i) => trainPairs[i].length > 0);
  if (usable.length === 0) throw new ConfigError("data", "no scene has a view pair with frustum IoU in (0.3, 0.8)");
  const totalTrainPairs = trainPairs.reduce((a, l) => a + l.length, 0);
  const targetSteps = options.steps ?? PRETRAIN_EPOCHS * totalTrainPairs;
  // Held-out pairs round-robin over the scenes (pair 0 of every scene, then pair 1, …) so a few cover many rooms.
  const heldOut: { scene: number; pair: TrainingPair }[] = [];
  for (let k = 0, added = true; added; k++) {
    added = false;
    valPairs.forEach((list, si) => {
      if (k < list.length) {
        heldOut.push({ scene: si, pair: list[k] });
        added = true;
      }
    });
  }
  const valCount = Math.min(options.valPairs ?? 8, heldOut.length);

  let params: GaussianEncoderParams;
  let state: EncoderBnStates;
  let optState: AdamWState;
  let rng: Rng;
  let step = 0;
  let bestLoss = Infinity;
  let bestStep: number | null = null;
  let resumedFrom: string | null = null;
  if (options.resume === true && existsSync(lastPath)) {
    const ck = loadCheckpoint<GaussianEncoderParams, ParamTree>(lastPath, encoder.init(new Rng(0)), {
      buffers: encoder.initState() as ParamTree,
      optimizer: true,
    });
    if (JSON.stringify(ck.config) !== JSON.stringify(options.config)) {
      throw new InvalidFileError(lastPath, "was trained with a different encoder config");
    }
    if (ck.rng === undefined) throw new InvalidFileError(lastPath, "has no RNG state (not a training checkpoint)");
    if (ck.metadata.pretrain !== undefined) {
      const stored = { ...settingDefaults, ...(JSON.parse(ck.metadata.pretrain) as Record<string, number | string>) };
      for (const [k, v] of Object.entries(settings)) {
        if (stored[k] !== v) throw new ConfigError(k, `resuming ${lastPath} needs the run's ${k} ${stored[k]}, got ${v}`);
      }
    }
    params = ck.params;
    state = ck.buffers as EncoderBnStates;
    optState = ck.optimizer as AdamWState;
    rng = Rng.fromState(ck.rng);
    step = ck.step ?? 0;
    bestLoss = Number(ck.metadata.bestLoss ?? "Infinity");
    bestStep = ck.metadata.bestStep === undefined ? null : Number(ck.metadata.bestStep);
    resumedFrom = lastPath;
  } else {
    params = encoder.init(new Rng(seed).fork("init"));
    state = encoder.initState();
    optState = opt.init(params);
    rng = new Rng(seed).fork("steps");
  }
  const logger = options.log === undefined ? null : new JsonlLogger(options.log, resumedFrom === null ? {} : { resumeStep: step });

  // With a point cap every pair is padded to one fixed capacity set (one shape for the whole run: jax-js's wasm
  // heap reuses buffers only of the exact same size). The set comes from 8 seeded calibration pairs with 15 %
  // headroom at the finest level, more at coarser ones; a pair that still does not fit is thinned by 15 % and
  // prepared again.
  let capacities: PlanCapacities | undefined;
  const capMode = (sc: PretrainScene): { mode: PairCapMode; positions: Float32Array } => ({ mode: settings.pairCap, positions: sc.cloud.positions });
  if (maxPoints !== undefined) {
    const r = new Rng(seed).fork("capacities");
    const plans: PlanCapacities[] = [];
    for (let k = 0; k < 8; k++) {
      const si = usable[r.int(usable.length)];
      const sc = scenes[si];
      const pair = trainPairs[si][r.int(trainPairs[si].length)];
      const kept = capPairPoints(voxelSubsample(sc.cloud.positions, voxel, r), pair.visibleA, pair.visibleB, maxPoints, r, capMode(sc));
      const sample = makePairSample(sc.cloud, kept, pair.visibleA, pair.visibleB, r, sampleOptions);
      plans.push(planCapacities(planEncoder(sample.positions, options.config, { batch: sample.batch })));
    }
    const m = maxCapacities(plans);
    // Coarse levels hold few rows and vary most from pair to pair (a 5000-row pair overflowed a 320-row level-4
    // capacity with 459), while their padding costs little: more headroom the coarser the level.
    const grow = (v: number, level: number): number => Math.ceil(v * Math.min(2, 1.15 + 0.25 * level));
    capacities = bucketCapacities({ points: m.points.map(grow), voxels: m.voxels.map(grow), patches: m.patches }, { multiple: 64, clouds: 2 });
  }
  const preparedPair = (sc: PretrainScene, pair: TrainingPair, r: Rng, planRng: Rng | undefined): DevicePair => {
    let cap = maxPoints;
    for (let attempt = 0; ; attempt++) {
      const kept = capPairPoints(voxelSubsample(sc.cloud.positions, voxel, r), pair.visibleA, pair.visibleB, cap, r, capMode(sc));
      const sample: PairSample = makePairSample(sc.cloud, kept, pair.visibleA, pair.visibleB, r, sampleOptions);
      if (capacities === undefined) return preparePair(encoder, sample, planRng);
      try {
        return preparePair(encoder, sample, planRng, { capacities, correspondences: maxPairs });
      } catch (e) {
        if (!(e instanceof ConfigError) || attempt >= 8) throw e;
        cap = Math.floor(0.85 * Math.min(cap ?? Infinity, sample.n1 + sample.n2));
      }
    }
  };

  const heldOutLoss = async (): Promise<number> => {
    let sum = 0;
    for (let k = 0; k < valCount; k++) {
      const { scene, pair } = heldOut[k];
      const s = scenes[scene];
      const r = new Rng(seed).fork(`val${k}`);
      const dp = preparedPair(s, pair, r, undefined);
      sum += await pairLoss(encoder, refParams(params), refParams(state), dp, { train: false, tau, jit });
      disposePair(dp);
    }
    return sum / Math.max(1, valCount);
  };

  const val: { step: number; loss: number }[] = [];
  const metadata = (): Record<string, string> => ({
    bestLoss: String(bestLoss),
    seed: String(seed),
    pretrain: JSON.stringify(settings),
    ...(bestStep === null ? {} : { bestStep: String(bestStep) }),
  });
  const saveLast = (): void =>
    saveEncoderCheckpoint(lastPath, options.config, params, state, { optimizer: optState, step, rng: rng.getState(), metadata: metadata() });
  const saveBest = (): void => saveEncoderCheckpoint(options.out, options.config, params, state, { step, metadata: metadata() });
  const checkpoint = async (): Promise<void> => {
    // Saving reads synchronously, which jax-js refuses while an input is still being computed by the pool. The
    // parameters and moments are ready (`opt.step().ready()`); the BatchNorm statistics are outputs of the jitted
    // loss, which may finish after the loss that was read, so wait for them here.
    await blockUntilReady(state);
    if (valCount > 0) {
      const v = await heldOutLoss();
      val.push({ step, loss: v });
      logger?.log({ step, valLoss: v });
      if (v < bestLoss) {
        bestLoss = v;
        bestStep = step;
        saveBest();
      }
    } else {
      saveBest();
    }
    saveLast();
  };

  options.onStart?.({ steps: targetSteps, startStep: step, trainPairs: totalTrainPairs, valPairs: valCount });
  const recent: number[] = [];
  const t0 = performance.now();
  let taken = 0;
  let stoppedEarly = false;
  while (step < targetSteps) {
    const ts = performance.now();
    const si = usable[rng.int(usable.length)];
    const s = scenes[si];
    const pair = trainPairs[si][rng.int(trainPairs[si].length)];
    const dp = preparedPair(s, pair, rng, rng);
    const key = random.key(rng.int(2 ** 31));
    // Read asynchronously, so the kernels run on every pool thread; the update must finish before the next
    // synchronous read (a checkpoint) or the next pair's loss.
    const g = await pairLossAndGradAsync(encoder, refParams(params), state, dp, { train: true, key, tau, jit });
    disposePair(dp);
    state = g.state;
    const next = opt.step(params, g.grads, optState, lr);
    next.gradNorm.dispose();
    await next.ready();
    params = next.params;
    optState = next.state;
    step++;
    taken++;
    recent.push(g.loss);
    if (recent.length > 10) recent.shift();
    logger?.log({ step, loss: g.loss, seconds: (performance.now() - ts) / 1000 });
    options.onStep?.(step, g.loss);
    const stop =
      step < targetSteps &&
      ((options.timeBudgetMs !== undefined && performance.now() - t0 >= options.timeBudgetMs) || options.shouldStop?.(step) === true);
    if (step % every === 0 || step === targetSteps || stop) await checkpoint();
    if (stop) {
      stoppedEarly = true;
      break;
    }
  }
  // A run with nothing left to do (resumed at its target, or zero steps) still leaves both files behind.
  if (taken === 0 && (!existsSync(lastPath) || !existsSync(options.out))) await checkpoint();
  const seconds = (performance.now() - t0) / 1000;
  opt.dispose();
  const loss = recent.length > 0 ? recent.reduce((a, b) => a + b, 0) / recent.length : NaN;
  disposeParams(params);
  disposeParams(state as ParamTree);
  disposeParams(optState.m);
  disposeParams(optState.v);
  return {
    steps: step,
    targetSteps,
    loss,
    val,
    bestStep,
    bestLoss: bestStep === null ? null : bestLoss,
    stoppedEarly,
    resumedFrom,
    stepsThisRun: taken,
    secondsPerStep: taken > 0 ? seconds / taken : NaN,
    out: options.out,
    lastPath,
  };
}
