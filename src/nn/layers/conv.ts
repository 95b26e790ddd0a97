/**
 * Convolutions on NHWC maps, written as matmuls (ENGINE.md rule 1; `lax.conv` runs at ~0.25 GFLOP/s on wasm):
 *
 * - stride 1: the padded map is flattened to `[N, rows·Wp, C]`; tap (dy, dx) is then the contiguous slice that
 *   starts at `dy·Wp + dx`. The kw column shifts are packed into channels, leaving kh matmuls with K = kw·C.
 *   Outputs land on the padded-width grid and the `kw − 1` extra columns are cropped at the end.
 * - stride s: space-to-depth by s turns a k×k stride-s conv into a ⌈k/s⌉×⌈k/s⌉ stride-1 conv over `s²·C`
 *   channels (weights zero-padded to a multiple of s); k = s, p = 0 (patch embedding) is a single matmul.
 * - depthwise: shifted multiply-adds.
 *
 * Dense weights are `[out, kh, kw, in]` (OHWI: `[out, in]` per tap), depthwise weights `[C, kh, kw]`.
 */
import { numpy as np } from "../jax.ts";
import type { Rng } from "../../core/rng.ts";
import { ConfigError } from "../../core/errors.ts";
import { expectShape } from "../params.ts";
import { kaimingNormal, materialize, zerosInit, type Layer, type MacCount } from "./common.ts";

/** Parameters of a dense conv: `weight [out, kh, kw, in]`, `bias [out]` when present. */
export type ConvParams = { weight: np.Array; bias?: np.Array };

/** Largest packed K = kw·C for which the column shifts of a stride-1 conv are packed into channels. */
const PACK_MAX_K = 256;

/** `[top, bottom, left, right]` zero padding. */
export type Padding4 = [number, number, number, number];

/**
 * Stride-1 "valid" correlation of an NHWC map with `w [O, kh, kw, C]` after zero padding by `pad`.
 *
 * The padded map is flattened to `[N, rows·Wp, C]` and its `kw` column shifts are packed side by side into
 * one `[N, ·, kw·C]` buffer; tap row dy is then the contiguous slice starting at `dy·Wp`, so the conv is `kh`
 * matmuls with K = kw·C (fewer, larger matmuls than one per tap, and few kernels in the backward pass).
 */
export function conv2dStride1(x: np.Array, w: np.Array, pad: Padding4): np.Array {
  const [N, H, W, C] = x.shape;
  const [O, kh, kw] = w.shape;
  const [pt, pb, pl, pr] = pad;
  const Hp = H + pt + pb;
  const Wp = W + pl + pr;
  const Ho = Hp - kh + 1;
  const Wo = Wp - kw + 1;
  if (kh === 1 && kw === 1 && pt + pb + pl + pr === 0) {
    const y = np.matmul(x.reshape([N * H * W, C]), w.reshape([O, C]).transpose());
    return y.reshape([N, H, W, O]);
  }
  // One spare zero row keeps the last shifted slice inside the buffer when kw > 1.
  const extra = kw > 1 ? 1 : 0;
  const flat = materialize(np.pad(x, [[0, 0], [pt, pb + extra], [pl, pr], [0, 0]])).reshape([N, (Hp + extra) * Wp, C]);
  const out = convFlat(flat, Wp, Ho, w);
  return Wo === Wp ? out : out.slice([], [], [0, Wo], []);
}

/**
 * The core of a stride-1 conv: `flat` is a materialized, zero-padded map flattened to `[N, rows·Wp, C]` (with a
 * spare zero row when kw > 1); returns `[N, Ho, Wp, O]` on the padded-width grid, last `kw − 1` columns junk.
 */
function convFlat(flat: np.Array, Wp: number, Ho: number, w: np.Array): np.Array {
  const [N, L, C] = flat.shape;
  const [O, kh, kw] = w.shape;
  const terms: np.Array[] = [];
  // Packing pays while K = kw·C is small; wide maps (space-to-depth, C ≥ 64) already give long matmuls per
  // tap, and copying kw shifted versions of them costs more than it saves (measured on this machine).
  if (kw > 1 && kw * C <= PACK_MAX_K) {
    const span = L - (kw - 1);
    const shifts: np.Array[] = [];
    for (let dx = 0; dx < kw; dx++) shifts.push(flat.ref.slice([], [dx, dx + span], []));
    flat.dispose();
    const packed = np.concatenate(shifts, 2);
    for (let dy = 0; dy < kh; dy++) {
      const rows = packed.ref.slice([], [dy * Wp, dy * Wp + Ho * Wp], []);
      terms.push(np.matmul(rows, w.ref.slice([], dy).reshape([O, kw * C]).transpose()));
    }
    packed.dispose();
  } else {
    for (let dy = 0; dy < kh; dy++) {
      for (let dx = 0; dx < kw; dx++) {
        const off = dy * Wp + dx;
        terms.push(np.matmul(flat.ref.slice([], [off, off + Ho * Wp], []), w.ref.slice([], dy, dx, []).transpose()));
      }
    }
    flat.dispose();
  }
  w.dispose();
  return terms.reduce((acc, t) => acc.add(t)).reshape([N, Ho, Wp, O]);
}

/** Output size of a conv along one axis (PyTorch's floor rule). */
export function convOutSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/**
 * General dense conv (square kernel k, stride s, symmetric padding p) via space-to-depth; see the module note.
 * `x` is `[N, H, W, C]`, `w` is `[O, k, k, C]`.
 */
export function conv2d(x: np.Array, w: np.Array, stride: number, pad: number): np.Array {
  const k = w.shape[1];
  if (stride === 1) return conv2dStride1(x, w, [pad, pad, pad, pad]);
  const [N, H, W, C] = x.shape;
  const O = w.shape[0];
  const s = stride;
  const Ho = convOutSize(H, k, s, pad);
  const Wo = convOutSize(W, k, s, pad);
  const ka = Math.ceil(k / s);
  // Rows/cols of the space-to-depth map that the ka×ka valid conv needs to produce Ho×Wo outputs, plus the
  // spare zero row the flat shifted slices need, built in so the map is materialized only once.
  const spare = ka > 1 ? 1 : 0;
  const Hs = Ho + ka - 1 + spare;
  const Ws = Wo + ka - 1;
  const padB = Hs * s - pad - H;
  const padR = Ws * s - pad - W;
  let xp = np.pad(x, [[0, 0], [pad, Math.max(0, padB)], [pad, Math.max(0, padR)], [0, 0]]);
  if (padB < 0 || padR < 0) xp = xp.slice([], [0, Hs * s], [0, Ws * s], []);
  const s2d = materialize(
    xp.reshape([N, Hs, s, Ws, s, C]).transpose([0, 1, 3, 2, 4, 5]).reshape([N, Hs, Ws, s * s * C]),
  );
  const wp = np
    .pad(w, [[0, 0], [0, ka * s - k], [0, ka * s - k], [0, 0]])
    .reshape([O, ka, s, ka, s, C])
    .transpose([0, 1, 3, 2, 4, 5])
    .reshape([O, ka, ka, s * s * C]);
  if (ka === 1) return conv2dStride1(s2d, wp, [0, 0, 0, 0]);
  const out = convFlat(s2d.reshape([N, Hs * Ws, s * s * C]), Ws, Ho, wp);
  return out.slice([], [], [0, Wo], []);
}

/** Options of `Conv2d`. */
export interface Conv2dOptions {
  stride?: number;
  /** Symmetric zero padding (default `(k − 1) / 2` for stride 1, else 0). */
  padding?: number;
  bias?: boolean;
}

/** Dense k×k conv on NHWC maps (1×1, 3×3, 7×7, strided, patch embeddings). */
export class Conv2d implements Layer<ConvParams> {
  readonly stride: number;
  readonly padding: number;
  readonly bias: boolean;
  constructor(
    readonly path: string,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    options: Conv2dOptions = {},
  ) {
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? (this.stride === 1 ? (kernel - 1) / 2 : 0);
    this.bias = options.bias ?? true;
    if (!Number.isInteger(this.padding)) throw new ConfigError(`${path}.padding`, `must be an integer, got ${this.padding}`);
  }

  init(rng: Rng): ConvParams {
    const k = this.kernel;
    const weight = kaimingNormal(rng, [this.outChannels, k, k, this.inChannels], k * k * this.outChannels);
    return this.bias ? { weight, bias: zerosInit([this.outChannels]) } : { weight };
  }

  apply(p: ConvParams, x: np.Array): np.Array {
    expectShape(this.path, x.shape, [null, null, null, this.inChannels]);
    const k = this.kernel;
    expectShape(`${this.path}.weight`, p.weight.shape, [this.outChannels, k, k, this.inChannels]);
    const [, H, W] = x.shape;
    if (convOutSize(H, k, this.stride, this.padding) < 1 || convOutSize(W, k, this.stride, this.padding) < 1) {
      throw new ConfigError(this.path, `input ${H}×${W} is smaller than the ${k}×${k} kernel`);
    }
    const y = conv2d(x, p.weight, this.stride, this.padding);
    return p.bias === undefined ? y : y.add(p.bias);
  }

  /** Output `[N, Ho, Wo, out]` for an input shape. */
  outShape(inputShape: readonly number[]): number[] {
    const [N, H, W] = inputShape;
    const k = this.kernel;
    return [N, convOutSize(H, k, this.stride, this.padding), convOutSize(W, k, this.stride, this.padding), this.outChannels];
  }

  macs(inputShape: readonly number[]): MacCount {
    const [N, Ho, Wo] = this.outShape(inputShape);
    const m = N * Ho * Wo * this.outChannels * this.kernel * this.kernel * this.inChannels;
    return { macs: m, macsAll: m };
  }
}

/** Parameters of a depthwise conv: `weight [C, k, k]`, `bias [C]` when present. */
export type DepthwiseParams = { weight: np.Array; bias?: np.Array };

/**
 * Depthwise k×k conv, stride 1, "same" padding: k² shifted multiply-adds. The zero-padded map is materialized
 * and flattened to `[N, rows·Wp, C]` (then k − 1 spare zeros), so tap (dy, dx) is the contiguous slice starting at
 * dy·Wp + dx, as in `conv2dStride1`; outputs land on the padded-width grid and the 2p extra columns are cropped.
 * A 1-D offset slice keeps the fused kernel's index arithmetic trivial: 2–3× faster on wasm than k² 4-D window
 * slices of the padded map (lite's 7×7 at 80×60×32, measured), for (W + 2p)/W more multiply-adds.
 */
export function depthwiseConv2d(x: np.Array, w: np.Array): np.Array {
  const [N, H, W, C] = x.shape;
  const k = w.shape[1];
  const p = (k - 1) / 2;
  const Wp = W + 2 * p;
  const Hp = H + 2 * p;
  // The k − 1 zeros that keep the last tap's slice inside the buffer are a second pad, of the flattened map:
  // jax-js materializes whatever a pad reads, so the padded map becomes a plain buffer and every tap a plain
  // offset read. Padded in one go, the double negation was fused into the taps instead, and each of the k² reads
  // went through the 2-D pad's bounds checks (lite's stage-1 5×5: 33 → 26 ns an output, one thread, same session).
  const padded = materialize(np.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])).reshape([N, Hp * Wp, C]);
  const flat = np.pad(padded, [[0, 0], [0, k - 1], [0, 0]]);
  const L = H * Wp;
  let acc: np.Array | null = null;
  for (let dy = 0; dy < k; dy++) {
    for (let dx = 0; dx < k; dx++) {
      const off = dy * Wp + dx;
      const term = flat.ref.slice([], [off, off + L], []).mul(w.ref.slice([], dy, dx));
      acc = acc === null ? term : acc.add(term);
    }
  }
  flat.dispose();
  w.dispose();
  const out = (acc as np.Array).reshape([N, H, Wp, C]);
  return Wp === W ? out : out.slice([], [], [0, W], []);
}

/** Depthwise conv layer (k = 3 in Mix-FFN, k = 7 in ConvNeXt). */
export class DepthwiseConv2d implements Layer<DepthwiseParams> {
  readonly bias: boolean;
  constructor(
    readonly path: string,
    readonly channels: number,
    readonly kernel: number,
    options: { bias?: boolean } = {},
  ) {
    if (kernel % 2 !== 1) throw new ConfigError(`${path}.kernel`, `must be odd, got ${kernel}`);
    this.bias = options.bias ?? true;
  }

  init(rng: Rng): DepthwiseParams {
    const k = this.kernel;
    const weight = kaimingNormal(rng, [this.channels, k, k], k * k);
    return this.bias ? { weight, bias: zerosInit([this.channels]) } : { weight };
  }

  apply(p: DepthwiseParams, x: np.Array): np.Array {
    expectShape(this.path, x.shape, [null, null, null, this.channels]);
    expectShape(`${this.path}.weight`, p.weight.shape, [this.channels, this.kernel, this.kernel]);
    const y = depthwiseConv2d(x, p.weight);
    return p.bias === undefined ? y : y.add(p.bias);
  }

  macs(inputShape: readonly number[]): MacCount {
    const [N, H, W] = inputShape;
    const m = N * H * W * this.channels * this.kernel * this.kernel;
    return { macs: m, macsAll: m };
  }
}
