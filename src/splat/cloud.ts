/**
 * GaussianCloud: a 3DGS scene as a struct of typed arrays, stored the way the 3DGS optimizer stores it
 * (log-scales, opacity logits, w-first unit quaternions, SH DC + rest). Arrays live in SharedArrayBuffers so
 * render workers read them without a copy.
 *
 * SH layout: `shRest` is [N, K, 3] with K = (degree+1)² − 1, coefficient-major and colour channel innermost.
 * (Inria PLY stores f_rest channel-major; the PLY reader and writer transpose at the edge.)
 */
import { InvalidFileError } from "../core/errors.ts";

export type ShDegree = 0 | 1 | 2 | 3;

/** Typed arrays an extra per-Gaussian channel may use; the class fixes the PLY property type on write. */
export type ExtraArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

export interface GaussianCloud {
  readonly count: number;
  readonly shDegree: ShDegree;
  /** [N·3] metres. */
  readonly positions: Float32Array;
  /** [N·3] natural log of the per-axis standard deviations. */
  readonly logScales: Float32Array;
  /** [N·4] unit quaternions (w, x, y, z). */
  readonly rotations: Float32Array;
  /** [N] logit of opacity. */
  readonly opacityLogits: Float32Array;
  /** [N·3] degree-0 SH coefficient per colour channel. */
  readonly shDc: Float32Array;
  /** [N·K·3], K = shRestCount(shDegree); coefficient-major, channel innermost. */
  readonly shRest: Float32Array;
  /** Named extra per-Gaussian channels (e.g. `f_pc_0..31`, `label`), in file order. Each has N entries. */
  readonly extras: Map<string, ExtraArray>;
}

/** SH coefficients per colour channel beyond DC: 0, 3, 8, 15 for degrees 0..3. */
export function shRestCount(degree: number): number {
  return (degree + 1) * (degree + 1) - 1;
}

/** The SH degree whose rest-coefficient count (per channel) is `restPerChannel`, or undefined. */
export function shDegreeFromRestCount(restPerChannel: number): ShDegree | undefined {
  const d = [0, 3, 8, 15].indexOf(restPerChannel);
  return d < 0 ? undefined : (d as ShDegree);
}

/** A zeroed Float32Array backed by a SharedArrayBuffer, so worker threads can read it without copying. */
export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

/** An empty cloud (all arrays zeroed, rotations identity) of `count` Gaussians. */
export function allocateCloud(count: number, shDegree: ShDegree): GaussianCloud {
  const rotations = sharedFloat32(count * 4);
  for (let i = 0; i < count; i++) rotations[i * 4] = 1;
  return {
    count,
    shDegree,
    positions: sharedFloat32(count * 3),
    logScales: sharedFloat32(count * 3),
    rotations,
    opacityLogits: sharedFloat32(count),
    shDc: sharedFloat32(count * 3),
    shRest: sharedFloat32(count * shRestCount(shDegree) * 3),
    extras: new Map(),
  };
}

const CORE_FIELDS = ["positions", "logScales", "rotations", "opacityLogits", "shDc", "shRest"] as const;

/**
 * Check array lengths and that every float is finite. `source` names the file for the error.
 * Readers call this last, so a cloud that leaves a reader is always well-formed.
 */
export function validateCloud(cloud: GaussianCloud, source: string): void {
  const n = cloud.count;
  const expected: Record<(typeof CORE_FIELDS)[number], number> = {
    positions: n * 3,
    logScales: n * 3,
    rotations: n * 4,
    opacityLogits: n,
    shDc: n * 3,
    shRest: n * shRestCount(cloud.shDegree) * 3,
  };
  for (const field of CORE_FIELDS) {
    const arr = cloud[field];
    if (arr.length !== expected[field]) {
      throw new InvalidFileError(source, `${field} has ${arr.length} values, expected ${expected[field]}`);
    }
    const bad = firstNonFinite(arr);
    if (bad >= 0) {
      throw new InvalidFileError(source, `non-finite value ${arr[bad]} in ${field} of splat ${fieldIndex(field, bad, cloud)}`);
    }
  }
  for (const [name, arr] of cloud.extras) {
    if (arr.length !== n) throw new InvalidFileError(source, `extra channel ${name} has ${arr.length} values, expected ${n}`);
    if (arr instanceof Float32Array || arr instanceof Float64Array) {
      const bad = firstNonFinite(arr);
      if (bad >= 0) throw new InvalidFileError(source, `non-finite value ${arr[bad]} in property ${name} of splat ${bad}`);
    }
  }
}

function fieldIndex(field: (typeof CORE_FIELDS)[number], flat: number, cloud: GaussianCloud): number {
  const per = { positions: 3, logScales: 3, rotations: 4, opacityLogits: 1, shDc: 3, shRest: shRestCount(cloud.shDegree) * 3 }[field];
  return Math.floor(flat / per);
}

/** Index of the first NaN or ±Inf, or −1. */
export function firstNonFinite(arr: ArrayLike<number>): number {
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    // v - v is NaN exactly for NaN and ±Inf, and is cheaper than Number.isFinite in a tight loop.
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Axis-aligned bounds of the positions. */
export function cloudBounds(cloud: GaussianCloud): { min: [number, number, number]; max: [number, number, number] } {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  const p = cloud.positions;
  for (let i = 0; i < cloud.count; i++) {
    for (let a = 0; a < 3; a++) {
      const v = p[i * 3 + a];
      if (v < min[a]) min[a] = v;
      if (v > max[a]) max[a] = v;
    }
  }
  return { min, max };
}

/** How many extra channels `prefix0, prefix1, …` the cloud has, counting up to the first gap. */
export function featureChannelCount(cloud: GaussianCloud, prefix = "f_pc_"): number {
  let c = 0;
  while (cloud.extras.has(`${prefix}${c}`)) c++;
  return c;
}

/**
 * Gather the extra channels `prefix0 … prefix{C-1}` into one interleaved [N·C] float array, the layout the
 * renderer blends. C defaults to featureChannelCount. Throws if a channel is missing.
 */
export function featureMatrix(cloud: GaussianCloud, prefix = "f_pc_", channels = featureChannelCount(cloud, prefix)): Float32Array {
  const c = channels;
  const out = sharedFloat32(cloud.count * c);
  for (let k = 0; k < c; k++) {
    const src = cloud.extras.get(`${prefix}${k}`);
    if (!src) throw new InvalidFileError("features", `extra channel ${prefix}${k} is missing`);
    for (let i = 0; i < cloud.count; i++) out[i * c + k] = src[i];
  }
  return out;
}

/** Logit with the probability clamped to [1e-6, 1 − 1e-6], for opacities decoded from bytes (0 and 255 occur). */
export function clampedLogit(p: number): number {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** The degree-0 SH constant Y₀⁰ = 1 / (2√π). */
export const SH_C0 = 0.28209479177387814;
