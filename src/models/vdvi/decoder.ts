/**
 * The SegFormer MLP decoder (METHOD.md §5, §10 row 13): each stage map c_i → Linear(C_i → E) → bilinear
 * up-sampling to the 1/4 grid; concat [c₄, c₃, c₂, c₁] → 1×1 conv (no bias) → BN → ReLU → Dropout2d = z; 1×1
 * conv → K logits; only the logits are up-sampled to the input size (z stays at 1/4). Resizes of ×4 or more use
 * the 2-tap kernels of `resizeBilinear` (integer phases, or gathers), never dense matrices at full size; an axis of
 * at most 16 samples (lite's stage 4 at 320×240: 8 → 60 rows) is resampled by its small matrix, whose backward is
 * a matmul rather than a gather's scatter.
 */
import type { Rng } from "../../core/rng.ts";
import { numpy as np } from "../../nn/jax.ts";
import { BatchNorm, Linear, concatChannels, relu, resizeBilinear, type LinearParams, type NormParams } from "../../nn/layers/index.ts";
import { ConfigError } from "../../core/errors.ts";
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
    /** Fold each projection into the fuse conv (see `VdviConfig.decoderFold`): same function, same parameters. */
    readonly fold = false,
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
    if (this.fold) return this.#applyFolded(p, maps, outH, outW, ctx);
    const [, H1, W1] = maps[0].shape;
    const up = maps.map((m, i) => {
      const e = this.proj[i].apply(p.proj[i], m);
      return i === 0 ? e : resizeBilinear(e, H1, W1);
    });
    // SegFormer concatenates the deepest stage first.
    const cat = concatChannels([up[3], up[2], up[1], up[0]]);
    const h = relu(ctx.batchNorm(this.bn, p.bn, this.fuse.apply(p.fuse, cat)));
    const z = ctx.dropChannels(h, this.dropout, `${this.path}.dropout`);
    return this.#head(p.cls, z, outH, outW);
  }

  #head(cls: LinearParams, z: np.Array, outH: number, outW: number): DecoderOutput {
    const small = this.cls.apply(cls, z.ref);
    const logits = small.shape[1] === outH && small.shape[2] === outW ? small : resizeBilinear(small, outH, outW);
    return { logits, z };
  }

  /**
   * The folded evaluation: fuse(cat[up₄, up₃, up₂, up₁]) = Σᵢ W_f,i·resize(W_p,i·mᵢ + b_p,i) = Σᵢ resize((W_f,i·W_p,i)·mᵢ
   * + W_f,i·b_p,i), because resizing is linear and keeps constants (interpolation rows sum to 1). Each stage's
   * product runs at the stage's own resolution with its own width C_i, and no 4E-wide map is ever built.
   */
  #applyFolded(p: DecoderParams, maps: np.Array[], outH: number, outW: number, ctx: ForwardContext): DecoderOutput {
    const [, H1, W1] = maps[0].shape;
    const E = this.dim;
    const wf = p.fuse.weight; // [E, 4E], input blocks in the order c₄, c₃, c₂, c₁
    let sum: np.Array | null = null;
    for (let i = 0; i < maps.length; i++) {
      const m = maps[i];
      const pi = p.proj[i];
      const block = wf.ref.slice([], [(3 - i) * E, (4 - i) * E]); // [E, E]
      const weight = np.matmul(block.ref, pi.weight); // [E, C_i]
      const bias = pi.bias === undefined ? undefined : np.matmul(block, pi.bias.reshape([E, 1])).reshape([E]);
      if (pi.bias === undefined) block.dispose();
      let y = new Linear(`${this.proj[i].path}.folded`, this.inDims[i], E).apply(bias === undefined ? { weight } : { weight, bias }, m);
      if (i > 0) y = resizeBilinear(y, H1, W1);
      sum = sum === null ? y : sum.add(y);
    }
    wf.dispose();
    p.fuse.bias?.dispose();
    if (sum === null) throw new ConfigError(this.path, "needs four stage maps");
    const h = relu(ctx.batchNorm(this.bn, p.bn, sum));
    const z = ctx.dropChannels(h, this.dropout, `${this.path}.dropout`);
    return this.#head(p.cls, z, outH, outW);
  }

  /** Count the decoder for stage shapes `shapes` (NHWC) and the output size. */
  count(fc: FlopCounter, shapes: readonly (readonly number[])[], outH: number, outW: number): void {
    const [N, H1, W1] = shapes[0];
    if (this.fold) {
      const E = this.dim;
      shapes.forEach((s, i) => {
        // The folded weight W_f,i·W_p,i (E·E·C_i, per call) and the stage's product at its own resolution.
        fc.add(this.proj[i].path, { macs: prod(s.slice(0, 3)) * this.inDims[i] * E + E * E * this.inDims[i], macsAll: prod(s.slice(0, 3)) * this.inDims[i] * E + E * E * this.inDims[i] });
        if (i > 0) fc.add(`${this.path}.resize.${i}`, { macs: 0, macsAll: 2 * N * (s[1] * W1 + H1 * W1) * E + N * H1 * W1 * E });
      });
      this.#countHead(fc, N, H1, W1, outH, outW);
      return;
    }
    shapes.forEach((s, i) => {
      fc.add(this.proj[i].path, this.proj[i].macs(s));
      // A separable bilinear resize costs about 2 multiply-adds per output element per resized axis.
      if (i > 0) fc.add(`${this.path}.resize.${i}`, { macs: 0, macsAll: 2 * N * (H1 * s[2] + H1 * W1) * this.dim });
    });
    fc.add(this.fuse.path, this.fuse.macs([N, H1, W1, 4 * this.dim]));
    this.#countHead(fc, N, H1, W1, outH, outW);
  }

  #countHead(fc: FlopCounter, N: number, H1: number, W1: number, outH: number, outW: number): void {
    fc.add(this.bn.path, this.bn.macs([N, H1, W1, this.dim]));
    fc.add(this.cls.path, this.cls.macs([N, H1, W1, this.dim]));
    if (H1 !== outH || W1 !== outW) {
      fc.add(`${this.path}.resize.out`, { macs: 0, macsAll: 2 * N * (outH * W1 + outH * outW) * this.outChannels });
    }
    fc.add(`${this.path}.elementwise`, { macs: 0, macsAll: prod([N, H1, W1, this.dim]) });
  }
}
