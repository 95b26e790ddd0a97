/**
 * The stage-1 training loop (METHOD.md §3, §10 decisions 14–16): draw a scene and one of its view pairs,
 * subsample at 0.05 m, augment both views, take an InfoNCE step with AdamW (lr 1e-3, weight decay 1e-5, clip
 * 1.0), checkpoint every N steps and at the end, resume from a checkpoint bit for bit, and keep the checkpoint
 * with the lowest held-out pair loss (pairs among the `splits.val` frames).
 *
 * Scenes are passed in memory (`PretrainScene`), so the loop is independent of the dataset reader; the CLI
 * adapts the project's datasets to it.
 */
import { existsSync } from "node:fs";
import { random } from "../../nn/jax.ts";
import { Rng, type RngState } from "../../core/rng.ts";
import { ConfigError, InvalidFileError } from "../../core/errors.ts";
import type { Camera } from "../../core/camera.ts";
import { AdamW, type AdamWState } from "../../nn/optim.ts";
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { disposeParams, refParams, type ParamTree } from "../../nn/params.ts";
import type { GaussianEncoderConfig } from "../../models/gaussian-encoder/config.ts";
import { GaussianEncoder, type GaussianEncoderParams } from "../../models/gaussian-encoder/encoder.ts";
import type { EncoderBnStates } from "../../models/gaussian-encoder/block.ts";
import type { EncoderInputSource } from "../../models/gaussian-encoder/input.ts";
import { saveEncoderCheckpoint } from "../../models/gaussian-encoder/checkpoint.ts";
import { voxelSubsample } from "./augment.ts";
import { INFONCE_MAX_PAIRS, INFONCE_TEMPERATURE } from "./infonce.ts";
import { makePairSample } from "./pair.ts";
import { scenePairs, type TrainingPair } from "./pairs.ts";
import { disposePair, pairLossAndGrad, preparePair } from "./step.ts";

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
  steps: number;
  /** Checkpoint path (the latest state; `best` goes to `<out>.best.safetensors` style path `bestPath`). */
  out: string;
  /** Where the best held-out checkpoint goes (default: `out` with `.best` before the extension). */
  bestPath?: string;
  seed?: number;
  lr?: number;
  weightDecay?: number;
  clip?: number;
  tau?: number;
  maxPairs?: number;
  subsampleVoxel?: number;
  /** Checkpoint and held-out evaluation every this many steps (default 100). */
  checkpointEvery?: number;
  /** Held-out pairs evaluated per evaluation (default 4). */
  valPairs?: number;
  /** Continue from `out` when it exists. */
  resume?: boolean;
  /** Progress callback after each step. */
  onStep?: (step: number, loss: number) => void;
}

/** What a run returns. */
export interface PretrainResult {
  steps: number;
  /** Mean training loss over the last up-to-10 steps. */
  loss: number;
  /** Held-out losses by step. */
  val: { step: number; loss: number }[];
  bestStep: number | null;
}

function bestPathOf(out: string): string {
  return out.endsWith(".safetensors") ? `${out.slice(0, -".safetensors".length)}.best.safetensors` : `${out}.best`;
}

/**
 * Run (or resume) pre-training. The held-out pairs are a fixed, seeded selection with fixed augmentation, so
 * their loss is comparable across evaluations.
 */
export function runPretrain(scenes: readonly PretrainScene[], options: PretrainOptions): PretrainResult {
  if (scenes.length === 0) throw new ConfigError("data", "no training scenes");
  if (!Number.isInteger(options.steps) || options.steps < 0) throw new ConfigError("steps", `must be a non-negative integer, got ${options.steps}`);
  const seed = options.seed ?? 0;
  const every = options.checkpointEvery ?? 100;
  const tau = options.tau ?? INFONCE_TEMPERATURE;
  const maxPairs = options.maxPairs ?? INFONCE_MAX_PAIRS;
  const voxel = options.subsampleVoxel ?? 0.05;
  const encoder = new GaussianEncoder(options.config);
  const opt = new AdamW({ weightDecay: options.weightDecay ?? 1e-5, maxGradNorm: options.clip ?? 1 });
  const lr = options.lr ?? 1e-3;

  // Pairs per scene come from their own seeded stream, so they do not depend on the step count.
  const pairRng = new Rng(seed).fork("pairs");
  const trainPairs = scenes.map((s) => scenePairs(s.cloud.positions, s.cameras, pairRng, { views: s.trainViews }));
  const valPairs = scenes.map((s) => scenePairs(s.cloud.positions, s.cameras, pairRng, { views: s.valViews }));
  const usable = scenes.map((_, i) => i).filter((i) => trainPairs[i].length > 0);
  if (usable.length === 0) throw new ConfigError("data", "no scene has a view pair with frustum IoU in (0.3, 0.8)");
  const heldOut: { scene: number; pair: TrainingPair }[] = [];
  valPairs.forEach((list, si) => list.forEach((pair) => heldOut.push({ scene: si, pair })));
  const valCount = Math.min(options.valPairs ?? 4, heldOut.length);

  let params: GaussianEncoderParams;
  let state: EncoderBnStates;
  let optState: AdamWState<GaussianEncoderParams>;
  let rng: Rng;
  let step = 0;
  let bestLoss = Infinity;
  let bestStep: number | null = null;
  if (options.resume === true && existsSync(options.out)) {
    const ck = loadCheckpoint<GaussianEncoderParams, ParamTree>(options.out, encoder.init(new Rng(0)), {
      buffers: encoder.initState() as ParamTree,
      optimizer: true,
    });
    if (JSON.stringify(ck.config) !== JSON.stringify(options.config)) {
      throw new InvalidFileError(options.out, "was trained with a different encoder config");
    }
    params = ck.params;
    state = ck.buffers as EncoderBnStates;
    optState = ck.optimizer as AdamWState<GaussianEncoderParams>;
    rng = Rng.fromState(ck.rng as RngState);
    step = ck.step ?? 0;
    bestLoss = Number(ck.metadata.bestLoss ?? "Infinity");
    bestStep = ck.metadata.bestStep === undefined ? null : Number(ck.metadata.bestStep);
  } else {
    params = encoder.init(new Rng(seed).fork("init"));
    state = encoder.initState();
    optState = opt.init(params);
    rng = new Rng(seed).fork("steps");
  }

  const heldOutLoss = (): number => {
    let sum = 0;
    for (let k = 0; k < valCount; k++) {
      const { scene, pair } = heldOut[k];
      const s = scenes[scene];
      const r = new Rng(seed).fork(`val${k}`);
      const sample = makePairSample(s.cloud, voxelSubsample(s.cloud.positions, voxel, r), pair.visibleA, pair.visibleB, r, { maxPairs });
      const dp = preparePair(encoder, sample);
      const g = pairLossAndGrad(encoder, refParams(params), refParams(state), dp, { train: false, tau });
      disposeParams(g.grads);
      disposeParams(g.state as ParamTree);
      disposePair(dp);
      sum += g.loss;
    }
    return sum / Math.max(1, valCount);
  };

  const save = (path: string): void =>
    saveEncoderCheckpoint(path, options.config, params, state, {
      optimizer: optState,
      step,
      rng: rng.getState(),
      metadata: { bestLoss: String(bestLoss), ...(bestStep === null ? {} : { bestStep: String(bestStep) }) },
    });

  const recent: number[] = [];
  const val: { step: number; loss: number }[] = [];
  while (step < options.steps) {
    const si = usable[rng.int(usable.length)];
    const s = scenes[si];
    const pair = trainPairs[si][rng.int(trainPairs[si].length)];
    const sample = makePairSample(s.cloud, voxelSubsample(s.cloud.positions, voxel, rng), pair.visibleA, pair.visibleB, rng, { maxPairs });
    const dp = preparePair(encoder, sample, rng);
    const key = random.key(rng.int(2 ** 31));
    const g = pairLossAndGrad(encoder, refParams(params), state, dp, { train: true, key, tau });
    disposePair(dp);
    state = g.state;
    const next = opt.step(params, g.grads, optState, lr);
    params = next.params;
    optState = next.state;
    step++;
    recent.push(g.loss);
    if (recent.length > 10) recent.shift();
    options.onStep?.(step, g.loss);
    if (step % every === 0 || step === options.steps) {
      if (valCount > 0) {
        const v = heldOutLoss();
        val.push({ step, loss: v });
        if (v < bestLoss) {
          bestLoss = v;
          bestStep = step;
          save(options.bestPath ?? bestPathOf(options.out));
        }
      }
      save(options.out);
    }
  }
  opt.dispose();
  const loss = recent.length > 0 ? recent.reduce((a, b) => a + b, 0) / recent.length : NaN;
  disposeParams(params);
  disposeParams(state as ParamTree);
  disposeParams(optState.m);
  disposeParams(optState.v);
  return { steps: step, loss, val, bestStep };
}
