/**
 * The contrastive loss of one pair through the encoder, and its gradient: plan the batch's geometry in JS,
 * run both views as one encoder batch, and apply InfoNCE to the correspondence rows. BatchNorm statistics come
 * back as the auxiliary output, so a training loop can carry them.
 */
import { numpy as np, jit, random, valueAndGrad } from "../../nn/jax.ts";
import { concatLeaves, disposeParams, type ParamTree } from "../../nn/params.ts";
import type { Rng } from "../../core/rng.ts";
import type { EncoderBnStates } from "../../models/gaussian-encoder/block.ts";
import type { GaussianEncoder, GaussianEncoderParams } from "../../models/gaussian-encoder/encoder.ts";
import {
  bucketCapacities,
  disposeDevicePlan,
  planCapacities,
  planEncoder,
  toDevicePlan,
  planArrays,
  withPlanArrays,
  type DevicePlan,
  type PlanCapacities,
} from "../../models/gaussian-encoder/levels.ts";
import { INPUT_CHANNELS } from "../../models/gaussian-encoder/input.ts";
import { indexArray } from "../../models/gaussian-encoder/ops.ts";
import { infoNCE, INFONCE_TEMPERATURE } from "./infonce.ts";
import type { PairSample } from "./pair.ts";

/** A sample's device inputs: geometry plan, input rows and correspondence rows. */
export interface DevicePair {
  plan: DevicePlan;
  input: np.Array;
  idx1: np.Array;
  idx2: np.Array;
  /** `[m]` 1 for a real correspondence, 0 for padding (`PreparePairOptions.correspondences`). */
  valid: np.Array;
}

/** Options of `preparePair`. */
export interface PreparePairOptions {
  /**
   * Pad every level to geometric buckets of this growth (default 1.25; `false` for exact sizes), so the
   * varying pair sizes map onto a few recurring shapes: each new shape costs jax-js a kernel compile and
   * wasm heap that is never returned. Padding rows are inert (masked BatchNorm statistics, no patch or
   * parent shared with a real row), so the loss and gradient are those of the unpadded pair.
   */
  bucket?: number | false;
  /**
   * Fixed capacities for every pair instead (one shape set for a whole run: jax-js's wasm allocator reuses a
   * freed buffer only for the exact same size, so a few distinct shape sets of a large pair exhaust its 4 GiB).
   * A pair that does not fit is a ConfigError naming the level; shrink it (fewer rows) and prepare it again.
   */
  capacities?: PlanCapacities;
  /**
   * Pad the correspondences to this many rows (masked out of the loss), so a pair with fewer shared Gaussians
   * than the cap does not change the compiled step's shapes: each new count cost a trace and fresh buffers, and
   * a 20k-row run's heap grew by 0.1–0.25 GiB at such pairs until it reached 4 GiB. Default: no padding.
   */
  correspondences?: number;
}

/**
 * Plan a pair's geometry (order shuffling drawn from `rng` when given) and move it to the device, padded to
 * bucketed capacities unless `options.bucket` is false.
 */
export function preparePair(encoder: GaussianEncoder, sample: PairSample, rng?: Rng, options: PreparePairOptions = {}): DevicePair {
  const cfg = encoder.config;
  const host = planEncoder(sample.positions, cfg, { batch: sample.batch, rng });
  const exact = planCapacities(host);
  const growth = options.bucket ?? 1.25;
  const caps = options.capacities ?? (growth === false ? exact : bucketCapacities(exact, { growth, multiple: 64, clouds: 2 }));
  const plan = toDevicePlan(host, cfg, np.float32, caps);
  const rows = caps.points[0];
  const input = new Float32Array(rows * INPUT_CHANNELS);
  input.set(sample.input);
  const m = sample.pairs.length / 2;
  const slots = Math.max(m, options.correspondences ?? 0);
  // Padding rows read row 0 of each view; `valid` removes them from the loss.
  const i1 = new Int32Array(slots);
  const i2 = new Int32Array(slots).fill(sample.n1);
  const valid = new Float32Array(slots);
  for (let k = 0; k < m; k++) {
    i1[k] = sample.pairs[k * 2];
    i2[k] = sample.pairs[k * 2 + 1];
    valid[k] = 1;
  }
  return {
    plan,
    input: np.array(input).reshape([rows, INPUT_CHANNELS]),
    idx1: indexArray(i1),
    idx2: indexArray(i2),
    valid: np.array(valid),
  };
}

/** Release a prepared pair. */
export function disposePair(pair: DevicePair): void {
  disposeDevicePlan(pair.plan);
  pair.input.dispose();
  pair.idx1.dispose();
  pair.idx2.dispose();
  pair.valid.dispose();
}

/** Result of one loss-and-gradient evaluation. */
export interface PairGradient {
  loss: number;
  /** Flat, in `flattenParams` order (`concatLeaves`; see `Gradients` in nn/train.ts for why). */
  grads: np.Array;
  state: EncoderBnStates;
}

/** Options of `pairLossAndGrad`. */
export interface PairLossOptions {
  train: boolean;
  key?: np.Array;
  tau?: number;
  /**
   * Run the loss (and gradient) as one compiled function (jax-js `jit`), cached per encoder and traced once per
   * set of shapes — with fixed capacities one trace for a whole run. The pre-training loop's default: with
   * rtgs2's jax-js patches (buffer reuse inside a program, the scatter fast path) a lite step at 5000 pair rows
   * measured 1.8–2.0 s jitted against 10 s op by op, whose heap outgrew 4 GiB by the second step.
   */
  jit?: boolean;
}

type LossFn = (
  p: GaussianEncoderParams,
  s: EncoderBnStates,
  x: np.Array,
  tables: np.Array[],
  i1: np.Array,
  i2: np.Array,
  valid: np.Array,
  key: np.Array,
) => [[np.Array, EncoderBnStates], np.Array | null];

/** A compiled loss (and gradient) of one encoder; `template` is set before each call (static plan numbers). */
interface CompiledStep {
  template: DevicePlan | null;
  fn: LossFn;
}

const compiled = new WeakMap<GaussianEncoder, Map<string, CompiledStep>>();

function compiledStep(encoder: GaussianEncoder, train: boolean, tau: number, withKey: boolean, withGrad: boolean): CompiledStep {
  let byMode = compiled.get(encoder);
  if (byMode === undefined) compiled.set(encoder, (byMode = new Map()));
  const name = `${train}/${tau}/${withKey}/${withGrad}`;
  const have = byMode.get(name);
  if (have !== undefined) return have;
  const entry: CompiledStep = {
    template: null,
    fn: () => {
      throw new Error("unreachable");
    },
  };
  const raw: LossFn = (p, s, x, tables, i1, i2, valid, key) => {
    if (!withKey) key.dispose();
    if (entry.template === null) throw new Error("compiled step called without a plan");
    const plan = withPlanArrays(entry.template, tables);
    return lossAndMaybeGrad(encoder, p, s, x, plan, [i1, i2, valid], { train, tau, key: withKey ? key : undefined }, withGrad);
  };
  if (withGrad) {
    entry.fn = jit(raw as never) as unknown as LossFn;
  } else {
    // jax-js's jit returns arrays only, so the forward-only program returns [loss, state] without the null.
    const forward = jit(((...args: Parameters<LossFn>) => raw(...args)[0]) as never) as unknown as (
      ...args: Parameters<LossFn>
    ) => [np.Array, EncoderBnStates];
    entry.fn = (...args) => [forward(...args), null];
  }
  byMode.set(name, entry);
  return entry;
}

/** The traced body shared by the compiled and eager paths: InfoNCE of the encoded pair, with its gradient. */
function lossAndMaybeGrad(
  encoder: GaussianEncoder,
  params: GaussianEncoderParams,
  state: EncoderBnStates,
  x: np.Array,
  plan: DevicePlan,
  [i1, i2, valid]: [np.Array, np.Array, np.Array],
  o: { train: boolean; tau: number; key: np.Array | undefined },
  withGrad: boolean,
): [[np.Array, EncoderBnStates], np.Array | null] {
  const f = (pp: GaussianEncoderParams): [np.Array, EncoderBnStates] => {
    const out = encoder.apply(pp, x, plan, { train: o.train, state, key: o.key });
    return [infoNCE(out.y.ref, out.y, i1, i2, o.tau, valid), out.state];
  };
  if (!withGrad) return [f(params), null];
  const [aux, grads] = valueAndGrad(f, { hasAux: true })(params) as unknown as [[np.Array, EncoderBnStates], GaussianEncoderParams];
  return [aux, concatLeaves(grads)];
}

/** Run the loss (with the gradient when `withGrad`) and return device arrays; nothing is read. */
function pairLossArrays(
  encoder: GaussianEncoder,
  params: GaussianEncoderParams,
  state: EncoderBnStates,
  pair: DevicePair,
  options: PairLossOptions,
  withGrad: boolean,
): [[np.Array, EncoderBnStates], np.Array | null] {
  const tau = options.tau ?? INFONCE_TEMPERATURE;
  if (options.jit === true) {
    const step = compiledStep(encoder, options.train, tau, options.key !== undefined, withGrad);
    step.template = pair.plan;
    const tables = planArrays(pair.plan).map((a) => a.ref);
    try {
      return step.fn(params, state, pair.input.ref, tables, pair.idx1.ref, pair.idx2.ref, pair.valid.ref, options.key ?? random.key(0));
    } finally {
      step.template = null;
    }
  }
  const rows: [np.Array, np.Array, np.Array] = [pair.idx1.ref, pair.idx2.ref, pair.valid.ref];
  return lossAndMaybeGrad(encoder, params, state, pair.input.ref, pair.plan, rows, { train: options.train, tau, key: options.key }, withGrad);
}

/**
 * InfoNCE of a pair and its gradient with respect to the parameters, read synchronously (every kernel on the
 * main thread). Consumes `params` and `state` (the returned state replaces it); borrows the pair. `train`
 * enables batch statistics and drop-path (`key` required when the config's rate is non-zero; consumed). `jit`
 * compiles the whole step (see `PairLossOptions`).
 */
export function pairLossAndGrad(
  encoder: GaussianEncoder,
  params: GaussianEncoderParams,
  state: EncoderBnStates,
  pair: DevicePair,
  options: PairLossOptions,
): PairGradient {
  const [[value, next], grads] = pairLossArrays(encoder, params, state, pair, options, true);
  return { loss: value.item(), grads: grads as np.Array, state: next };
}

/**
 * `pairLossAndGrad` read asynchronously, so jax-js runs the step's kernels through its worker pool (both
 * cores). The gradient and state are still pending when it resolves; pass them on, do not read them
 * synchronously before awaiting the work that consumes them.
 */
export async function pairLossAndGradAsync(
  encoder: GaussianEncoder,
  params: GaussianEncoderParams,
  state: EncoderBnStates,
  pair: DevicePair,
  options: PairLossOptions,
): Promise<PairGradient> {
  const [[value, next], grads] = pairLossArrays(encoder, params, state, pair, options, true);
  return { loss: (await value.data())[0], grads: grads as np.Array, state: next };
}

/**
 * The loss alone, forward only (held-out evaluation): a fraction of a step's time and memory. Borrows nothing
 * it does not consume: `params` and `state` are consumed, the pair is borrowed; the updated state is dropped.
 */
export async function pairLoss(
  encoder: GaussianEncoder,
  params: GaussianEncoderParams,
  state: EncoderBnStates,
  pair: DevicePair,
  options: Omit<PairLossOptions, "key">,
): Promise<number> {
  const [[value, next]] = pairLossArrays(encoder, params, state, pair, options, false);
  const loss = (await value.data())[0];
  disposeParams(next as ParamTree);
  return loss;
}
