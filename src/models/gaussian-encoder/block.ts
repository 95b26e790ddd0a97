/**
 * The PTv3 block (METHOD.md §9) on `[N, C]` point features:
 *   x += xCPE(x);  x += DropPath(Attn(LN x));  x += DropPath(MLP(LN x))
 * with xCPE = voxel-hash SubMConv3d(k3) → Linear → LayerNorm, attention inside the patches of one serialized
 * order (padded by reuse, no mask), and an MLP of ratio 4 with exact GELU. The forward context threads train
 * mode, BatchNorm statistics and the drop-path key.
 */
import { numpy as np, random, lax } from "../../nn/jax.ts";
import type { Rng } from "../../core/rng.ts";
import { ConfigError } from "../../core/errors.ts";
import {
  BatchNorm,
  LayerNorm,
  Linear,
  MultiHeadAttention,
  dropPath,
  gelu,
  type AttentionParams,
  type BatchNormState,
  type LinearParams,
  type NormParams,
} from "../../nn/layers/index.ts";
import { takeRows, VoxelConv, type DeviceVoxelGeometry, type VoxelConvParams } from "./ops.ts";
import type { DevicePatches } from "./levels.ts";

/** BatchNorm running statistics keyed by the BatchNorm's dotted path. */
export type EncoderBnStates = { [path: string]: BatchNormState };

/** The real rows of a padded level: `[N, 1]` 0/1 mask and the `[]` count of ones (borrowed). */
export interface MaskedRows {
  mask: np.Array;
  count: np.Array;
}

/** Train mode, BatchNorm statistics and the drop-path key of one forward call. */
export class EncoderContext {
  readonly next: EncoderBnStates = {};
  #key: np.Array | null;
  constructor(
    readonly train: boolean,
    readonly states: EncoderBnStates,
    key?: np.Array,
  ) {
    this.#key = key ?? null;
  }

  /**
   * Apply a BatchNorm, recording its updated running statistics under its path. In training with `rows`
   * (a `[N, 1]` 0/1 mask and the `[]` count of ones), batch statistics are taken over the masked rows only,
   * so padding rows of a fixed-capacity plan do not shift them; every row is normalized with them.
   */
  batchNorm(layer: BatchNorm, p: NormParams, x: np.Array, rows?: MaskedRows): np.Array {
    const s = this.states[layer.path];
    if (s === undefined) throw new ConfigError(layer.path, "no BatchNorm running statistics in the state");
    if (!this.train || rows === undefined) {
      const { y, state } = layer.apply(p, s, x, this.train);
      this.next[layer.path] = state;
      return y;
    }
    const mean = np.sum(x.ref.mul(rows.mask.ref), 0).div(rows.count.ref);
    const xc = x.sub(mean.ref);
    const variance = np.sum(np.square(xc.ref.mul(rows.mask.ref)), 0).div(rows.count.ref);
    const inv = np.reciprocal(np.sqrt(variance.ref.add(layer.eps)));
    const y = xc.mul(inv).mul(p.weight).add(p.bias);
    const m = layer.momentum;
    // Unbiased running variance, n/(n − 1) with n ≥ 2 assumed (a level with one real row gets factor n/1).
    const unbiased = variance.mul(rows.count.ref.div(np.maximum(rows.count.ref.sub(1), 1)));
    this.next[layer.path] = {
      runningMean: s.runningMean.mul(1 - m).add(lax.stopGradient(mean).mul(m)),
      runningVar: s.runningVar.mul(1 - m).add(lax.stopGradient(unbiased).mul(m)),
    };
    return y;
  }

  /** Per-point stochastic depth (PTv3 applies timm's DropPath to `[N, C]`, so each point is a "sample"). */
  dropPath(x: np.Array, rate: number, where: string): np.Array {
    if (!this.train || rate === 0) return x;
    if (this.#key === null) throw new ConfigError(where, "training with drop-path needs a PRNG key");
    const both = random.split(this.#key, 2);
    this.#key = both.ref.slice(0);
    return dropPath(x, rate, both.slice(1), true);
  }

  /** Release the remaining key. */
  dispose(): void {
    this.#key?.dispose();
    this.#key = null;
  }
}

/** Parameters of one block. */
export type BlockParams = {
  cpe: { conv: VoxelConvParams; linear: LinearParams; norm: NormParams };
  norm1: NormParams;
  attn: AttentionParams;
  norm2: NormParams;
  mlp: { fc1: LinearParams; fc2: LinearParams };
};

/** The level tables one block reads: the CPE neighbourhood and its order's patch partition. */
export interface BlockTables {
  geometry: DeviceVoxelGeometry;
  patches: DevicePatches;
}

/** One PTv3 block of `channels` width. */
export class EncoderBlock {
  readonly cpeConv: VoxelConv;
  readonly cpeLinear: Linear;
  readonly cpeNorm: LayerNorm;
  readonly norm1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly norm2: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(
    readonly path: string,
    readonly channels: number,
    readonly heads: number,
    readonly dropPathRate: number,
    options: { mlpRatio?: number; cpeKernel?: number } = {},
  ) {
    const C = channels;
    const hidden = Math.round(C * (options.mlpRatio ?? 4));
    // PyTorch's nn.LayerNorm default eps, which PTv3 uses.
    const eps = 1e-5;
    this.cpeConv = new VoxelConv(`${path}.cpe.conv`, C, C, options.cpeKernel ?? 3, { bias: true });
    this.cpeLinear = new Linear(`${path}.cpe.linear`, C, C);
    this.cpeNorm = new LayerNorm(`${path}.cpe.norm`, C, { eps });
    this.norm1 = new LayerNorm(`${path}.norm1`, C, { eps });
    this.attn = new MultiHeadAttention(`${path}.attn`, C, heads);
    this.norm2 = new LayerNorm(`${path}.norm2`, C, { eps });
    this.fc1 = new Linear(`${path}.mlp.fc1`, C, hidden);
    this.fc2 = new Linear(`${path}.mlp.fc2`, hidden, C);
  }

  init(rng: Rng): BlockParams {
    return {
      cpe: { conv: this.cpeConv.init(rng), linear: this.cpeLinear.init(rng), norm: this.cpeNorm.init(rng) },
      norm1: this.norm1.init(rng),
      attn: this.attn.init(rng),
      norm2: this.norm2.init(rng),
      mlp: { fc1: this.fc1.init(rng), fc2: this.fc2.init(rng) },
    };
  }

  /** `[N, C]` → `[N, C]`; consumes `p` and `x`, borrows the tables. */
  apply(p: BlockParams, x: np.Array, tables: BlockTables, ctx: EncoderContext): np.Array {
    const C = this.channels;
    const cpe = this.cpeConv.apply(p.cpe.conv, { x: x.ref, geometry: tables.geometry });
    x = x.add(this.cpeNorm.apply(p.cpe.norm, this.cpeLinear.apply(p.cpe.linear, cpe)));
    const { patches: P, patchSize: K, gather, scatter } = tables.patches;
    let h = takeRows(this.norm1.apply(p.norm1, x.ref), gather.ref).reshape([P, K, C]);
    h = takeRows(this.attn.apply(p.attn, h).reshape([P * K, C]), scatter.ref);
    x = x.add(ctx.dropPath(h, this.dropPathRate, `${this.path}.attn`));
    h = this.fc2.apply(p.mlp.fc2, gelu(this.fc1.apply(p.mlp.fc1, this.norm2.apply(p.norm2, x.ref))));
    return x.add(ctx.dropPath(h, this.dropPathRate, `${this.path}.mlp`));
  }
}
