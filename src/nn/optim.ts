/**
 * AdamW with decoupled weight decay and bias correction, global-norm gradient clipping, and learning-rate
 * schedules (linear warm-up, poly decay, cosine). `@jax-js/optax` is not on npm, so these are ours (ENGINE.md
 * rule 5); they follow PyTorch's `AdamW` and `clip_grad_norm_` step for step.
 */
import { numpy as np, jit, blockUntilReady, type OwnedFunction } from "./jax.ts";
import { ConfigError } from "../core/errors.ts";
import { concatLeaves, flattenParams, isFrozen, mapParams, splitLeaves, type ParamTree } from "./params.ts";

/** AdamW hyper-parameters (PyTorch defaults except weight decay, which SegFormer-style training sets to 0.01). */
export interface AdamWConfig {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Clip the global gradient norm to this value before the update; undefined or Infinity = no clipping. */
  maxGradNorm?: number;
  /** Which leaves receive weight decay (default: tensors of rank ≥ 2, i.e. not biases or norm scales). */
  decay?: (path: string, shape: readonly number[]) => boolean;
  /** Dotted prefixes of frozen sub-trees: never updated, moments untouched. */
  frozen?: readonly string[];
}

/** Optimizer state: first and second moments (one flat vector each) and the number of steps taken. */
export interface AdamWState {
  step: number;
  /**
   * First and second moments of every leaf, concatenated in `flattenParams` order (`concatLeaves`; frozen leaves
   * included, never updated). Flat because the update then runs as a few kernels over one vector instead of ~20
   * per leaf: lite's 276 leaves took 330–530 ms a step as a tree, 14 ms flat (one thread, 2026-11-25).
   */
  m: np.Array;
  v: np.Array;
}

/** The result of one optimizer step. */
export interface StepResult<P extends ParamTree> {
  params: P;
  state: AdamWState;
  /**
   * Global L2 norm of the gradient before clipping: a device scalar the caller owns (read it with `await
   * .data()`, or dispose it). Not read here, so a step never forces a synchronous read of asynchronous work.
   */
  gradNorm: np.Array;
  /**
   * Resolves once the update has run and every leaf of `params` is realized, so they can be read synchronously.
   * Asynchronous loops await it before reading `params` and before passing `state` on: the leaves are lazy
   * slices of one pending vector, and jax-js realizes such slices one by one through the pending update
   * (measured: 190 ms for lite's 276 leaves against 49 ms after waiting for the update).
   */
  ready(): Promise<void>;
}

/** Global L2 norm of a gradient tree: √(Σ g²) over every leaf. Consumes nothing. */
export function globalNorm(grads: ParamTree): np.Array {
  let total: np.Array | null = null;
  for (const [, g] of flattenParams(grads)) {
    const s = np.sum(np.square(g.ref));
    total = total === null ? s : total.add(s);
  }
  return np.sqrt(total ?? np.array(0));
}

/**
 * Scale a gradient tree so its global norm is at most `maxNorm` (PyTorch: factor `min(1, maxNorm / (norm +
 * 1e-6))`). Consumes `grads`; returns the clipped tree and the pre-clip norm.
 */
export function clipByGlobalNorm<P extends ParamTree>(grads: P, maxNorm: number): { grads: P; norm: np.Array } {
  const norm = globalNorm(grads);
  const factor = np.minimum(np.reciprocal(norm.ref.add(1e-6)).mul(maxNorm), 1);
  const clipped = mapParams(grads, (g) => g.mul(factor.ref));
  factor.dispose();
  return { grads: clipped, norm };
}

/**
 * AdamW. The update runs as one jitted function over the whole tree (compiled once per parameter layout);
 * the learning rate and bias corrections enter as array arguments, so a changing schedule never recompiles.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly maxGradNorm: number;
  readonly frozen: readonly string[];
  readonly decay: (path: string, shape: readonly number[]) => boolean;
  #update: OwnedFunction<(...args: never[]) => unknown> | null = null;
  #masks: { key: string; live: np.Array; decay: np.Array } | null = null;

  constructor(config: AdamWConfig = {}) {
    this.beta1 = config.beta1 ?? 0.9;
    this.beta2 = config.beta2 ?? 0.999;
    this.eps = config.eps ?? 1e-8;
    this.weightDecay = config.weightDecay ?? 0.01;
    this.maxGradNorm = config.maxGradNorm ?? Infinity;
    this.frozen = config.frozen ?? [];
    this.decay = config.decay ?? ((_path, shape) => shape.length >= 2);
    for (const [name, v] of [
      ["beta1", this.beta1],
      ["beta2", this.beta2],
    ] as const) {
      if (!(v >= 0 && v < 1)) throw new ConfigError(`adamw.${name}`, `must be in [0, 1), got ${v}`);
    }
    if (!(this.maxGradNorm > 0)) throw new ConfigError("adamw.maxGradNorm", `must be positive, got ${this.maxGradNorm}`);
  }

  /** Zero moments for a parameter tree (flat, in the leaves' dtype). */
  init(params: ParamTree): AdamWState {
    const leaves = flattenParams(params);
    const n = leaves.reduce((acc, [, p]) => acc + p.size, 0);
    const dtype = leaves[0]?.[1].dtype;
    return { step: 0, m: np.zeros([n], { dtype }), v: np.zeros([n], { dtype }) };
  }

  /**
   * One step at learning rate `lr`: clip, update moments, decay, apply. Consumes `params`, `grads` and the
   * moments in `state`.
   */
  step<P extends ParamTree>(params: P, grads: np.Array, state: AdamWState, lr: number): StepResult<P> {
    const t = state.step + 1;
    const scalars = np.array(new Float32Array([lr, 1 / (1 - this.beta1 ** t), 1 / (1 - this.beta2 ** t)]));
    const masks = this.#masksFor(params);
    const fn = (this.#update ??= jit((p: P, g: np.Array, m: np.Array, v: np.Array, s: np.Array, live: np.Array, decay: np.Array) =>
      this.#apply(p, g, m, v, s, live, decay),
    )) as unknown as (p: P, g: np.Array, m: np.Array, v: np.Array, s: np.Array, live: np.Array, decay: np.Array) => np.Array[];
    const [flat, newM, newV, norm] = fn(params, grads, state.m, state.v, scalars, masks.live.ref, masks.decay.ref);
    // The update returns four flat vectors (every output of a jitted call costs ~1.5 ms); cutting the new
    // parameters into leaves outside it is a millisecond of lazy slices. `params` gives only the layout here:
    // its arrays were consumed by the call, their shapes remain.
    // `ready` first waits on the moments, which come from the same compiled update as `flat`, so the update runs
    // as one program before any leaf is read; then on the leaves themselves, because a jitted program's outputs
    // finish in any order and finished moments do not mean a finished parameter vector.
    const leaves = splitLeaves(flat, params);
    const ready = async (): Promise<void> => {
      await blockUntilReady([newM, newV]);
      await blockUntilReady(leaves);
    };
    return { params: leaves, state: { step: t, m: newM, v: newV }, gradNorm: norm, ready };
  }

  /** Release the compiled update and the cached masks. */
  dispose(): void {
    this.#update?.dispose();
    this.#update = null;
    this.#disposeMasks();
  }

  #disposeMasks(): void {
    this.#masks?.live.dispose();
    this.#masks?.decay.dispose();
    this.#masks = null;
  }

  /**
   * Per-value masks over the flat vector, cached per tree layout: `live` is 1 outside frozen sub-trees, `decay`
   * is 1 where weight decay applies (and the leaf is live). Host-built once, passed to the update as arguments.
   */
  #masksFor(params: ParamTree): { live: np.Array; decay: np.Array } {
    const leaves = flattenParams(params);
    const key = leaves.map(([path, p]) => `${path}:${p.shape.join("x")}`).join(",");
    if (this.#masks !== null && this.#masks.key === key) return this.#masks;
    this.#disposeMasks();
    const n = leaves.reduce((acc, [, p]) => acc + p.size, 0);
    const live = new Float32Array(n);
    const decay = new Float32Array(n);
    let offset = 0;
    for (const [path, p] of leaves) {
      const isLive = !isFrozen(path, this.frozen);
      if (isLive) live.fill(1, offset, offset + p.size);
      if (isLive && this.weightDecay > 0 && this.decay(path, p.shape)) decay.fill(1, offset, offset + p.size);
      offset += p.size;
    }
    const dtype = leaves[0]?.[1].dtype;
    this.#masks = { key, live: np.array(live).astype(dtype), decay: np.array(decay).astype(dtype) };
    return this.#masks;
  }

  #apply(params: ParamTree, grads: np.Array, m: np.Array, v: np.Array, s: np.Array, live: np.Array, decay: np.Array): np.Array[] {
    const [lr, c1, c2] = [0, 1, 2].map((i) => s.ref.slice(i));
    s.dispose();
    const p = concatLeaves(params);
    // Frozen values neither count towards the clipping norm nor move; their moments are kept as they were.
    const g0 = grads.mul(live.ref);
    const { grads: g, norm } = Number.isFinite(this.maxGradNorm) ? clipByGlobalNorm(g0, this.maxGradNorm) : { grads: g0, norm: globalNorm(g0) };
    const isLive = np.greater(live.ref, 0);
    const m1 = np.where(isLive.ref, m.ref.mul(this.beta1).add(g.ref.mul(1 - this.beta1)), m);
    const v1 = np.where(isLive, v.ref.mul(this.beta2).add(np.square(g).mul(1 - this.beta2)), v);
    const decayed = this.weightDecay > 0 ? p.ref.sub(p.mul(lr.ref.mul(this.weightDecay)).mul(decay)) : (decay.dispose(), p);
    const denom = np.sqrt(v1.ref.mul(c2)).add(this.eps);
    const upd = m1.ref.mul(c1).div(denom).mul(lr).mul(live);
    return [decayed.sub(upd), m1, v1, norm];
  }
}

/** A learning-rate schedule: step index (0-based) → learning rate. */
export type Schedule = (step: number) => number;

/** Constant learning rate. */
export function constantSchedule(lr: number): Schedule {
  return () => lr;
}

/** Poly decay: `(base − end)·(1 − t/T)^power + end`, power 0.9 by default (SegFormer); `end` after T. */
export function polySchedule(base: number, totalSteps: number, power = 0.9, end = 0): Schedule {
  if (!(totalSteps > 0)) throw new ConfigError("schedule.totalSteps", `must be positive, got ${totalSteps}`);
  return (t) => (base - end) * Math.pow(1 - Math.min(t, totalSteps) / totalSteps, power) + end;
}

/** Cosine decay from `base` to `end` over T steps. */
export function cosineSchedule(base: number, totalSteps: number, end = 0): Schedule {
  if (!(totalSteps > 0)) throw new ConfigError("schedule.totalSteps", `must be positive, got ${totalSteps}`);
  return (t) => end + 0.5 * (base - end) * (1 + Math.cos((Math.PI * Math.min(t, totalSteps)) / totalSteps));
}

/**
 * Linear warm-up over the first `warmupSteps` steps: the inner schedule's rate times a factor rising linearly
 * from `startFactor` (1e-3) at step 0 to 1 at `warmupSteps` (mmseg's linear warm-up).
 */
export function withWarmup(inner: Schedule, warmupSteps: number, startFactor = 1e-3): Schedule {
  return (t) => {
    if (t >= warmupSteps) return inner(t);
    return inner(t) * (startFactor + ((1 - startFactor) * t) / warmupSteps);
  };
}
