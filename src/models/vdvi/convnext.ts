/**
 * The RGB (view-dependent) branch E_VD: ConvNeXt (METHOD.md §5) on NHWC maps. Stem conv 4×4 stride 4 + LN;
 * blocks DWConv 7×7 → LN → Linear 4C → GELU → Linear → layer-scale → drop-path residual; between stages LN then
 * conv 2×2 stride 2. The map is zero-padded to even size before each 2×2 downsample (METHOD.md §10 row 11) and
 * the input to a multiple of 4 before the stem, so the branch's stage sizes are ⌈H/4⌉, ⌈H/8⌉, … like MiT's.
 */
import { numpy as np } from "../../nn/jax.ts";
import type { Rng } from "../../core/rng.ts";
import {
  Conv2d,
  DepthwiseConv2d,
  LayerNorm,
  Linear,
  geluFast,
  type ConvParams,
  type DepthwiseParams,
  type LinearParams,
  type NormParams,
} from "../../nn/layers/index.ts";
import type { FlopCounter } from "../../nn/flops.ts";
import { expectShape } from "../../nn/params.ts";
import type { ConvNextConfig } from "../configs.ts";
import type { ForwardContext } from "./context.ts";

/** Parameters of one ConvNeXt block. */
export type ConvNextBlockParams = { dw: DepthwiseParams; norm: NormParams; pw1: LinearParams; pw2: LinearParams; gamma: np.Array };

/** One ConvNeXt block on `[N, H, W, C]`. */
export class ConvNextBlock {
  readonly dw: DepthwiseConv2d;
  readonly norm: LayerNorm;
  readonly pw1: Linear;
  readonly pw2: Linear;
  constructor(
    readonly path: string,
    readonly dim: number,
    readonly dropPath: number,
    readonly layerScaleInit: number,
    dwKernel = 7,
    readonly mlpRatio = 4,
  ) {
    this.dw = new DepthwiseConv2d(`${path}.dw`, dim, dwKernel);
    this.norm = new LayerNorm(`${path}.norm`, dim);
    this.pw1 = new Linear(`${path}.pw1`, dim, mlpRatio * dim);
    this.pw2 = new Linear(`${path}.pw2`, mlpRatio * dim, dim);
  }

  init(rng: Rng): ConvNextBlockParams {
    return {
      dw: this.dw.init(rng),
      norm: this.norm.init(rng),
      pw1: this.pw1.init(rng),
      pw2: this.pw2.init(rng),
      gamma: np.full([this.dim], this.layerScaleInit),
    };
  }

  apply(p: ConvNextBlockParams, x: np.Array, ctx: ForwardContext): np.Array {
    let h = this.dw.apply(p.dw, x.ref);
    h = this.norm.apply(p.norm, h);
    h = this.pw2.apply(p.pw2, geluFast(this.pw1.apply(p.pw1, h)));
    h = ctx.dropPath(h.mul(p.gamma), this.dropPath, this.path);
    return x.add(h);
  }

  count(fc: FlopCounter, shape: readonly number[]): void {
    const n = shape.reduce((a, b) => a * b, 1);
    fc.add(this.dw.path, { macs: this.dw.macs(shape).macs, macsAll: this.dw.macs(shape).macsAll });
    fc.add(this.norm.path, this.norm.macs(shape));
    fc.add(this.pw1.path, this.pw1.macs(shape));
    fc.add(this.pw2.path, this.pw2.macs([...shape.slice(0, -1), this.mlpRatio * this.dim]));
    // GELU, layer-scale and the residual add are element-wise: count them in macsAll only.
    fc.add(`${this.path}.elementwise`, { macs: 0, macsAll: this.mlpRatio * n + 2 * n });
  }
}

/** Parameters of a ConvNeXt stage: its entry (stem or downsample) and blocks. */
export type ConvNextStageParams = { down: { norm: NormParams; conv: ConvParams }; blocks: ConvNextBlockParams[] };

/** Zero-pad an NHWC map at the bottom/right to multiples of `m` (a no-op when already aligned). */
export function padToMultiple(x: np.Array, m: number): np.Array {
  const [, H, W] = x.shape;
  const ph = (m - (H % m)) % m;
  const pw = (m - (W % m)) % m;
  if (ph === 0 && pw === 0) return x;
  return np.pad(x, [
    [0, 0],
    [0, ph],
    [0, pw],
    [0, 0],
  ]);
}

/** ConvNeXt with four stages; returns r₁..r₄. */
export class ConvNext {
  readonly stems: { norm: LayerNorm; conv: Conv2d }[] = [];
  readonly blocks: ConvNextBlock[][] = [];
  constructor(
    readonly path: string,
    readonly inChannels: number,
    readonly cfg: ConvNextConfig,
  ) {
    const total = cfg.depths.reduce((a, b) => a + b, 0);
    let index = 0;
    for (let s = 0; s < 4; s++) {
      const dim = cfg.dims[s];
      const sp = `${path}.stages.${s}`;
      // Stage 0's entry is the stem (conv then LN); later entries are LN then the 2×2 conv. Both hold one LN.
      const normCh = s === 0 ? dim : cfg.dims[s - 1];
      const conv = s === 0 ? new Conv2d(`${sp}.down.conv`, inChannels, dim, 4, { stride: 4, padding: 0 }) : new Conv2d(`${sp}.down.conv`, cfg.dims[s - 1], dim, 2, { stride: 2, padding: 0 });
      this.stems.push({ norm: new LayerNorm(`${sp}.down.norm`, normCh), conv });
      const row: ConvNextBlock[] = [];
      for (let b = 0; b < cfg.depths[s]; b++) {
        // timm: drop-path rates rise linearly from 0 to the configured rate over all blocks.
        const rate = total > 1 ? (cfg.dropPath * index) / (total - 1) : 0;
        row.push(new ConvNextBlock(`${sp}.blocks.${b}`, dim, rate, cfg.layerScaleInit, cfg.dwKernel ?? 7, cfg.mlpRatio ?? 4));
        index++;
      }
      this.blocks.push(row);
    }
  }

  init(rng: Rng): ConvNextStageParams[] {
    return this.stems.map((st, s) => ({
      down: { norm: st.norm.init(rng), conv: st.conv.init(rng) },
      blocks: this.blocks[s].map((b) => b.init(rng)),
    }));
  }

  /** Stage s of the branch (0-based) on the previous stage's map (or the image for s = 0). */
  applyStage(s: number, p: ConvNextStageParams, x: np.Array, ctx: ForwardContext): np.Array {
    const st = this.stems[s];
    let h: np.Array;
    if (s === 0) {
      expectShape(this.path, x.shape, [null, null, null, this.inChannels]);
      h = st.norm.apply(p.down.norm, st.conv.apply(p.down.conv, padToMultiple(x, 4)));
    } else {
      h = st.conv.apply(p.down.conv, padToMultiple(st.norm.apply(p.down.norm, x), 2));
    }
    p.blocks.forEach((bp, b) => {
      h = this.blocks[s][b].apply(bp, h, ctx);
    });
    return h;
  }

  /** Count stage s given its input shape; returns the output shape. */
  countStage(fc: FlopCounter, s: number, inShape: readonly number[]): number[] {
    const st = this.stems[s];
    const [N, H, W] = inShape;
    const m = s === 0 ? 4 : 2;
    const padded = [N, Math.ceil(H / m) * m, Math.ceil(W / m) * m, inShape[3]];
    const out = st.conv.outShape(padded);
    fc.add(st.conv.path, st.conv.macs(padded));
    fc.add(st.norm.path, st.norm.macs(s === 0 ? out : inShape));
    for (const b of this.blocks[s]) b.count(fc, out);
    return out;
  }
}
