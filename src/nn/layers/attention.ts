/**
 * Attention on token matrices `[N, L, D]`: multi-head self-attention, MiT spatial-reduction attention, and
 * global cross-attention between two token sets. Every projection is a `Linear` (`[out, in]` weights); the
 * score and value products are batched matmuls over `[N, heads, L, d]`.
 */
import { numpy as np } from "../jax.ts";
import type { Rng } from "../../core/rng.ts";
import { ConfigError } from "../../core/errors.ts";
import { expectShape } from "../params.ts";
import { softmax } from "./activation.ts";
import { Conv2d, type ConvParams } from "./conv.ts";
import { materialize, type Layer, type MacCount } from "./common.ts";
import { Linear, type LinearParams } from "./linear.ts";
import { LayerNorm, type NormParams } from "./norm.ts";

/** Key counts are padded to a multiple of this (see `scaledDotProductAttention`). */
const KEY_ALIGN = 4;

/** Score added to padded keys: exp() of it underflows to exactly 0, and unlike −∞ it never makes a NaN. */
const MASKED_SCORE = -1e30;

/**
 * `softmax(q kᵀ / √d) v` on `[N, h, Lq, d]`, `[N, h, Lk, d]`, `[N, h, Lk, d]`.
 *
 * jax-js's matmul leaves its SIMD path when the key count is not a multiple of 4: lite's MiT attention has 70
 * keys (a 60×80 map reduced by 8 is 7×10) and its score and value products ran at 1.4 GFLOP/s against 17–27
 * with 72 (measured, one thread). So keys and values get zero rows up to a multiple of 4 and the padded keys a
 * score of −1e30: their weights are exactly 0, and so is every gradient that flows into the padding.
 */
export function scaledDotProductAttention(q: np.Array, k: np.Array, v: np.Array): np.Array {
  const d = q.shape[q.ndim - 1];
  const lk = k.shape[2];
  const pad = (KEY_ALIGN - (lk % KEY_ALIGN)) % KEY_ALIGN;
  if (pad > 0) {
    const rows: [number, number][] = [
      [0, 0],
      [0, 0],
      [0, pad],
      [0, 0],
    ];
    k = materialize(np.pad(k, rows));
    v = materialize(np.pad(v, rows));
  }
  // Scaling the scores rather than q lets jax-js fuse the scale into the matmul's epilogue (no extra kernel).
  let scores = np.matmul(q, k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(d));
  if (pad > 0) {
    const mask = new Float32Array(lk + pad).fill(MASKED_SCORE, lk);
    scores = scores.add(np.array(mask));
  }
  return np.matmul(softmax(scores, -1), v);
}

function splitHeads(x: np.Array, heads: number): np.Array {
  const [N, L, D] = x.shape;
  return x.reshape([N, L, heads, D / heads]).transpose([0, 2, 1, 3]);
}

/**
 * `[N, h, L, d]` → `[N, L, h·d]`, materialized: the output projection that reads it is a matmul, and with the
 * head transpose fused into its input it ran 10–25× slower (lite's MiT stage 3: 3.3 ms against 0.15 ms).
 */
function mergeHeads(x: np.Array): np.Array {
  const [N, h, L, d] = x.shape;
  return materialize(x.transpose([0, 2, 1, 3]).reshape([N, L, h * d]));
}

function checkHeads(path: string, dim: number, heads: number): void {
  if (!Number.isInteger(heads) || heads < 1 || dim % heads !== 0) {
    throw new ConfigError(`${path}.heads`, `${heads} heads do not divide dimension ${dim}`);
  }
}

/** Attention core on already-projected tokens: split heads, attend, merge. `kv` holds keys then values. */
function attend(q: np.Array, kv: np.Array, heads: number): np.Array {
  const dim = q.shape[2];
  const k = kv.ref.slice([], [], [0, dim]);
  const v = kv.slice([], [], [dim, 2 * dim]);
  return mergeHeads(scaledDotProductAttention(splitHeads(q, heads), splitHeads(k, heads), splitHeads(v, heads)));
}

/** Parameters of self- and cross-attention. */
export type AttentionParams = { q: LinearParams; kv: LinearParams; proj: LinearParams };

/** Multi-head self-attention over `[N, L, D]` tokens. */
export class MultiHeadAttention implements Layer<AttentionParams> {
  readonly q: Linear;
  readonly kv: Linear;
  readonly proj: Linear;
  constructor(
    readonly path: string,
    readonly dim: number,
    readonly heads: number,
  ) {
    checkHeads(path, dim, heads);
    this.q = new Linear(`${path}.q`, dim, dim);
    this.kv = new Linear(`${path}.kv`, dim, 2 * dim);
    this.proj = new Linear(`${path}.proj`, dim, dim);
  }

  init(rng: Rng): AttentionParams {
    return { q: this.q.init(rng), kv: this.kv.init(rng), proj: this.proj.init(rng) };
  }

  apply(p: AttentionParams, x: np.Array): np.Array {
    expectShape(this.path, x.shape, [null, null, this.dim]);
    const q = this.q.apply(p.q, x.ref);
    const kv = this.kv.apply(p.kv, x);
    return this.proj.apply(p.proj, attend(q, kv, this.heads));
  }

  macs(inputShape: readonly number[]): MacCount {
    const [N, L] = inputShape;
    const lin = this.q.macs(inputShape).macs + this.kv.macs(inputShape).macs + this.proj.macs(inputShape).macs;
    return { macs: lin, macsAll: lin + 2 * N * L * L * this.dim };
  }
}

/** Parameters of spatial-reduction attention. */
export type SraParams = AttentionParams & { sr?: ConvParams; norm?: NormParams };

/** Input of spatial-reduction attention: tokens `[N, H·W, D]` of an H×W map. */
export interface SpatialTokens {
  tokens: np.Array;
  height: number;
  width: number;
}

/**
 * MiT (SegFormer) efficient self-attention: keys and values come from the map reduced by an r×r stride-r conv
 * and a LayerNorm, so attention costs L·L/r² instead of L². r = 1 is plain multi-head self-attention.
 */
export class SpatialReductionAttention implements Layer<SraParams, SpatialTokens> {
  readonly q: Linear;
  readonly kv: Linear;
  readonly proj: Linear;
  readonly sr: Conv2d | null;
  readonly norm: LayerNorm | null;
  constructor(
    readonly path: string,
    readonly dim: number,
    readonly heads: number,
    readonly ratio: number,
  ) {
    checkHeads(path, dim, heads);
    this.q = new Linear(`${path}.q`, dim, dim);
    this.kv = new Linear(`${path}.kv`, dim, 2 * dim);
    this.proj = new Linear(`${path}.proj`, dim, dim);
    this.sr = ratio > 1 ? new Conv2d(`${path}.sr`, dim, dim, ratio, { stride: ratio, padding: 0 }) : null;
    this.norm = ratio > 1 ? new LayerNorm(`${path}.norm`, dim, { eps: 1e-5 }) : null;
  }

  init(rng: Rng): SraParams {
    const p: SraParams = { q: this.q.init(rng), kv: this.kv.init(rng), proj: this.proj.init(rng) };
    if (this.sr !== null && this.norm !== null) {
      p.sr = this.sr.init(rng);
      p.norm = this.norm.init(rng);
    }
    return p;
  }

  apply(p: SraParams, input: SpatialTokens): np.Array {
    const { tokens: x, height: H, width: W } = input;
    expectShape(this.path, x.shape, [null, H * W, this.dim]);
    const N = x.shape[0];
    const q = this.q.apply(p.q, x.ref);
    let ctx = x;
    if (this.sr !== null && this.norm !== null && p.sr !== undefined && p.norm !== undefined) {
      const reduced = this.sr.apply(p.sr, ctx.reshape([N, H, W, this.dim]));
      const [, h, w] = reduced.shape;
      ctx = this.norm.apply(p.norm, reduced.reshape([N, h * w, this.dim]));
    }
    const kv = this.kv.apply(p.kv, ctx);
    return this.proj.apply(p.proj, attend(q, kv, this.heads));
  }

  macs(inputShape: readonly number[], height: number, width: number): MacCount {
    const [N, L] = inputShape;
    let lk = L;
    let lin = this.q.macs(inputShape).macs + this.proj.macs(inputShape).macs;
    if (this.sr !== null) {
      const out = this.sr.outShape([N, height, width, this.dim]);
      lk = out[1] * out[2];
      lin += this.sr.macs([N, height, width, this.dim]).macs;
    }
    lin += this.kv.macs([N, lk, this.dim]).macs;
    return { macs: lin, macsAll: lin + 2 * N * L * lk * this.dim };
  }
}

/** Input of cross-attention: queries from one token set, keys and values from another. */
export interface CrossTokens {
  queries: np.Array;
  context: np.Array;
}

/** Global multi-head cross-attention: `[N, Lq, Dq]` queries attend over all `[N, Lk, Dk]` context tokens. */
export class CrossAttention implements Layer<AttentionParams, CrossTokens> {
  readonly q: Linear;
  readonly kv: Linear;
  readonly proj: Linear;
  constructor(
    readonly path: string,
    readonly queryDim: number,
    readonly contextDim: number,
    readonly dim: number,
    readonly heads: number,
  ) {
    checkHeads(path, dim, heads);
    this.q = new Linear(`${path}.q`, queryDim, dim);
    this.kv = new Linear(`${path}.kv`, contextDim, 2 * dim);
    this.proj = new Linear(`${path}.proj`, dim, queryDim);
  }

  init(rng: Rng): AttentionParams {
    return { q: this.q.init(rng), kv: this.kv.init(rng), proj: this.proj.init(rng) };
  }

  apply(p: AttentionParams, input: CrossTokens): np.Array {
    expectShape(`${this.path}.queries`, input.queries.shape, [null, null, this.queryDim]);
    expectShape(`${this.path}.context`, input.context.shape, [input.queries.shape[0], null, this.contextDim]);
    const q = this.q.apply(p.q, input.queries);
    const kv = this.kv.apply(p.kv, input.context);
    return this.proj.apply(p.proj, attend(q, kv, this.heads));
  }

  macs(queryShape: readonly number[], contextShape: readonly number[]): MacCount {
    const [N, Lq] = queryShape;
    const Lk = contextShape[1];
    const lin = N * (Lq * this.queryDim * this.dim + Lk * this.contextDim * 2 * this.dim + Lq * this.dim * this.queryDim);
    return { macs: lin, macsAll: lin + 2 * N * Lq * Lk * this.dim };
  }
}
