/** Normalization over the last (channel) axis: LayerNorm for NHWC maps and token matrices, and BatchNorm. */
import { numpy as np, lax } from "../jax.ts";
import type { Rng } from "../../core/rng.ts";
import { expectShape } from "../params.ts";
import { onesInit, zerosInit, type Layer, type MacCount } from "./common.ts";

/** Parameters of LayerNorm and BatchNorm: scale `weight [C]` and shift `bias [C]`. */
export type NormParams = { weight: np.Array; bias: np.Array };

/** LayerNorm over the last axis (channels of an NHWC map, or features of tokens); biased variance, as PyTorch. */
export class LayerNorm implements Layer<NormParams> {
  readonly eps: number;
  constructor(
    readonly path: string,
    readonly channels: number,
    options: { eps?: number } = {},
  ) {
    this.eps = options.eps ?? 1e-6;
  }

  init(_rng: Rng): NormParams {
    return { weight: onesInit([this.channels]), bias: zerosInit([this.channels]) };
  }

  apply(p: NormParams, x: np.Array): np.Array {
    expectShape(this.path, x.shape, [...x.shape.slice(0, -1).map(() => null), this.channels]);
    const mean = np.mean(x.ref, -1, { keepdims: true });
    const xc = x.sub(mean);
    const variance = np.mean(np.square(xc.ref), -1, { keepdims: true });
    const inv = np.reciprocal(np.sqrt(variance.add(this.eps)));
    return xc.mul(inv).mul(p.weight).add(p.bias);
  }

  macs(inputShape: readonly number[]): MacCount {
    const n = inputShape.reduce((a, b) => a * b, 1);
    // mean, centre, square, mean, scale, affine: about four multiply-adds per element.
    return { macs: 0, macsAll: 4 * n };
  }
}

/** BatchNorm running statistics (`[C]` each), kept apart from trainable parameters. */
export type BatchNormState = { runningMean: np.Array; runningVar: np.Array };

/** Result of a BatchNorm call: the output and the (possibly updated) running statistics. */
export interface BatchNormOutput {
  y: np.Array;
  state: BatchNormState;
}

/**
 * BatchNorm over every axis but the last. Training mode normalizes with the batch statistics (biased variance)
 * and updates the running ones as PyTorch does: `r ← (1 − momentum)·r + momentum·batch`, with the unbiased
 * variance. Eval mode normalizes with the running statistics and returns them unchanged.
 */
export class BatchNorm {
  readonly eps: number;
  readonly momentum: number;
  constructor(
    readonly path: string,
    readonly channels: number,
    options: { eps?: number; momentum?: number } = {},
  ) {
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
  }

  init(_rng: Rng): NormParams {
    return { weight: onesInit([this.channels]), bias: zerosInit([this.channels]) };
  }

  initState(): BatchNormState {
    return { runningMean: zerosInit([this.channels]), runningVar: onesInit([this.channels]) };
  }

  apply(p: NormParams, state: BatchNormState, x: np.Array, train: boolean): BatchNormOutput {
    expectShape(this.path, x.shape, [...x.shape.slice(0, -1).map(() => null), this.channels]);
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    if (!train) {
      const inv = np.reciprocal(np.sqrt(state.runningVar.ref.add(this.eps)));
      const y = x.sub(state.runningMean.ref).mul(inv).mul(p.weight).add(p.bias);
      return { y, state };
    }
    const count = x.size / this.channels;
    const mean = np.mean(x.ref, axes);
    const xc = x.sub(mean.ref);
    const variance = np.mean(np.square(xc.ref), axes);
    const inv = np.reciprocal(np.sqrt(variance.ref.add(this.eps)));
    const y = xc.mul(inv).mul(p.weight).add(p.bias);
    const m = this.momentum;
    const unbiased = variance.mul(count / Math.max(1, count - 1));
    // Running statistics are bookkeeping, not part of the loss: no gradient flows into them.
    const runningMean = state.runningMean.mul(1 - m).add(lax.stopGradient(mean).mul(m));
    const runningVar = state.runningVar.mul(1 - m).add(lax.stopGradient(unbiased).mul(m));
    return { y, state: { runningMean, runningVar } };
  }

  macs(inputShape: readonly number[]): MacCount {
    const n = inputShape.reduce((a, b) => a * b, 1);
    return { macs: 0, macsAll: 4 * n };
  }
}
