/**
 * The SegFormer MLP decoder (METHOD.md §5, §10 row 13): each stage map c_i → Linear(C_i → E) → bilinear
 * up-sampling to the 1/4 grid; concat [c₄, c₃, c₂, c₁] → 1×1 conv (no bias) → BN → ReLU → Dropout2d = z; 1×1
 * conv → K logits; only the logits are up-sampled to the input size (z stays at 1/4). Resizes of ×4 or more use
 * the 2-tap kernel of `resizeBilinear`, never dense matrices.
 */
import type { numpy as np } from "../../nn/jax.ts";
import type { Rng } from "../../core/rng.ts";
import { BatchNorm, Linear, concatChannels, relu, resizeBilinear, type LinearParams, type NormParams } from "../../nn/layers/index.ts";
import type { FlopCounter } from "../../nn/flops.ts";
import type { BnStates, ForwardContext } from "./context.ts";
import { prod } from "./context.ts";

/** Parameters of the decoder. */
export type DecoderParams = { proj: LinearParams[]; fuse: LinearParams; bn: NormParams; cls: LinearParams };

/** Decoder output: logits (or the head's pre-activation) at the input size and z at 1/4. */
export interface DecoderOutput {
  logits: np.Array;
  z: np.Array;
}

/** SegFormer MLP head over four stage maps. */
export class MlpDecoder {
  readonly proj: Linear[];
  readonly fuse: Linear;
  readonly bn: BatchNorm;
  readonly cls: Linear;
  constructor(
    readonly path: string,
    readonly inDims: readonly number[],
    readonly dim: number,
    readonly outChannels: number,
    readonly dropout: number,
  ) {
    this.proj = inDims.map((c, i) => new Linear(`${path}.proj.${i}`, c, dim));
    this.fuse = new Linear(`${path}.fuse`, 4 * dim, dim, { bias: false });
    this.bn = new BatchNorm(`${path}.bn`, dim);
    this.cls = new Linear(`${path}.cls`, dim, outChannels);
  }

  init(rng: Rng): DecoderParams {
    return { proj: this.proj.map((l) => l.init(rng)), fuse: this.fuse.init(rng), bn: this.bn.init(rng), cls: this.cls.init(rng) };
  }

  initState(): BnStates {
    return { [this.bn.path]: this.bn.initState() };
  }

  /** `maps` are the four stage maps (1/4 … 1/32); `outH × outW` is the input size. */
  apply(p: DecoderParams, maps: np.Array[], outH: number, outW: number, ctx: ForwardContext): DecoderOutput {
    const [, H1, W1] = maps[0].shape;
    const up = maps.map((m, i) => {
      const e = this.proj[i].apply(p.proj[i], m);
      return i === 0 ? e : resizeBilinear(e, H1, W1);
    });
    // SegFormer concatenates the deepest stage first.
    const cat = concatChannels([up[3], up[2], up[1], up[0]]);
    const h = relu(ctx.batchNorm(this.bn, p.bn, this.fuse.apply(p.fuse, cat)));
    const z = ctx.dropChannels(h, this.dropout, `${this.path}.dropout`);
    const small = this.cls.apply(p.cls, z.ref);
    const logits = small.shape[1] === outH && small.shape[2] === outW ? small : resizeBilinear(small, outH, outW);
    return { logits, z };
  }

  /** Count the decoder for stage shapes `shapes` (NHWC) and the output size. */
  count(fc: FlopCounter, shapes: readonly (readonly number[])[], outH: number, outW: number): void {
    const [N, H1, W1] = shapes[0];
    shapes.forEach((s, i) => {
      fc.add(this.proj[i].path, this.proj[i].macs(s));
      // A separable bilinear resize costs about 2 multiply-adds per output element per resized axis.
      if (i > 0) fc.add(`${this.path}.resize.${i}`, { macs: 0, macsAll: 2 * N * (H1 * s[2] + H1 * W1) * this.dim });
    });
    fc.add(this.fuse.path, this.fuse.macs([N, H1, W1, 4 * this.dim]));
    fc.add(this.bn.path, this.bn.macs([N, H1, W1, this.dim]));
    fc.add(this.cls.path, this.cls.macs([N, H1, W1, this.dim]));
    if (H1 !== outH || W1 !== outW) {
      fc.add(`${this.path}.resize.out`, { macs: 0, macsAll: 2 * N * (outH * W1 + outH * outW) * this.outChannels });
    }
    fc.add(`${this.path}.elementwise`, { macs: 0, macsAll: prod([N, H1, W1, this.dim]) });
  }
}
