/** Pieces every layer shares: the layer contract, initializers and small array helpers. */
import { numpy as np } from "../jax.ts";
import type { Rng } from "../../core/rng.ts";
import type { ParamTree } from "../params.ts";

/**
 * A layer: static configuration plus a pure `apply(params, input)`. `init` draws fresh parameters from a seeded
 * generator; `macs` counts multiply-adds for an input shape (the FLOP counter sums these).
 *
 * jax-js arrays are reference counted and functions consume their arguments, so `apply` consumes both the
 * parameter tree and the input; pass `refParams(p)` / `x.ref` to keep using them.
 */
export interface Layer<P extends ParamTree, I = np.Array, O = np.Array> {
  /** Dotted parameter path, used in error messages and checkpoint names. */
  readonly path: string;
  init(rng: Rng): P;
  apply(params: P, input: I): O;
}

/** Multiply-add counts of one layer call: `macs` counts conv and linear only, `macsAll` adds the rest. */
export interface MacCount {
  macs: number;
  macsAll: number;
}

/** A float32 device array of `shape` from a JS fill function (initializers run in JS so they are seed-exact). */
export function fromFill(shape: number[], fill: (out: Float32Array) => void): np.Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const buf = new Float32Array(n);
  fill(buf);
  return np.array(buf).reshape(shape);
}

/** Normal(0, std) truncated to ±2 std by redrawing, as timm's `trunc_normal_` (std 0.02 for transformer linears). */
export function truncNormal(rng: Rng, shape: number[], std: number): np.Array {
  return fromFill(shape, (out) => {
    for (let i = 0; i < out.length; i++) {
      let v = rng.normal();
      while (v < -2 || v > 2) v = rng.normal();
      out[i] = v * std;
    }
  });
}

/** Kaiming-normal with the given fan (fan-out for convs, as SegFormer and ConvNeXt decoders initialize). */
export function kaimingNormal(rng: Rng, shape: number[], fan: number): np.Array {
  const std = Math.sqrt(2 / fan);
  return fromFill(shape, (out) => rng.fillNormal(out, 0, std));
}

/** Uniform(−bound, bound), PyTorch's default for Linear and Conv with bound = 1/√fanIn. */
export function uniformInit(rng: Rng, shape: number[], bound: number): np.Array {
  return fromFill(shape, (out) => rng.fillUniform(out, -bound, bound));
}

/** Zeros (float32): biases, norm shifts. */
export function zerosInit(shape: number[]): np.Array {
  return np.zeros(shape);
}

/** Ones (float32): norm scales, BatchNorm running variance. */
export function onesInit(shape: number[]): np.Array {
  return np.ones(shape);
}

/**
 * Force `x` to be computed into its own buffer inside a jitted graph. jax-js fuses view operations (pad,
 * slice, reshape, transpose) into whatever reads them; fused into a matmul, a padded view turns the matmul's
 * fast tiled SIMD path into a slow gather path (ENGINE.md: ~1–2 GFLOP/s instead of 20–50). A double negation is
 * a real elementwise kernel that the jaxpr simplifier does not fold away, so its output is a plain buffer.
 */
export function materialize(x: np.Array): np.Array {
  return x.neg().neg();
}

/**
 * Compute `x` once into a buffer that element-wise consumers then read, where `materialize` is not enough:
 * jax-js materializes a value only at a kernel boundary (a matmul input, a reduction, a graph output) or when
 * it feeds two kernels, and otherwise fuses it into every read of it. A tensor read at several offsets (the
 * three windows of an edge-replicated map) would be recomputed per read, and a `concatenate`, lowered to a sum
 * of masked reads of its parts, costs all of them at each one. Adding 0·Σx makes `x` feed a second kernel (the
 * sum); the value is unchanged unless `x` holds an infinity or a NaN, which then spreads to every element.
 * Measured on the ×4 up-sampling of lite's 80×60×28 logits: forward 17 → 8 ms, backward 29 → 19 ms (one thread).
 */
export function computeOnce(x: np.Array): np.Array {
  return x.ref.add(np.sum(x).mul(0));
}
