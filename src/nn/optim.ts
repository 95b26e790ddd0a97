/**
 * AdamW with decoupled weight decay and bias correction, global-norm gradient clipping, and learning-rate
 * schedules (linear warm-up, poly decay, cosine). `@jax-js/optax` is not on npm, so these are ours (ENGINE.md
 * rule 5); they follow PyTorch's `AdamW` and `clip_grad_norm_` step for step.
 */
import { numpy as np, jit, type OwnedFunction } from "./jax.ts";
import { ConfigError } from "../core/errors.ts";
import { flattenParams, isFrozen, mapParams, unflattenParams, type ParamTree } from "./params.ts";

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

/** Optimizer state: first and second moments (same layout as the parameters) and the number of steps taken. */
export interface AdamWState<P extends ParamTree> {
  step: number;
  m: P;
  v: P;
}

/** The result of one optimizer step. */
export interface StepResult<P extends ParamTree> {
  params: P;
  state: AdamWState<P>;
  /** Global L2 norm of the gradient before clipping (a host number). */
  gradNorm: number;
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

  /** Zero moments for a parameter tree (float32, like the parameters). */
  init<P extends ParamTree>(params: P): AdamWState<P> {
    return {
      step: 0,
      m: mapParams(params, (p) => np.zeros(p.shape, { dtype: p.dtype })),
      v: mapParams(params, (p) => np.zeros(p.shape, { dtype: p.dtype })),
    };
  }

  /**
   * One step at learning rate `lr`: clip, update moments, decay, apply. Consumes `params`, `grads` and the
   * moment trees in `state`.
   */
  step<P extends ParamTree>(params: P, grads: P, state: AdamWState<P>, lr: number): StepResult<P> {
    const t = state.step + 1;
    const scalars = np.array(new Float32Array([lr, 1 / (1 - this.beta1 ** t), 1 / (1 - this.beta2 ** t)]));
    const fn = (this.#update ??= jit((p: P, g: P, m: P, v: P, s: np.Array) => this.#apply(p, g, m, v, s))) as unknown as (
      p: P,
      g: P,
      m: P,
      v: P,
      s: np.Array,
    ) => [P, P, P, np.Array];
    const [newParams, newM, newV, norm] = fn(params, grads, state.m, state.v, scalars);
    return { params: newParams, state: { step: t, m: newM, v: newV }, gradNorm: norm.item() };
  }

  /** Release the compiled update. */
  dispose(): void {
    this.#update?.dispose();
    this.#update = null;
  }

  #apply<P extends ParamTree>(params: P, grads: P, m: P, v: P, s: np.Array): [P, P, P, np.Array] {
    const [lr, c1, c2] = [0, 1, 2].map((i) => s.ref.slice(i));
    s.dispose();
    // Frozen leaves neither count towards the clipping norm nor get updated (their gradient is usually zero
    // through stopGradientWhere, but a caller may pass real gradients for them).
    const frozenGrads = new Map<string, np.Array>();
    const live = new Map<string, np.Array>();
    for (const [path, gi] of flattenParams(grads)) (isFrozen(path, this.frozen) ? frozenGrads : live).set(path, gi);
    const liveTree = Object.fromEntries(live);
    let norm: np.Array;
    let clipped: { [k: string]: np.Array } = liveTree;
    if (Number.isFinite(this.maxGradNorm)) ({ grads: clipped, norm } = clipByGlobalNorm(liveTree, this.maxGradNorm));
    else norm = globalNorm(liveTree);
    const gl = new Map([...Object.entries(clipped), ...frozenGrads]);
    const ml = new Map(flattenParams(m));
    const vl = new Map(flattenParams(v));
    const outP = new Map<string, np.Array>();
    const outM = new Map<string, np.Array>();
    const outV = new Map<string, np.Array>();
    for (const [path, p] of flattenParams(params)) {
      const gi = gl.get(path) as np.Array;
      const mi = ml.get(path) as np.Array;
      const vi = vl.get(path) as np.Array;
      if (isFrozen(path, this.frozen)) {
        gi.dispose();
        outP.set(path, p);
        outM.set(path, mi);
        outV.set(path, vi);
        continue;
      }
      const m1 = mi.mul(this.beta1).add(gi.ref.mul(1 - this.beta1));
      const v1 = vi.mul(this.beta2).add(np.square(gi).mul(1 - this.beta2));
      const decayed = this.decay(path, p.shape) && this.weightDecay > 0 ? p.ref.sub(p.mul(lr.ref.mul(this.weightDecay))) : p;
      const denom = np.sqrt(v1.ref.mul(c2.ref)).add(this.eps);
      const upd = m1.ref.mul(c1.ref).div(denom).mul(lr.ref);
      outP.set(path, decayed.sub(upd));
      outM.set(path, m1);
      outV.set(path, v1);
    }
    lr.dispose();
    c1.dispose();
    c2.dispose();
    return [unflattenParams(params, outP), unflattenParams(params, outM), unflattenParams(params, outV), norm];
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
