/**
 * The feature (view-independent) branch E_VI: MiT, the SegFormer encoder (METHOD.md §5), on NHWC maps. Each
 * stage: patch embedding (stage 1: 7×7 stride 4 overlapping conv, or lite's 4×4 stride-4 space-to-depth; later
 * 3×3 stride 2) + LN; pre-LN blocks of spatial-reduction attention and Mix-FFN (Linear → DWConv 3×3 → GELU →
 * Linear) with drop-path residuals; a LayerNorm at the end of the stage.
 */
import type { numpy as np } from "../../nn/jax.ts";
import type { Rng } from "../../core/rng.ts";
import {
  Conv2d,
  DepthwiseConv2d,
  LayerNorm,
  Linear,
  SpatialReductionAttention,
  geluFast,
  type ConvParams,
  type DepthwiseParams,
  type LinearParams,
  type NormParams,
  type SraParams,
} from "../../nn/layers/index.ts";
import type { FlopCounter } from "../../nn/flops.ts";
import { expectShape } from "../../nn/params.ts";
import type { MitConfig } from "../configs.ts";
import type { ForwardContext } from "./context.ts";
import { padToMultiple } from "./convnext.ts";

/** Parameters of Mix-FFN. */
export type MixFfnParams = { fc1: LinearParams; dw: DepthwiseParams; fc2: LinearParams };

/** Mix-FFN on an `[N, H, W, C]` map: Linear → DWConv 3×3 → GELU → Linear. */
export class MixFfn {
  readonly fc1: Linear;
  readonly dw: DepthwiseConv2d;
  readonly fc2: Linear;
  constructor(
    readonly path: string,
    readonly dim: number,
    readonly hidden: number,
  ) {
    this.fc1 = new Linear(`${path}.fc1`, dim, hidden);
    this.dw = new DepthwiseConv2d(`${path}.dw`, hidden, 3);
    this.fc2 = new Linear(`${path}.fc2`, hidden, dim);
  }

  init(rng: Rng): MixFfnParams {
    return { fc1: this.fc1.init(rng), dw: this.dw.init(rng), fc2: this.fc2.init(rng) };
  }

  apply(p: MixFfnParams, x: np.Array): np.Array {
    return this.fc2.apply(p.fc2, geluFast(this.dw.apply(p.dw, this.fc1.apply(p.fc1, x))));
  }

  count(fc: FlopCounter, shape: readonly number[]): void {
    const hid = [...shape.slice(0, -1), this.hidden];
    fc.add(this.fc1.path, this.fc1.macs(shape));
    fc.add(this.dw.path, this.dw.macs(hid));
    fc.add(`${this.path}.gelu`, { macs: 0, macsAll: 4 * hid.reduce((a, b) => a * b, 1) });
    fc.add(this.fc2.path, this.fc2.macs(hid));
  }
}

/** Parameters of one MiT block. */
export type MitBlockParams = { norm1: NormParams; attn: SraParams; norm2: NormParams; ffn: MixFfnParams };

/** One MiT block: x + DropPath(SRA(LN x)); x + DropPath(MixFFN(LN x)). */
export class MitBlock {
  readonly norm1: LayerNorm;
  readonly attn: SpatialReductionAttention;
  readonly norm2: LayerNorm;
  readonly ffn: MixFfn;
  constructor(
    readonly path: string,
    readonly dim: number,
    heads: number,
    sr: number,
    mlpRatio: number,
    readonly dropPath: number,
  ) {
    this.norm1 = new LayerNorm(`${path}.norm1`, dim);
    this.attn = new SpatialReductionAttention(`${path}.attn`, dim, heads, sr);
    this.norm2 = new LayerNorm(`${path}.norm2`, dim);
    this.ffn = new MixFfn(`${path}.ffn`, dim, dim * mlpRatio);
  }

  init(rng: Rng): MitBlockParams {
    return { norm1: this.norm1.init(rng), attn: this.attn.init(rng), norm2: this.norm2.init(rng), ffn: this.ffn.init(rng) };
  }

  apply(p: MitBlockParams, x: np.Array, ctx: ForwardContext): np.Array {
    const [N, H, W, C] = x.shape;
    const tokens = this.norm1.apply(p.norm1, x.ref).reshape([N, H * W, C]);
    const a = this.attn.apply(p.attn, { tokens, height: H, width: W }).reshape([N, H, W, C]);
    const x1 = x.add(ctx.dropPath(a, this.dropPath, `${this.path}.attn`));
    const f = this.ffn.apply(p.ffn, this.norm2.apply(p.norm2, x1.ref));
    return x1.add(ctx.dropPath(f, this.dropPath, `${this.path}.ffn`));
  }

  count(fc: FlopCounter, shape: readonly number[]): void {
    const [N, H, W, C] = shape;
    fc.add(this.norm1.path, this.norm1.macs(shape));
    fc.add(this.attn.path, this.attn.macs([N, H * W, C], H, W));
    fc.add(this.norm2.path, this.norm2.macs(shape));
    this.ffn.count(fc, shape);
  }
}

/** Parameters of a MiT stage. */
export type MitStageParams = { embed: { conv: ConvParams; norm: NormParams }; blocks: MitBlockParams[]; norm: NormParams };

/** MiT with four stages; returns d₁..d₄ stage by stage (the caller fuses between stages). */
export class Mit {
  readonly embeds: { conv: Conv2d; norm: LayerNorm }[] = [];
  readonly blocks: MitBlock[][] = [];
  readonly norms: LayerNorm[] = [];
  constructor(
    readonly path: string,
    readonly cfg: MitConfig,
  ) {
    const total = cfg.depths.reduce((a, b) => a + b, 0);
    let index = 0;
    for (let s = 0; s < 4; s++) {
      const sp = `${path}.stages.${s}`;
      const dim = cfg.dims[s];
      const inCh = s === 0 ? cfg.inChannels : cfg.dims[s - 1];
      const conv =
        s > 0
          ? new Conv2d(`${sp}.embed.conv`, inCh, dim, 3, { stride: 2, padding: 1 })
          : cfg.stem === "overlap7"
            ? new Conv2d(`${sp}.embed.conv`, inCh, dim, 7, { stride: 4, padding: 3 })
            : new Conv2d(`${sp}.embed.conv`, inCh, dim, 4, { stride: 4, padding: 0 });
      this.embeds.push({ conv, norm: new LayerNorm(`${sp}.embed.norm`, dim, { eps: 1e-5 }) });
      const row: MitBlock[] = [];
      for (let b = 0; b < cfg.depths[s]; b++) {
        const rate = total > 1 ? (cfg.dropPath * index) / (total - 1) : 0;
        row.push(new MitBlock(`${sp}.blocks.${b}`, dim, cfg.heads[s], cfg.sr[s], cfg.mlpRatio, rate));
        index++;
      }
      this.blocks.push(row);
      this.norms.push(new LayerNorm(`${sp}.norm`, dim));
    }
  }

  init(rng: Rng): MitStageParams[] {
    return this.embeds.map((e, s) => ({
      embed: { conv: e.conv.init(rng), norm: e.norm.init(rng) },
      blocks: this.blocks[s].map((b) => b.init(rng)),
      norm: this.norms[s].init(rng),
    }));
  }

  /** The patch-embedding input for stage s: the 4×4 space-to-depth stem needs a multiple of 4. */
  #embedInput(s: number, x: np.Array): np.Array {
    return s === 0 && this.cfg.stem === "patch4" ? padToMultiple(x, 4) : x;
  }

  applyStage(s: number, p: MitStageParams, x: np.Array, ctx: ForwardContext): np.Array {
    if (s === 0) expectShape(this.path, x.shape, [null, null, null, this.cfg.inChannels]);
    const e = this.embeds[s];
    let h = e.norm.apply(p.embed.norm, e.conv.apply(p.embed.conv, this.#embedInput(s, x)));
    p.blocks.forEach((bp, b) => {
      h = this.blocks[s][b].apply(bp, h, ctx);
    });
    return this.norms[s].apply(p.norm, h);
  }

  countStage(fc: FlopCounter, s: number, inShape: readonly number[]): number[] {
    const e = this.embeds[s];
    const [N, H, W, C] = inShape;
    const shape = s === 0 && this.cfg.stem === "patch4" ? [N, Math.ceil(H / 4) * 4, Math.ceil(W / 4) * 4, C] : [...inShape];
    const out = e.conv.outShape(shape);
    fc.add(e.conv.path, e.conv.macs(shape));
    fc.add(e.norm.path, e.norm.macs(out));
    for (const b of this.blocks[s]) b.count(fc, out);
    fc.add(this.norms[s].path, this.norms[s].macs(out));
    return out;
  }
}
