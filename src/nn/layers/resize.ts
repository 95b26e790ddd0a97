/**
 * Resizing NHWC maps. Bilinear (align_corners = false, PyTorch's rule) either as two interpolation-matrix
 * matmuls (small factors) or as two 2-tap gathers (factors ≥ 4, where a dense matrix is mostly zeros and would
 * cost more than the network; METHOD.md decision 13). Nearest resize is for label maps.
 */
import { numpy as np } from "../jax.ts";
import { ConfigError } from "../../core/errors.ts";
import { computeOnce } from "./common.ts";

/** Source taps of bilinear resampling from `inSize` to `outSize` samples (PyTorch, align_corners = false). */
export function bilinearTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; w0: Float32Array; w1: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w0 = new Float32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const src = Math.max(0, (i + 0.5) * scale - 0.5);
    const lo = Math.min(Math.floor(src), inSize - 1);
    const hi = Math.min(lo + 1, inSize - 1);
    const l = src - lo;
    i0[i] = lo;
    i1[i] = hi;
    w0[i] = 1 - l;
    w1[i] = l;
  }
  return { i0, i1, w0, w1 };
}

/** The `[outSize, inSize]` bilinear interpolation matrix. */
export function bilinearMatrix(inSize: number, outSize: number): Float32Array {
  const { i0, i1, w0, w1 } = bilinearTaps(inSize, outSize);
  const m = new Float32Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    m[i * inSize + i0[i]] += w0[i];
    m[i * inSize + i1[i]] += w1[i];
  }
  return m;
}

/**
 * How `resizeBilinear` computes: dense matrices, 2-tap gathers, integer-factor phases, or pick ("auto": phases
 * for an integer up-sampling factor, else taps for factors ≥ 4 from more than `SMALL_AXIS` samples, else
 * matrices).
 */
export type ResizeMode = "auto" | "matrix" | "taps" | "phases";

/**
 * Longest input axis that "auto" resamples by a matrix even at a factor ≥ 4. The gathers' backward is a
 * scatter-add, which jax-js 0.1.25 runs as a CPU routine outside the compiled graph: lite's decoder takes stage 4
 * from 8 to 60 rows, and that scatter cost ~33 ms of a 400–500 ms training step on one thread. A matrix over ≤ 16
 * input samples is at most 8× the taps' multiply-adds and runs as a matmul both ways; decision 13's concern, dense
 * matrices at full size, starts far above this.
 */
const SMALL_AXIS = 16;

function resizeAxisMatrix(x: np.Array, axis: 1 | 2, outSize: number): np.Array {
  const [N, H, W, C] = x.shape;
  const inSize = axis === 1 ? H : W;
  const m = np.array(bilinearMatrix(inSize, outSize)).reshape([outSize, inSize]);
  // The matrix is broadcast to the batch explicitly: jax-js 0.1.25's matmul of a 2-D by a 3-D array mixes up
  // the batch and row axes of its result.
  const batch = axis === 1 ? N : N * H;
  const mb = np.broadcastTo(m, [batch, outSize, inSize]);
  if (axis === 1) return np.matmul(mb, x.reshape([N, H, W * C])).reshape([N, outSize, W, C]);
  return np.matmul(mb, x.reshape([N * H, W, C])).reshape([N, H, outSize, C]);
}

function resizeAxisTaps(x: np.Array, axis: 1 | 2, outSize: number): np.Array {
  const inSize = x.shape[axis];
  const { i0, i1, w0, w1 } = bilinearTaps(inSize, outSize);
  const wShape = axis === 1 ? [1, outSize, 1, 1] : [1, 1, outSize, 1];
  const a = np.take(x.ref, np.array(i0, { dtype: np.int32 }), axis).mul(np.array(w0).reshape(wShape));
  const b = np.take(x, np.array(i1, { dtype: np.int32 }), axis).mul(np.array(w1).reshape(wShape));
  return a.add(b);
}

/**
 * Up-sampling by an integer factor f along one axis, with no gather and no matrix: output sample f·j + r reads
 * the input at j + o_r, o_r = (r + 0.5)/f − 0.5 ∈ (−½, ½), so it is a fixed 2-tap blend of two of the three
 * samples j − 1, j, j + 1 of the edge-replicated input (edge replication is exactly PyTorch's clamping at both
 * ends). All f phases are one broadcast expression: the three shifted windows, each with a new length-f phase
 * axis after the resized one, times per-phase weights (two of the three non-zero), summed; merging the two axes
 * interleaves the phases. jax-js fuses it into one kernel (a stack of per-phase maps cost f + 1 kernels and
 * measured 15–20 % slower both ways); the backward is slices, pads and a reduction over the phase axis.
 */
function resizeAxisPhases(x: np.Array, axis: 1 | 2, factor: number): np.Array {
  const shape = x.shape;
  const n = shape[axis];
  const at = (a: number, b: number): np.Array => (axis === 1 ? x.ref.slice([], [a, b]) : x.ref.slice([], [], [a, b]));
  const xp = computeOnce(np.concatenate([at(0, 1), x.ref, at(n - 1, n)], axis));
  x.dispose();
  const taps = [new Float32Array(factor), new Float32Array(factor), new Float32Array(factor)];
  for (let r = 0; r < factor; r++) {
    const o = (r + 0.5) / factor - 0.5;
    if (o < 0) {
      taps[0][r] = -o;
      taps[1][r] = 1 + o;
    } else {
      taps[1][r] = 1 - o;
      taps[2][r] = o;
    }
  }
  const withPhase = [...shape];
  withPhase.splice(axis + 1, 0, 1);
  const weightShape = withPhase.map((_, i) => (i === axis + 1 ? factor : 1));
  let y: np.Array | null = null;
  for (let start = 0; start < 3; start++) {
    const window = (axis === 1 ? xp.ref.slice([], [start, start + n]) : xp.ref.slice([], [], [start, start + n])).reshape(withPhase);
    const term = window.mul(np.array(taps[start]).reshape(weightShape));
    y = y === null ? term : y.add(term);
  }
  xp.dispose();
  const out = [...shape];
  out[axis] = n * factor;
  return (y as np.Array).reshape(out);
}

/** Bilinear resize of `[N, H, W, C]` to `[N, outH, outW, C]`, align_corners = false. */
export function resizeBilinear(x: np.Array, outH: number, outW: number, mode: ResizeMode = "auto"): np.Array {
  if (x.ndim !== 4) throw new ConfigError("resizeBilinear", `expected an NHWC map, got shape [${x.shape.join(", ")}]`);
  if (!(outH >= 1 && outW >= 1)) throw new ConfigError("resizeBilinear", `output size ${outW}×${outH} is empty`);
  const integerUp = (inSize: number, outSize: number): boolean => outSize > inSize && outSize % inSize === 0;
  const pick = (inSize: number, outSize: number): "matrix" | "taps" | "phases" => {
    if (mode === "phases") {
      if (!integerUp(inSize, outSize)) throw new ConfigError("resizeBilinear", `phases need an integer up-sampling factor, got ${inSize} → ${outSize}`);
      return mode;
    }
    if (mode !== "auto") return mode;
    if (integerUp(inSize, outSize)) return "phases";
    const large = outSize >= 4 * inSize || inSize >= 4 * outSize;
    return large && inSize > SMALL_AXIS ? "taps" : "matrix";
  };
  const along = (y: np.Array, axis: 1 | 2, inSize: number, outSize: number): np.Array => {
    const how = pick(inSize, outSize);
    if (how === "phases") return resizeAxisPhases(y, axis, outSize / inSize);
    return how === "matrix" ? resizeAxisMatrix(y, axis, outSize) : resizeAxisTaps(y, axis, outSize);
  };
  let y = x;
  const [, H, W] = x.shape;
  // Width first: when up-sampling, the first pass then runs on the fewer (input) rows.
  if (outW !== W) y = along(y, 2, W, outW);
  if (outH !== H) y = along(y, 1, H, outH);
  return y;
}

/** Source index of nearest resampling (PyTorch "nearest": floor(i · in / out)). */
export function nearestIndex(inSize: number, outSize: number): Int32Array {
  const idx = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) idx[i] = Math.min(inSize - 1, Math.floor((i * inSize) / outSize));
  return idx;
}

/** Nearest resize of a `[N, H, W, C]` device map (labels as int32, or any dtype). */
export function resizeNearest(x: np.Array, outH: number, outW: number): np.Array {
  const [, H, W] = x.shape;
  let y = x;
  if (outH !== H) y = np.take(y, np.array(nearestIndex(H, outH), { dtype: np.int32 }), 1);
  if (outW !== W) y = np.take(y, np.array(nearestIndex(W, outW), { dtype: np.int32 }), 2);
  return y;
}

/** Nearest resize of a host label image (row-major `width × height`, one label per pixel). */
export function resizeLabelsNearest(
  labels: Uint16Array,
  width: number,
  height: number,
  outW: number,
  outH: number,
): Uint16Array {
  if (labels.length !== width * height) {
    throw new ConfigError("resizeLabelsNearest", `${labels.length} labels for a ${width}×${height} image`);
  }
  const xs = nearestIndex(width, outW);
  const ys = nearestIndex(height, outH);
  const out = new Uint16Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const row = ys[y] * width;
    for (let x = 0; x < outW; x++) out[y * outW + x] = labels[row + xs[x]];
  }
  return out;
}
