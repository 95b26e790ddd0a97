/**
 * The per-call state a VDVI forward pass threads through its modules: train/eval mode, BatchNorm running
 * statistics (read and replaced by path), and a PRNG key that is split for each dropout or drop-path site, so
 * a training step stays a pure function of (params, state, inputs, key).
 */
import { numpy as np, random } from "../../nn/jax.ts";
import { BatchNorm, dropPath, dropout, type BatchNormState, type NormParams } from "../../nn/layers/index.ts";
import { ConfigError } from "../../core/errors.ts";

/** BatchNorm running statistics of a network, keyed by the BatchNorm's dotted path. */
export type BnStates = { [path: string]: BatchNormState };

/** Mode and randomness of one forward call. */
export interface ForwardOptions {
  /** Training mode: batch statistics in BatchNorm, dropout and drop-path active. */
  train: boolean;
  /** PRNG key (`random.key(seed)`) for dropout and drop-path; required when training with non-zero rates. */
  key?: np.Array;
  /** Called with each stage's name and output shape (shape tests, debugging). */
  onStage?: (name: string, shape: number[]) => void;
}

/** Threads mode, BatchNorm statistics and the PRNG key through one forward call. */
export class ForwardContext {
  readonly train: boolean;
  readonly #states: BnStates;
  readonly #next: BnStates = {};
  #key: np.Array | null;
  readonly #onStage: ((name: string, shape: number[]) => void) | undefined;

  constructor(states: BnStates, options: ForwardOptions) {
    this.train = options.train;
    this.#states = states;
    this.#key = options.key ?? null;
    this.#onStage = options.onStage;
  }

  /** Apply a BatchNorm with its running statistics, recording the updated statistics. */
  batchNorm(layer: BatchNorm, p: NormParams, x: np.Array): np.Array {
    const s = this.#states[layer.path];
    if (s === undefined) throw new ConfigError(layer.path, "no BatchNorm running statistics in the state");
    const { y, state } = layer.apply(p, s, x, this.train);
    this.#next[layer.path] = state;
    return y;
  }

  /** A fresh key for one random site (splitting the running key), or null when not training. */
  #subkey(where: string): np.Array {
    if (this.#key === null) throw new ConfigError(where, "training with dropout needs a PRNG key (options.key)");
    const both = random.split(this.#key, 2);
    this.#key = both.ref.slice(0);
    return both.slice(1);
  }

  /** Element-wise dropout, identity in eval mode or at rate 0 (no key consumed then). */
  dropout(x: np.Array, rate: number, where: string): np.Array {
    if (!this.train || rate === 0) return x;
    return dropout(x, rate, this.#subkey(where), true);
  }

  /** Channel dropout (Dropout2d) on an NHWC map: one keep/drop draw per sample and channel. */
  dropChannels(x: np.Array, rate: number, where: string): np.Array {
    if (!this.train || rate === 0) return x;
    const [N, , , C] = x.shape;
    const keep = random.bernoulli(this.#subkey(where), 1 - rate, [N, 1, 1, C]);
    return np.where(keep, x.mul(1 / (1 - rate)), 0);
  }

  /** Stochastic depth on a residual branch, identity in eval mode or at rate 0. */
  dropPath(x: np.Array, rate: number, where: string): np.Array {
    if (!this.train || rate === 0) return x;
    return dropPath(x, rate, this.#subkey(where), true);
  }

  /** Report a stage's output shape to the caller's hook. */
  stage(name: string, x: np.Array): void {
    this.#onStage?.(name, [...x.shape]);
  }

  /**
   * The BatchNorm statistics after the call: updated ones for the BatchNorms that ran, and the inputs passed
   * through for any that did not. Releases the unused remainder of the PRNG key.
   */
  finish(): BnStates {
    this.#key?.dispose();
    this.#key = null;
    const out: BnStates = {};
    for (const [path, s] of Object.entries(this.#states)) out[path] = this.#next[path] ?? s;
    return out;
  }
}

/** Cost of a module call plus the output shape, for the FLOP counter's shape propagation. */
export function prod(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
