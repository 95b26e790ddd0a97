/**
 * Linear probe (issue 6 §5): does a per-Gaussian input carry the semantic class linearly? A multinomial
 * logistic regression (one softmax linear layer, plain JS) is trained on a class-balanced, seeded sample of the
 * train scenes' labelled Gaussians and scored on every labelled Gaussian of the test scenes with the project's
 * segmentation metrics (mIoU / mAcc / oAcc in percent, DATA.md §4).
 *
 * Inputs are standardized with the training sample's mean and standard deviation, so raw channels of very
 * different ranges (xyz in metres, opacity in [0, 1], log-scales) and unit-norm features train alike.
 * Training: Adam on the class-weighted cross-entropy (each class's weight ∝ 1 / its sample count, so a class
 * the sample could not fill still counts as much as the others) plus L2 on the weights, mini-batches drawn by a
 * seeded shuffle, learning rate decayed by a cosine schedule.
 */
import { join } from "node:path";
import { ConfigError, InvalidFileError, ShapeError } from "../core/errors.ts";
import { IGNORE_LABEL } from "../core/image.ts";
import { Rng } from "../core/rng.ts";
import { ConfusionMatrix, segmentationMetrics, type SegmentationMetrics } from "../metrics/segmentation.ts";
import type { GaussianCloud } from "../splat/cloud.ts";
import { loadSceneFeatures } from "../models/gaussian-encoder/scene-features.ts";
import { encodeInput } from "../models/gaussian-encoder/input.ts";
import { readProjectDataset } from "../datasets/project.ts";
import type { Scene } from "../datasets/scene.ts";
import { checkDatasetFolder } from "../train/pretrain/data.ts";

/** A trained probe: standardization, then logits = W·x + b. */
export interface LinearProbe {
  dim: number;
  numClasses: number;
  mean: Float32Array;
  /** 1 / standard deviation per input channel (1 for a constant channel). */
  invStd: Float32Array;
  /** `[dim·numClasses]` row-major by input channel. */
  weights: Float32Array;
  bias: Float32Array;
}

/** Options of `trainLinearProbe`. */
export interface ProbeTrainOptions {
  seed?: number;
  /** Passes over the sample (default 30). */
  epochs?: number;
  /** Mini-batch rows (default 256). */
  batch?: number;
  /** Adam peak learning rate (default 0.01). */
  lr?: number;
  /** L2 penalty on the weights (default 1e-4). */
  l2?: number;
}

/**
 * Per-class seeded subsample of the labelled rows: every class present gets up to ⌊maxSamples / C⌋ rows (C the
 * classes present), all of its rows when it has fewer. Rows whose label is the ignore label are skipped; any
 * other label outside 0..numClasses−1 is an error naming `source`. Returns ascending row indices.
 */
export function classBalancedSample(
  labels: ArrayLike<number>,
  numClasses: number,
  maxSamples: number,
  rng: Rng,
  source = "labels",
): Uint32Array {
  if (!Number.isInteger(maxSamples) || maxSamples < 1) throw new ConfigError("maxSamples", `must be a positive integer, got ${maxSamples}`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === IGNORE_LABEL) continue;
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new ConfigError(source, `label ${l} at row ${i} is neither ${IGNORE_LABEL} (ignore) nor in 0..${numClasses - 1}`);
    }
    byClass[l].push(i);
  }
  const present = byClass.filter((rows) => rows.length > 0).length;
  if (present === 0) return new Uint32Array(0);
  const quota = Math.max(1, Math.floor(maxSamples / present));
  const out: number[] = [];
  for (const rows of byClass) {
    if (rows.length <= quota) {
      out.push(...rows);
      continue;
    }
    // Partial Fisher–Yates: the first `quota` entries become a uniform subset.
    for (let i = 0; i < quota; i++) {
      const j = i + rng.int(rows.length - i);
      const t = rows[i];
      rows[i] = rows[j];
      rows[j] = t;
    }
    for (let i = 0; i < quota; i++) out.push(rows[i]);
  }
  return Uint32Array.from(out).sort();
}

/**
 * Train the probe on `[n·dim]` inputs `x` and labels `y` (every label in 0..numClasses−1). Deterministic for a
 * seed.
 */
export function trainLinearProbe(x: Float32Array, y: ArrayLike<number>, dim: number, numClasses: number, options: ProbeTrainOptions = {}): LinearProbe {
  const n = y.length;
  if (x.length !== n * dim) throw new ShapeError("trainLinearProbe", `x of [${n}·${dim}]`, `[${x.length}]`);
  if (n === 0) throw new ConfigError("probe", "no labelled training samples");
  const K = numClasses;
  const epochs = options.epochs ?? 30;
  const B = options.batch ?? 256;
  const lr0 = options.lr ?? 0.01;
  const l2 = options.l2 ?? 1e-4;
  const rng = new Rng(options.seed ?? 0).fork("probe");

  // Standardization.
  const mean = new Float32Array(dim);
  const invStd = new Float32Array(dim);
  const m64 = new Float64Array(dim);
  const v64 = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) m64[d] += x[i * dim + d];
  for (let d = 0; d < dim; d++) m64[d] /= n;
  for (let i = 0; i < n; i++)
    for (let d = 0; d < dim; d++) {
      const t = x[i * dim + d] - m64[d];
      v64[d] += t * t;
    }
  for (let d = 0; d < dim; d++) {
    mean[d] = m64[d];
    const sd = Math.sqrt(v64[d] / n);
    invStd[d] = sd > 1e-12 ? 1 / sd : 1;
  }
  const xs = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) xs[i * dim + d] = (x[i * dim + d] - mean[d]) * invStd[d];

  // Class weights: n / (C_present · n_c), so every present class carries the same total weight.
  const counts = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const l = y[i];
    if (!Number.isInteger(l) || l < 0 || l >= K) throw new ConfigError("labels", `label ${l} at row ${i} is not in 0..${K - 1}`);
    counts[l]++;
  }
  const present = counts.reduce((a, c) => a + (c > 0 ? 1 : 0), 0);
  const classWeight = Float64Array.from(counts, (c) => (c > 0 ? n / (present * c) : 0));

  const P = dim * K + K;
  const theta = new Float64Array(P);
  const grad = new Float64Array(P);
  const m = new Float64Array(P);
  const v = new Float64Array(P);
  const beta1 = 0.9,
    beta2 = 0.999,
    eps = 1e-8;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const logits = new Float64Array(K);
  const stepsPerEpoch = Math.ceil(n / B);
  const total = epochs * stepsPerEpoch;
  let t = 0;
  for (let e = 0; e < epochs; e++) {
    rng.shuffle(order);
    for (let s = 0; s < n; s += B) {
      const end = Math.min(n, s + B);
      grad.fill(0);
      let wsum = 0;
      for (let r = s; r < end; r++) {
        const i = order[r];
        const o = i * dim;
        let mx = -Infinity;
        for (let k = 0; k < K; k++) {
          let z = theta[dim * K + k];
          for (let d = 0; d < dim; d++) z += xs[o + d] * theta[d * K + k];
          logits[k] = z;
          if (z > mx) mx = z;
        }
        let se = 0;
        for (let k = 0; k < K; k++) {
          logits[k] = Math.exp(logits[k] - mx);
          se += logits[k];
        }
        const w = classWeight[y[i]];
        wsum += w;
        for (let k = 0; k < K; k++) {
          const g = w * (logits[k] / se - (k === y[i] ? 1 : 0));
          if (g === 0) continue;
          grad[dim * K + k] += g;
          for (let d = 0; d < dim; d++) grad[d * K + k] += g * xs[o + d];
        }
      }
      const inv = 1 / Math.max(wsum, 1e-12);
      t++;
      const lr = 0.5 * lr0 * (1 + Math.cos((Math.PI * (t - 1)) / total));
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      for (let p = 0; p < P; p++) {
        const g = grad[p] * inv + (p < dim * K ? l2 * theta[p] : 0);
        m[p] = beta1 * m[p] + (1 - beta1) * g;
        v[p] = beta2 * v[p] + (1 - beta2) * g * g;
        theta[p] -= (lr * (m[p] / c1)) / (Math.sqrt(v[p] / c2) + eps);
      }
    }
  }
  return {
    dim,
    numClasses: K,
    mean,
    invStd,
    weights: Float32Array.from(theta.subarray(0, dim * K)),
    bias: Float32Array.from(theta.subarray(dim * K)),
  };
}

/** Arg-max class of every `[dim]` row of `x` (ties to the lower class). */
export function predictLinearProbe(probe: LinearProbe, x: Float32Array): Uint16Array {
  const { dim, numClasses: K, mean, invStd, weights, bias } = probe;
  if (x.length % dim !== 0) throw new ShapeError("predictLinearProbe", `rows of ${dim}`, `[${x.length}]`);
  const n = x.length / dim;
  const out = new Uint16Array(n);
  const z = new Float64Array(K);
  const row = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) row[d] = (x[i * dim + d] - mean[d]) * invStd[d];
    let best = 0;
    for (let k = 0; k < K; k++) {
      let s = bias[k];
      for (let d = 0; d < dim; d++) s += row[d] * weights[d * K + k];
      z[k] = s;
      if (s > z[best]) best = k;
    }
    out[i] = best;
  }
  return out;
}

/** One scene as the probe sees it: per-Gaussian inputs (computed lazily, once) and labels. */
export interface ProbeScene {
  name: string;
  /** `[N]` class indices, IGNORE_LABEL for unlabelled Gaussians. */
  labels: ArrayLike<number>;
  /** `[N·dim]` inputs of every Gaussian of the scene. */
  inputs(): Float32Array;
}

/** Options of `runLinearProbe`. */
export interface RunProbeOptions extends ProbeTrainOptions {
  numClasses: number;
  /** Training rows over all train scenes (class-balanced; default 200 000). */
  maxSamples?: number;
  classNames?: readonly string[];
  /** Called after each scene's inputs are computed (phase "train" or "test"). */
  onScene?: (phase: "train" | "test", name: string) => void;
}

/** What a probe run reports. */
export interface ProbeResult {
  dim: number;
  trainSamples: number;
  /** Labelled test Gaussians evaluated. */
  testGaussians: number;
  /** oAcc (%) of the probe on its own training sample. */
  trainAccuracy: number;
  metrics: SegmentationMetrics;
  seconds: { inputs: number; train: number; total: number };
}

/**
 * Sample the train scenes (class-balanced over all of them), train the probe, and score it on every labelled
 * Gaussian of the test scenes. Each scene's `inputs()` is called once.
 */
export function runLinearProbe(train: readonly ProbeScene[], test: readonly ProbeScene[], options: RunProbeOptions): ProbeResult {
  if (train.length === 0) throw new ConfigError("data", "no train scenes for the probe");
  if (test.length === 0) throw new ConfigError("data", "no test scenes for the probe");
  const K = options.numClasses;
  const t0 = performance.now();
  let inputSeconds = 0;
  // Global class-balanced sample over the concatenated train labels.
  const offsets = [0];
  for (const s of train) offsets.push(offsets[offsets.length - 1] + s.labels.length);
  const all = new Uint16Array(offsets[offsets.length - 1]);
  train.forEach((s, si) => {
    for (let i = 0; i < s.labels.length; i++) all[offsets[si] + i] = s.labels[i];
  });
  const rng = new Rng(options.seed ?? 0).fork("probe-sample");
  const picked = classBalancedSample(all, K, options.maxSamples ?? 200_000, rng, "train labels");
  let dim = -1;
  let x = new Float32Array(0);
  const y = new Uint16Array(picked.length);
  let p = 0;
  train.forEach((s, si) => {
    const lo = offsets[si];
    const hi = offsets[si + 1];
    if (p >= picked.length || picked[p] >= hi) return;
    const ti = performance.now();
    const f = s.inputs();
    inputSeconds += (performance.now() - ti) / 1000;
    options.onScene?.("train", s.name);
    const d = f.length / s.labels.length;
    if (!Number.isInteger(d) || d < 1) throw new ShapeError(`probe inputs of ${s.name}`, `[${s.labels.length}·dim]`, `[${f.length}]`);
    if (dim === -1) {
      dim = d;
      x = new Float32Array(picked.length * dim);
    } else if (d !== dim) throw new ShapeError(`probe inputs of ${s.name}`, `${dim} channels`, `${d}`);
    for (; p < picked.length && picked[p] < hi; p++) {
      const i = picked[p] - lo;
      x.set(f.subarray(i * dim, (i + 1) * dim), p * dim);
      y[p] = all[picked[p]];
    }
  });
  if (picked.length === 0) throw new ConfigError("data", "the train scenes have no labelled Gaussians");
  const tt = performance.now();
  const probe = trainLinearProbe(x, y, dim, K, options);
  const trainSeconds = (performance.now() - tt) / 1000;
  const trainPred = predictLinearProbe(probe, x);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (trainPred[i] === y[i]) correct++;

  const cm = new ConfusionMatrix(K);
  let testGaussians = 0;
  for (const s of test) {
    const ti = performance.now();
    const f = s.inputs();
    inputSeconds += (performance.now() - ti) / 1000;
    options.onScene?.("test", s.name);
    if (f.length !== s.labels.length * dim) throw new ShapeError(`probe inputs of ${s.name}`, `[${s.labels.length}·${dim}]`, `[${f.length}]`);
    const gt = Uint16Array.from(s.labels);
    for (let i = 0; i < gt.length; i++) {
      if (gt[i] !== IGNORE_LABEL && gt[i] >= K) throw new ConfigError(`labels of ${s.name}`, `label ${gt[i]} at Gaussian ${i} is not in 0..${K - 1}`);
      if (gt[i] !== IGNORE_LABEL) testGaussians++;
    }
    cm.add(predictLinearProbe(probe, f), gt);
  }
  return {
    dim,
    trainSamples: y.length,
    testGaussians,
    trainAccuracy: (100 * correct) / y.length,
    metrics: segmentationMetrics(cm, { classNames: options.classNames }),
    seconds: { inputs: inputSeconds, train: trainSeconds, total: (performance.now() - t0) / 1000 },
  };
}

/** Where a probe's per-Gaussian inputs come from. */
export type ProbeInput =
  /** The 10-channel encoder input (xyz, base colour, opacity, log-scales). */
  | { kind: "raw" }
  /**
   * The stored `f_pc_*` features (ply extras or `features.safetensors`, via `loadSceneFeatures`). Every scene must
   * come from one encoder: `encoder` when given, else the first scene's; `encoderId()` reports it once read.
   */
  | { kind: "features"; encoder?: string }
  /** Features computed on the fly, e.g. a frozen encoder's `encodeCloud` (the scene gives its cameras). */
  | { kind: "encoder"; encode: (cloud: GaussianCloud, scene: Scene) => Float32Array };

/** Per-Gaussian class indices of a cloud's `label` extra (IGNORE_LABEL where unlabelled). */
export function cloudLabels(cloud: GaussianCloud, source: string): Uint16Array {
  const raw = cloud.extras.get("label");
  if (raw === undefined) throw new InvalidFileError(source, "has no per-Gaussian `label` property (the probe needs ground-truth labels)");
  const out = new Uint16Array(cloud.count);
  for (let i = 0; i < cloud.count; i++) {
    const v = raw[i];
    if (!Number.isInteger(v) || v < 0 || v > IGNORE_LABEL) throw new InvalidFileError(source, `label ${v} of Gaussian ${i} is not an integer in 0..${IGNORE_LABEL}`);
    out[i] = v;
  }
  return out;
}

/**
 * A scene's probe view: labels read now, inputs computed (from a fresh read of the splat) when asked.
 * `features.encoder` is filled with the first stored-feature scene's encoder id, so later scenes must match it.
 */
export function probeScene(scene: Scene, input: ProbeInput, features: { encoder?: string } = {}): ProbeScene {
  const labels = cloudLabels(scene.loadGaussians(), scene.splatPath);
  return {
    name: scene.name,
    labels,
    inputs: () => {
      if (input.kind === "features") {
        const expected = input.encoder ?? features.encoder;
        const f = loadSceneFeatures(scene, expected === undefined ? {} : { encoder: expected });
        features.encoder = f.encoder;
        return f.features;
      }
      const cloud = scene.loadGaussians();
      return input.kind === "raw" ? encodeInput(cloud) : input.encode(cloud, scene);
    },
  };
}

/** The train and test scenes of a project-layout dataset, with its class table. */
export function probeScenesFromDataset(
  dir: string,
  input: ProbeInput,
): { train: ProbeScene[]; test: ProbeScene[]; classNames: string[]; encoderId: () => string | undefined } {
  checkDatasetFolder(dir);
  const ds = readProjectDataset(dir);
  if (ds.dataset.classes.length === 0) throw new InvalidFileError(join(dir, "dataset.json"), "has no class table");
  const features: { encoder?: string } = {};
  return {
    train: ds.train.map((s) => probeScene(s, input, features)),
    test: ds.test.map((s) => probeScene(s, input, features)),
    classNames: ds.dataset.classes.map((c) => c.name),
    encoderId: () => features.encoder,
  };
}
