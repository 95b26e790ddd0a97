/** Shared pieces of the VDVI tests: synthetic frames, device batches and a cross-entropy training loss. */
import { numpy as np } from "../../src/nn/jax.ts";
import { Rng } from "../../src/core/rng.ts";
import type { Batch } from "../../src/nn/train.ts";
import type { BnStates, VdviNet, VdviParams } from "../../src/models/vdvi/index.ts";

/** Classes of the synthetic frames (the tiny config's K). */
export const K = 4;

/** Release BatchNorm statistics a test does not keep. */
export function disposeState(s: BnStates): void {
  for (const v of Object.values(s)) {
    v.runningMean.dispose();
    v.runningVar.dispose();
  }
}

/**
 * One synthetic frame: a 4×6 grid of 8×8 cells, each with a random class, a random colour and a random
 * 32-dimensional feature vector (plus pixel noise), so the labels are learnable but not a function of one input.
 */
export function syntheticFrame(seed: number, H = 32, W = 48): Frame {
  const rng = new Rng(seed);
  const cols = W / 8;
  const cells = (H / 8) * cols;
  const cls = Array.from({ length: cells }, () => rng.int(K));
  const colour = Array.from({ length: cells }, () => [rng.uniform(), rng.uniform(), rng.uniform()]);
  const feat = Array.from({ length: cells }, () => rng.fillNormal(new Float32Array(32)));
  const rgb = new Float32Array(H * W * 3);
  const features = new Float32Array(H * W * 32);
  const labels = new Int32Array(H * W);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const c = Math.floor(y / 8) * cols + Math.floor(x / 8);
      const i = y * W + x;
      labels[i] = cls[c];
      for (let k = 0; k < 3; k++) rgb[i * 3 + k] = colour[c][k] + 0.05 * rng.normal();
      for (let k = 0; k < 32; k++) features[i * 32 + k] = feat[c][k] + 0.1 * rng.normal();
    }
  return { rgb, features, labels, H, W };
}

/** A host frame. */
export interface Frame {
  rgb: Float32Array;
  features: Float32Array;
  labels: Int32Array;
  H: number;
  W: number;
}

/** Frames stacked into a device batch. */
export function toBatch(...frames: Frame[]): Batch {
  const { H, W } = frames[0];
  const n = frames.length;
  const cat = (pick: (f: Frame) => Float32Array): Float32Array => {
    const out = new Float32Array(pick(frames[0]).length * n);
    frames.forEach((f, i) => out.set(pick(f), i * pick(f).length));
    return out;
  };
  const labels = new Int32Array(H * W * n);
  frames.forEach((f, i) => labels.set(f.labels, i * H * W));
  return {
    rgb: np.array(cat((f) => f.rgb)).reshape([n, H, W, 3]),
    features: np.array(cat((f) => f.features)).reshape([n, H, W, 32]),
    labels: np.array(labels, { dtype: np.int32 }).reshape([n, H, W]),
  };
}

/** Pixel-mean cross-entropy of a training-mode forward; BatchNorm statistics of the call are dropped. */
export function lossFor(net: VdviNet): (p: VdviParams, b: Batch) => np.Array {
  return (p, b) => {
    const state = net.initState();
    const out = net.apply(p, state, { rgb: b.rgb, features: b.features }, { train: true, key: b.key });
    out.z.dispose();
    disposeState(out.state);
    const logits = out.logits;
    const logp = logits.ref.sub(np.log(np.sum(np.exp(logits), -1, { keepdims: true })));
    const onehot = np.equal(b.labels.reshape([...b.labels.shape, 1]), np.arange(K).astype(np.int32)).astype(np.float32);
    return np.mean(np.sum(logp.mul(onehot), -1)).neg();
  };
}
