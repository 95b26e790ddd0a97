/**
 * The Gaussian encoder: a spconv-free PTv3 U-Net (METHOD.md §3, §9) from the 10-channel input to a 32-d
 * feature per Gaussian.
 *
 *   embed: voxel conv k5 (no bias) → BN → GELU
 *   stage s: [s > 0: Linear → segment max over the 2×2×2 children → BN → GELU], then enc_depths[s] blocks
 *   decoder s (coarse to fine): Linear→BN→GELU(skip_s) + (Linear→BN→GELU(x))[cluster], then dec_depths[s] blocks
 *
 * Block i of a stage attends in order i mod (number of orders). All geometry comes from a `DevicePlan`.
 */
import { numpy as np } from "../../nn/jax.ts";
import type { Rng } from "../../core/rng.ts";
import { BatchNorm, Linear, gelu, type LinearParams, type NormParams } from "../../nn/layers/index.ts";
import { expectShape } from "../../nn/params.ts";
import { ConfigError } from "../../core/errors.ts";
import { EncoderBlock, EncoderContext, type BlockParams, type EncoderBnStates, type MaskedRows } from "./block.ts";
import { linspace, validateEncoderConfig, type GaussianEncoderConfig } from "./config.ts";
import type { DevicePlan, DeviceStage } from "./levels.ts";
import { segmentReduce, takeRows, VoxelConv, type VoxelConvParams } from "./ops.ts";
import { orderForBlock } from "./patches.ts";

/** Linear → BN → GELU parameters (pooling and unpooling projections). */
export type ProjParams = { linear: LinearParams; norm: NormParams };

/** Parameters of the whole encoder. */
export type GaussianEncoderParams = {
  embed: { conv: VoxelConvParams; norm: NormParams };
  enc: { pool?: ProjParams; blocks: BlockParams[] }[];
  dec: { proj: ProjParams; skip: ProjParams; blocks: BlockParams[] }[];
};

/** Options of one forward call. */
export interface EncodeOptions {
  train: boolean;
  /** BatchNorm running statistics (from `initState`). */
  state: EncoderBnStates;
  /** PRNG key for drop-path (training). */
  key?: np.Array;
  /**
   * Called after the embedding, each encoder stage and each decoder stage with its name and output, which is
   * borrowed (take `.ref` to keep it): shape tests and eager per-stage timing.
   */
  onStage?: (name: string, x: np.Array) => void;
}

/** Linear → BatchNorm → GELU. */
class Proj {
  readonly linear: Linear;
  readonly norm: BatchNorm;
  constructor(path: string, inC: number, outC: number, cfg: GaussianEncoderConfig) {
    this.linear = new Linear(`${path}.linear`, inC, outC);
    this.norm = new BatchNorm(`${path}.norm`, outC, { eps: cfg.bnEps, momentum: cfg.bnMomentum });
  }
  init(rng: Rng): ProjParams {
    return { linear: this.linear.init(rng), norm: this.norm.init(rng) };
  }
  linearOnly(p: LinearParams, x: np.Array): np.Array {
    return this.linear.apply(p, x);
  }
  normAct(p: NormParams, x: np.Array, ctx: EncoderContext, rows?: MaskedRows): np.Array {
    return gelu(ctx.batchNorm(this.norm, p, x, rows));
  }
}

/** The PTv3 Gaussian encoder of one config. */
export class GaussianEncoder {
  readonly embedConv: VoxelConv;
  readonly embedNorm: BatchNorm;
  readonly pools: (Proj | null)[];
  readonly encBlocks: EncoderBlock[][];
  readonly decProj: Proj[];
  readonly decSkip: Proj[];
  readonly decBlocks: EncoderBlock[][];

  constructor(readonly config: GaussianEncoderConfig) {
    validateEncoderConfig(config);
    const c = config;
    const S = c.encDepths.length;
    this.embedConv = new VoxelConv("embed.conv", c.inChannels, c.encChannels[0], c.embedKernel, { bias: false });
    this.embedNorm = new BatchNorm("embed.norm", c.encChannels[0], { eps: c.bnEps, momentum: c.bnMomentum });
    const encRates = linspace(c.dropPath, c.encDepths.reduce((a, b) => a + b, 0));
    const decRates = linspace(c.dropPath, Math.max(1, c.decDepths.reduce((a, b) => a + b, 0)));
    const opts = { mlpRatio: c.mlpRatio, cpeKernel: c.cpeKernel };
    let at = 0;
    this.pools = [];
    this.encBlocks = [];
    for (let s = 0; s < S; s++) {
      this.pools.push(s > 0 ? new Proj(`enc.${s}.pool`, c.encChannels[s - 1], c.encChannels[s], c) : null);
      const blocks: EncoderBlock[] = [];
      for (let i = 0; i < c.encDepths[s]; i++) {
        blocks.push(new EncoderBlock(`enc.${s}.blocks.${i}`, c.encChannels[s], c.encHeads[s], encRates[at++], opts));
      }
      this.encBlocks.push(blocks);
    }
    // Decoder stage s reads the coarser width: the next decoder stage's, or the deepest encoder stage's.
    const decIn = [...c.decChannels, c.encChannels[S - 1]];
    this.decProj = [];
    this.decSkip = [];
    this.decBlocks = [];
    for (let s = 0; s < S - 1; s++) {
      this.decProj.push(new Proj(`dec.${s}.proj`, decIn[s + 1], c.decChannels[s], c));
      this.decSkip.push(new Proj(`dec.${s}.skip`, c.encChannels[s], c.decChannels[s], c));
      // PTv3 takes stage s's slice of the decoder schedule and reverses it.
      const start = c.decDepths.slice(0, s).reduce((a, b) => a + b, 0);
      const rates = decRates.slice(start, start + c.decDepths[s]).reverse();
      this.decBlocks.push(
        rates.map((r, i) => new EncoderBlock(`dec.${s}.blocks.${i}`, c.decChannels[s], c.decHeads[s], r, opts)),
      );
    }
  }

  /** Output channels per point (32). */
  get outChannels(): number {
    const c = this.config;
    return c.decChannels.length > 0 ? c.decChannels[0] : c.encChannels[0];
  }

  init(rng: Rng): GaussianEncoderParams {
    return {
      embed: { conv: this.embedConv.init(rng), norm: this.embedNorm.init(rng) },
      enc: this.encBlocks.map((blocks, s) => {
        const pool = this.pools[s];
        const stage: { pool?: ProjParams; blocks: BlockParams[] } = { blocks: [] };
        if (pool !== null) stage.pool = pool.init(rng);
        stage.blocks = blocks.map((b) => b.init(rng));
        return stage;
      }),
      dec: this.decBlocks.map((blocks, s) => ({
        proj: this.decProj[s].init(rng),
        skip: this.decSkip[s].init(rng),
        blocks: blocks.map((b) => b.init(rng)),
      })),
    };
  }

  /** Fresh BatchNorm running statistics for every BatchNorm of the encoder. */
  initState(): EncoderBnStates {
    const out: EncoderBnStates = { [this.embedNorm.path]: this.embedNorm.initState() };
    for (const p of [...this.pools, ...this.decProj, ...this.decSkip]) if (p !== null) out[p.norm.path] = p.norm.initState();
    return out;
  }

  private runBlocks(blocks: EncoderBlock[], params: BlockParams[], x: np.Array, stage: DeviceStage, patchSize: number, ctx: EncoderContext): np.Array {
    const partitions = stage.patches.get(patchSize);
    if (partitions === undefined) throw new ConfigError("plan", `no patch partition of size ${patchSize}`);
    blocks.forEach((b, i) => {
      x = b.apply(params[i], x, { geometry: stage.geometry, patches: partitions[orderForBlock(i, partitions.length)] }, ctx);
    });
    return x;
  }

  /**
   * `[N, inChannels]` input rows (in the plan's point order) → `[N, 32]` features and the updated BatchNorm
   * statistics. Consumes `params`, `x` and `options.state` (the returned state replaces it; in eval mode it
   * holds the same arrays); borrows the plan.
   */
  apply(params: GaussianEncoderParams, x: np.Array, plan: DevicePlan, options: EncodeOptions): { y: np.Array; state: EncoderBnStates } {
    const c = this.config;
    const S = c.encDepths.length;
    expectShape("encoder.input", x.shape, [plan.points, c.inChannels]);
    if (plan.stages.length !== S) throw new ConfigError("plan", `has ${plan.stages.length} stages, the config ${S}`);
    const ctx = new EncoderContext(options.train, options.state, options.key);
    x = this.embedConv.apply(params.embed.conv, { x, geometry: plan.embed });
    x = gelu(ctx.batchNorm(this.embedNorm, params.embed.norm, x, plan.stages[0]));
    options.onStage?.("embed", x);
    const skips: np.Array[] = [];
    for (let s = 0; s < S; s++) {
      const pool = this.pools[s];
      const pp = params.enc[s].pool;
      if (pool !== null && pp !== undefined) {
        const prev = plan.stages[s - 1].pool;
        if (prev === undefined) throw new ConfigError("plan", `stage ${s - 1} has no pooling map`);
        // Parents without children (capacity padding) come out at the −1e30 sentinel: the mask zeroes them.
        x = segmentReduce(pool.linearOnly(pp.linear, x), prev.plan, "max").mul(plan.stages[s].mask.ref);
        x = pool.normAct(pp.norm, x, ctx, plan.stages[s]);
      }
      x = this.runBlocks(this.encBlocks[s], params.enc[s].blocks, x, plan.stages[s], c.encPatchSize[s], ctx);
      options.onStage?.(`enc.${s}`, x);
      if (s < S - 1) skips.push(x.ref);
    }
    for (let s = S - 2; s >= 0; s--) {
      const dp = params.dec[s];
      const pool = plan.stages[s].pool;
      if (pool === undefined) throw new ConfigError("plan", `stage ${s} has no pooling map`);
      const proj = this.decProj[s].normAct(dp.proj.norm, this.decProj[s].linearOnly(dp.proj.linear, x), ctx, plan.stages[s + 1]);
      const up = takeRows(proj, pool.cluster.ref);
      const skip = this.decSkip[s].normAct(dp.skip.norm, this.decSkip[s].linearOnly(dp.skip.linear, skips[s]), ctx, plan.stages[s]);
      x = this.runBlocks(this.decBlocks[s], dp.blocks, skip.add(up), plan.stages[s], c.decPatchSize[s], ctx);
      options.onStage?.(`dec.${s}`, x);
    }
    ctx.dispose();
    return { y: x, state: { ...options.state, ...ctx.next } };
  }
}
