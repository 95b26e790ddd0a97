/** Linear (and 1×1 conv): one matmul on a `[rows, in]` view, weights `[out, in]`. */
import { numpy as np } from "../jax.ts";
import type { Rng } from "../../core/rng.ts";
import { expectShape } from "../params.ts";
import { truncNormal, zerosInit, type Layer, type MacCount } from "./common.ts";

/** Parameters of a Linear layer: `weight` is `[out, in]`, `bias` `[out]` when present. */
export type LinearParams = { weight: np.Array; bias?: np.Array };

/** Options of `Linear`. */
export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** Std of the truncated-normal weight init (default 0.02, as SegFormer and ConvNeXt). */
  initStd?: number;
}

/** `y = x Wᵀ + b` over the last axis of any-rank input; a 1×1 conv on an NHWC map is the same layer. */
export class Linear implements Layer<LinearParams> {
  readonly bias: boolean;
  readonly initStd: number;
  constructor(
    readonly path: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    this.bias = options.bias ?? true;
    this.initStd = options.initStd ?? 0.02;
  }

  init(rng: Rng): LinearParams {
    const weight = truncNormal(rng, [this.outFeatures, this.inFeatures], this.initStd);
    return this.bias ? { weight, bias: zerosInit([this.outFeatures]) } : { weight };
  }

  apply(p: LinearParams, x: np.Array): np.Array {
    const lead = x.shape.slice(0, -1);
    expectShape(this.path, x.shape, [...lead, this.inFeatures]);
    expectShape(`${this.path}.weight`, p.weight.shape, [this.outFeatures, this.inFeatures]);
    const rows = lead.reduce((a, b) => a * b, 1);
    let y = np.matmul(x.reshape([rows, this.inFeatures]), p.weight.transpose());
    if (p.bias !== undefined) y = y.add(p.bias);
    return y.reshape([...lead, this.outFeatures]);
  }

  macs(inputShape: readonly number[]): MacCount {
    const rows = inputShape.slice(0, -1).reduce((a, b) => a * b, 1);
    const m = rows * this.inFeatures * this.outFeatures;
    return { macs: m, macsAll: m };
  }
}
