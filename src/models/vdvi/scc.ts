/**
 * SCC = LAFS + CMA, the fusion at stages 2–4 (METHOD.md §5; AsymFormer's `SpatialAttention_max` and
 * `Cross_Atten_Lite_split`): m_k = SCC_k(d_k, r_k), where d_k is the MiT stage output (C_d channels) and r_k the
 * ConvNeXt one (C_r channels). The RGB map is only read.
 */
import { numpy as np, lax } from "../../nn/jax.ts";
import type { Rng } from "../../core/rng.ts";
import {
  BatchNorm,
  Linear,
  channelShuffle,
  materialize,
  concatChannels,
  relu,
  sigmoid,
  splitChannels,
  type BatchNormState,
  type LinearParams,
  type NormParams,
} from "../../nn/layers/index.ts";
import type { FlopCounter } from "../../nn/flops.ts";
import { expectShape } from "../../nn/params.ts";
import type { BnStates, ForwardContext } from "./context.ts";
import { prod } from "./context.ts";

/** Parameters of LAFS. */
export type LafsParams = { s1: LinearParams; s2: LinearParams; c1: LinearParams; c2: LinearParams; conv: LinearParams; bn: NormParams };

/**
 * LAFS on x = cat[d, r] (C = C_d + C_r channels): g = GAP(x); y_s = FC(C→C/16) → ReLU → FC(→C) and
 * y_c = σ(FC(C→C/8) → ReLU → FC(→C)), all bias-free; map = σ(Σ_c x_c·y_s,c / C²); u = BN(Conv1×1(map ⊙ x ⊙ y_c)).
 */
export class Lafs {
  readonly channels: number;
  readonly s1: Linear;
  readonly s2: Linear;
  readonly c1: Linear;
  readonly c2: Linear;
  readonly conv: Linear;
  readonly bn: BatchNorm;
  constructor(
    readonly path: string,
    readonly featChannels: number,
    readonly rgbChannels: number,
    reductions: [number, number],
  ) {
    const C = featChannels + rgbChannels;
    this.channels = C;
    // A width below the reduction still keeps one hidden unit.
    const hs = Math.max(1, Math.floor(C / reductions[0]));
    const hc = Math.max(1, Math.floor(C / reductions[1]));
    this.s1 = new Linear(`${path}.s1`, C, hs, { bias: false });
    this.s2 = new Linear(`${path}.s2`, hs, C, { bias: false });
    this.c1 = new Linear(`${path}.c1`, C, hc, { bias: false });
    this.c2 = new Linear(`${path}.c2`, hc, C, { bias: false });
    this.conv = new Linear(`${path}.conv`, C, featChannels, { bias: false });
    this.bn = new BatchNorm(`${path}.bn`, featChannels);
  }

  init(rng: Rng): LafsParams {
    return {
      s1: this.s1.init(rng),
      s2: this.s2.init(rng),
      c1: this.c1.init(rng),
      c2: this.c2.init(rng),
      conv: this.conv.init(rng),
      bn: this.bn.init(rng),
    };
  }

  initState(): BnStates {
    return { [this.bn.path]: this.bn.initState() };
  }

  apply(p: LafsParams, d: np.Array, r: np.Array, ctx: ForwardContext): np.Array {
    const x = concatChannels([d, r]);
    const [N, , , C] = x.shape;
    const g = np.mean(x.ref, [1, 2]); // [N, C]
    const ys = this.s2.apply(p.s2, relu(this.s1.apply(p.s1, g.ref)));
    const yc = sigmoid(this.c2.apply(p.c2, relu(this.c1.apply(p.c1, g))));
    // Σ_c x_c·y_s,c per pixel, as a batched matmul [N, HW, C] × [N, C, 1] (the 2-D × 3-D matmul quirk is avoided).
    const [, H, W] = x.shape;
    const dot = np.matmul(x.ref.reshape([N, H * W, C]), ys.reshape([N, C, 1])).reshape([N, H, W, 1]);
    const map = sigmoid(dot.mul(1 / (C * C)));
    const out = x.mul(map).mul(yc.reshape([N, 1, 1, C]));
    return ctx.batchNorm(this.bn, p.bn, this.conv.apply(p.conv, out));
  }

  count(fc: FlopCounter, shape: readonly number[]): void {
    const [N, H, W] = shape;
    const C = this.channels;
    const n = N * H * W * C;
    fc.add(this.s1.path, this.s1.macs([N, C]));
    fc.add(this.s2.path, this.s2.macs([N, this.s1.outFeatures]));
    fc.add(this.c1.path, this.c1.macs([N, C]));
    fc.add(this.c2.path, this.c2.macs([N, this.c1.outFeatures]));
    // Pooling, the per-pixel channel dot product and the two products: not conv/linear, so macsAll only.
    fc.add(`${this.path}.map`, { macs: 0, macsAll: 4 * n });
    fc.add(this.conv.path, this.conv.macs([N, H, W, C]));
    fc.add(this.bn.path, this.bn.macs([N, H, W, this.featChannels]));
  }
}

/** Parameters of CMA. */
export type CmaParams = { bnD: NormParams; bnR: NormParams; kq1: LinearParams; kq2: LinearParams; v: LinearParams; out: LinearParams; bnOut: NormParams };

/**
 * CMA: d̂ = BN(d), r̂ = BN(r); kq1 = Lin(C_d→2m₂)(d̂), kq2 = Lin(C_r→2m₂)(r̂); channel shuffle (2 groups) of
 * cat[kq1, kq2] split into k₁, q₁, k₂, q₂ (m₂ each); v = Lin(C_d→2m₁)(u) split into v₁, v₂; two global attention
 * heads A_i = softmax(q_i k_iᵀ/√m₂) with dropout; out = BN(Lin(2m₁→C_d)(cat[A₁v₁, A₂v₂])) + u. m₁ = C_d/4, m₂ = C_r/4.
 */
export class Cma {
  readonly m1: number;
  readonly m2: number;
  readonly bnD: BatchNorm;
  readonly bnR: BatchNorm;
  readonly kq1: Linear;
  readonly kq2: Linear;
  readonly v: Linear;
  readonly out: Linear;
  readonly bnOut: BatchNorm;
  constructor(
    readonly path: string,
    readonly featChannels: number,
    readonly rgbChannels: number,
    readonly attnDropout: number,
    /** Key/value pooling factor p (1: the paper's full global attention; see `VdviConfig.cmaPool`). */
    readonly pool = 1,
  ) {
    this.m1 = featChannels / 4;
    this.m2 = rgbChannels / 4;
    this.bnD = new BatchNorm(`${path}.bnD`, featChannels);
    this.bnR = new BatchNorm(`${path}.bnR`, rgbChannels);
    this.kq1 = new Linear(`${path}.kq1`, featChannels, 2 * this.m2);
    this.kq2 = new Linear(`${path}.kq2`, rgbChannels, 2 * this.m2);
    // Bias-free, unlike AsymFormer's nn.Linear: a constant added to v passes through the attention (rows sum to
    // 1) and the output projection, and BatchNorm then subtracts it, as it does out's bias; both would get exactly
    // zero gradient and stay at their zero init (the decoder's fuse conv before BN is bias-free for the same reason).
    this.v = new Linear(`${path}.v`, featChannels, 2 * this.m1, { bias: false });
    this.out = new Linear(`${path}.out`, 2 * this.m1, featChannels, { bias: false });
    this.bnOut = new BatchNorm(`${path}.bnOut`, featChannels);
  }

  init(rng: Rng): CmaParams {
    return {
      bnD: this.bnD.init(rng),
      bnR: this.bnR.init(rng),
      kq1: this.kq1.init(rng),
      kq2: this.kq2.init(rng),
      v: this.v.init(rng),
      out: this.out.init(rng),
      bnOut: this.bnOut.init(rng),
    };
  }

  initState(): BnStates {
    const s: { [path: string]: BatchNormState } = {};
    for (const bn of [this.bnD, this.bnR, this.bnOut]) s[bn.path] = bn.initState();
    return s;
  }

  apply(p: CmaParams, d: np.Array, r: np.Array, u: np.Array, ctx: ForwardContext): np.Array {
    const [N, H, W] = d.shape;
    const L = H * W;
    const m1 = this.m1;
    const m2 = this.m2;
    const kq1 = this.kq1.apply(p.kq1, ctx.batchNorm(this.bnD, p.bnD, d).reshape([N, L, this.featChannels]));
    const kq2 = this.kq2.apply(p.kq2, ctx.batchNorm(this.bnR, p.bnR, r).reshape([N, L, this.rgbChannels]));
    const [k1, q1, k2, q2] = splitChannels(channelShuffle(concatChannels([kq1, kq2]), 2), [m2, m2, m2, m2]);
    const v = this.v.apply(p.v, u.ref.reshape([N, L, this.featChannels]));
    const [v1, v2] = splitChannels(v, [m1, m1]);
    // Both heads as one batched product over a head axis: [N, 2, L, m₂] × [N, 2, m₂, L].
    const q = np.stack([q1, q2], 1);
    const k = poolTokens(np.stack([k1, k2], 1), H, W, this.pool);
    const vv = poolTokens(np.stack([v1, v2], 1), H, W, this.pool);
    const scores = np.matmul(q, k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(m2));
    // softmax(s)·v with the normalization deferred: (e·v) / Σe, e = exp(s − max s). The division then runs on
    // the L×m₁ result instead of the L×L matrix, one pass fewer over the largest tensor of the network (lite
    // stage 2: 2 × 1200² scores). Dropout on e before the product equals dropout on the normalized weights.
    const e = np.exp(scores.ref.sub(lax.stopGradient(np.max(scores, -1, { keepdims: true }))));
    const denom = np.sum(e.ref, -1, { keepdims: true });
    const heads = np.matmul(ctx.dropout(e, this.attnDropout, this.path), vv).div(denom); // [N, 2, L, m₁]
    // Materialized for the output projection's matmul, as `mergeHeads` does (a fused head transpose is 10× slower).
    const merged = materialize(heads.transpose([0, 2, 1, 3]).reshape([N, H, W, 2 * m1]));
    return ctx.batchNorm(this.bnOut, p.bnOut, this.out.apply(p.out, merged)).add(u);
  }

  count(fc: FlopCounter, shape: readonly number[]): void {
    const [N, H, W] = shape;
    const L = H * W;
    const Lk = Math.ceil(H / this.pool) * Math.ceil(W / this.pool);
    fc.add(this.bnD.path, this.bnD.macs([N, H, W, this.featChannels]));
    fc.add(this.bnR.path, this.bnR.macs([N, H, W, this.rgbChannels]));
    fc.add(this.kq1.path, this.kq1.macs([N, L, this.featChannels]));
    fc.add(this.kq2.path, this.kq2.macs([N, L, this.rgbChannels]));
    fc.add(this.v.path, this.v.macs([N, L, this.featChannels]));
    // QKᵀ and AV of the two global heads: attention products, counted in macsAll only.
    fc.add(`${this.path}.attention`, { macs: 0, macsAll: 2 * N * L * Lk * (this.m2 + this.m1) });
    if (this.pool > 1) fc.add(`${this.path}.pool`, { macs: 0, macsAll: 2 * N * L * (this.m2 + this.m1) });
    fc.add(this.out.path, this.out.macs([N, L, 2 * this.m1]));
    fc.add(this.bnOut.path, this.bnOut.macs([N, H, W, this.featChannels]));
  }
}

/**
 * Average `[N, h, H·W, c]` tokens of an H×W map over p×p cells → `[N, h, ⌈H/p⌉·⌈W/p⌉, c]` (cells cut by the
 * border average only their pixels inside the map). Identity for p = 1.
 */
export function poolTokens(t: np.Array, H: number, W: number, p: number): np.Array {
  if (p === 1) return t;
  const [N, h, , c] = t.shape;
  const Hp = Math.ceil(H / p);
  const Wp = Math.ceil(W / p);
  let m = t.reshape([N * h, H, W, c]);
  if (Hp * p !== H || Wp * p !== W) m = np.pad(m, [[0, 0], [0, Hp * p - H], [0, Wp * p - W], [0, 0]]);
  const sum = np.sum(m.reshape([N * h, Hp, p, Wp, p, c]), [2, 4]);
  const inv = new Float32Array(Hp * Wp);
  for (let y = 0; y < Hp; y++) {
    for (let x = 0; x < Wp; x++) inv[y * Wp + x] = 1 / ((Math.min(H, (y + 1) * p) - y * p) * (Math.min(W, (x + 1) * p) - x * p));
  }
  return sum.mul(np.array(inv).reshape([1, Hp, Wp, 1])).reshape([N, h, Hp * Wp, c]);
}

/** Parameters of one SCC. */
export type SccParams = { lafs: LafsParams; cma: CmaParams };

/** SCC_k(d, r) = CMA(d, r, LAFS(d, r)). */
export class Scc {
  readonly lafs: Lafs;
  readonly cma: Cma;
  constructor(
    readonly path: string,
    featChannels: number,
    rgbChannels: number,
    reductions: [number, number],
    attnDropout: number,
    pool = 1,
  ) {
    this.lafs = new Lafs(`${path}.lafs`, featChannels, rgbChannels, reductions);
    this.cma = new Cma(`${path}.cma`, featChannels, rgbChannels, attnDropout, pool);
  }

  init(rng: Rng): SccParams {
    return { lafs: this.lafs.init(rng), cma: this.cma.init(rng) };
  }

  initState(): BnStates {
    return { ...this.lafs.initState(), ...this.cma.initState() };
  }

  apply(p: SccParams, d: np.Array, r: np.Array, ctx: ForwardContext): np.Array {
    expectShape(this.path, r.shape, [d.shape[0], d.shape[1], d.shape[2], this.lafs.rgbChannels]);
    const u = this.lafs.apply(p.lafs, d.ref, r.ref, ctx);
    return this.cma.apply(p.cma, d, r, u, ctx);
  }

  count(fc: FlopCounter, shape: readonly number[]): void {
    this.lafs.count(fc, shape);
    this.cma.count(fc, shape);
    fc.add(`${this.path}.elementwise`, { macs: 0, macsAll: prod(shape) });
  }
}
