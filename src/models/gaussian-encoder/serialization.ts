/**
 * PTv3 serialization in plain JS (METHOD.md §9): integer grid coordinates at `grid` metres, space-filling-curve
 * codes (z-order, Hilbert and their x↔y "-trans" variants), and the sort order and its inverse.
 *
 * Codes are exact integers held in doubles: depth ≤ 16 bits per axis gives 48 curve bits, and a batch index of
 * up to 5 bits on top stays below 2^53, so no BigInt is needed. Bit work is done on two 24-bit halves, because
 * JS bitwise operators are 32-bit. Sorting is done here rather than in jax-js, whose `argsort` is slow (ENGINE.md).
 */
import { ConfigError } from "../../core/errors.ts";

/** The four PTv3 curves; "-trans" swaps x and y before encoding (Pointcept `grid_coord[:, [1, 0, 2]]`). */
export type SerializationOrder = "z" | "z-trans" | "hilbert" | "hilbert-trans";

/** PTv3's order list, in the order blocks cycle through it (block i uses order i mod 4). */
export const SERIALIZATION_ORDERS: readonly SerializationOrder[] = ["z", "z-trans", "hilbert", "hilbert-trans"];

/** Most bits per axis: Pointcept asserts depth ≤ 16, which keeps 3·depth + batch bits inside a double. */
export const MAX_DEPTH = 16;
/** Most batch bits above the curve bits that keep every code an exact double (48 + 5 ≤ 53). */
export const MAX_BATCH_BITS = 5;

const TWO_24 = 1 << 24;

/** Integer grid coordinates of a point set. */
export interface GridCoords {
  /** `[N·3]` non-negative cell indices ⌊(xyz − min)/grid⌋. */
  grid: Int32Array;
  /** Bits per axis: bit_length of the largest cell index (0 when every point is in cell 0). */
  depth: number;
  /** The per-axis minimum that was subtracted, in metres. */
  origin: [number, number, number];
}

/** Number of bits needed to write `v` (bit_length; 0 for 0). */
export function bitLength(v: number): number {
  return v <= 0 ? 0 : 32 - Math.clz32(v);
}

/**
 * Grid coordinates ⌊(xyz − min)/gridSize⌋ of `[N·3]` positions, as Pointcept's PTv3 computes `grid_coord`
 * when the data pipeline gives none. `origin` overrides the per-axis minimum (chunks of one scene share it).
 */
export function gridCoords(positions: ArrayLike<number>, gridSize: number, origin?: [number, number, number]): GridCoords {
  if (!(gridSize > 0)) throw new ConfigError("grid", `must be positive, got ${gridSize}`);
  const n = Math.floor(positions.length / 3);
  const o: [number, number, number] = origin ?? [Infinity, Infinity, Infinity];
  if (origin === undefined) {
    for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) o[k] = Math.min(o[k], positions[i * 3 + k]);
    if (n === 0) o.fill(0);
  }
  const grid = new Int32Array(n * 3);
  let max = 0;
  for (let i = 0; i < n * 3; i++) {
    const g = Math.floor((positions[i] - o[i % 3]) / gridSize);
    if (g < 0) throw new ConfigError("origin", `position ${positions[i]} lies below the grid origin ${o[i % 3]}`);
    grid[i] = g;
    if (g > max) max = g;
  }
  const depth = bitLength(max);
  if (depth > MAX_DEPTH) {
    throw new ConfigError("grid", `${n} points span ${max + 1} cells of ${gridSize} m on one axis; at most 2^${MAX_DEPTH}`);
  }
  return { grid, depth, origin: o };
}

/** Interleave the bits of (a, b, c), `a` most significant in each triplet: a's bit i → 3i+2, b's → 3i+1, c's → 3i. */
function interleave(a: number, b: number, c: number, depth: number): number {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < depth; i++) {
    const t = (((a >>> i) & 1) << 2) | (((b >>> i) & 1) << 1) | ((c >>> i) & 1);
    if (i < 8) lo |= t << (3 * i);
    else hi |= t << (3 * (i - 8));
  }
  return hi * TWO_24 + lo;
}

/** Z-order (Morton) code of one cell at `depth` bits per axis: x's bit i → bit 3i+2, y's → 3i+1, z's → 3i. */
export function zOrderCode(x: number, y: number, z: number, depth: number): number {
  return interleave(x, y, z, depth);
}

/** Prefix XOR from the most significant bit of a 24-bit word: bit k becomes the XOR of bits ≥ k. */
function prefixXor24(w: number): number {
  w ^= w >>> 1;
  w ^= w >>> 2;
  w ^= w >>> 4;
  w ^= w >>> 8;
  w ^= w >>> 16;
  return w & 0xffffff;
}

/**
 * Hilbert code of one cell at `depth` bits per axis: Skilling's transform (the "inverse undo" pass of
 * AxesToTranspose, most significant bit first, axes in x, y, z order), then the transposed bits are interleaved
 * x-first and Gray-decoded over the whole 3·depth-bit string — the algorithm of Pointcept's `hilbert.encode`
 * (after PrincetonLIPS numpy-hilbert-curve), so codes match PTv3's.
 */
export function hilbertCode(x: number, y: number, z: number, depth: number): number {
  const X = [x, y, z];
  for (let q = 1 << (depth - 1); q > 1; q >>>= 1) {
    const p = q - 1;
    for (let d = 0; d < 3; d++) {
      if (X[d] & q) {
        X[0] ^= p;
      } else {
        const t = (X[0] ^ X[d]) & p;
        X[0] ^= t;
        X[d] ^= t;
      }
    }
  }
  const gray = interleave(X[0], X[1], X[2], depth);
  // Gray → binary: each bit becomes the XOR of itself and every more significant bit of the 48-bit string.
  const hiGray = Math.floor(gray / TWO_24);
  const loGray = gray - hiGray * TWO_24;
  const hi = prefixXor24(hiGray);
  const lo = prefixXor24(loGray) ^ (hi & 1 ? 0xffffff : 0);
  return hi * TWO_24 + lo;
}

/**
 * Codes of every point for one order: `batch ≪ 3·depth | curve(grid)`. `batch` (one entry per point, or
 * omitted for a single cloud) keeps the clouds of a batch in separate code ranges, as Pointcept does.
 */
export function encodeCodes(
  grid: Int32Array,
  depth: number,
  order: SerializationOrder,
  batch?: ArrayLike<number>,
): Float64Array {
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH) {
    throw new ConfigError("depth", `must be an integer in 0..${MAX_DEPTH}, got ${depth}`);
  }
  const n = grid.length / 3;
  const codes = new Float64Array(n);
  const trans = order === "z-trans" || order === "hilbert-trans";
  const curve = order === "z" || order === "z-trans" ? zOrderCode : hilbertCode;
  const batchScale = 2 ** (3 * depth);
  for (let i = 0; i < n; i++) {
    const gx = grid[i * 3];
    const gy = grid[i * 3 + 1];
    const gz = grid[i * 3 + 2];
    const c = depth === 0 ? 0 : trans ? curve(gy, gx, gz, depth) : curve(gx, gy, gz, depth);
    const b = batch === undefined ? 0 : batch[i];
    if (b >= 2 ** MAX_BATCH_BITS) throw new ConfigError("batch", `index ${b} needs more than ${MAX_BATCH_BITS} bits`);
    codes[i] = b * batchScale + c;
  }
  return codes;
}

/** Indices that sort `codes` ascending; ties keep index order, so the result is deterministic. */
export function argsortCodes(codes: Float64Array): Int32Array {
  const order = new Int32Array(codes.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => codes[a] - codes[b] || a - b);
  return order;
}

/** The inverse permutation: `inverse[order[k]] = k`. */
export function inversePermutation(order: Int32Array): Int32Array {
  const inverse = new Int32Array(order.length);
  for (let k = 0; k < order.length; k++) inverse[order[k]] = k;
  return inverse;
}

/** One serialization of a point set: per order, the codes, the sorting permutation and its inverse. */
export interface Serialization {
  /** Curve bits per axis the codes were made at. */
  depth: number;
  orders: SerializationOrder[];
  /** `codes[o][i]`: code of point i under `orders[o]`. */
  codes: Float64Array[];
  /** `order[o][k]`: the point at position k of the curve. */
  order: Int32Array[];
  /** `inverse[o][i]`: the curve position of point i. */
  inverse: Int32Array[];
}

/** Codes, sort order and inverse for each requested order (PTv3 `Point.serialization`). */
export function serialize(
  grid: Int32Array,
  depth: number,
  orders: readonly SerializationOrder[] = SERIALIZATION_ORDERS,
  batch?: ArrayLike<number>,
): Serialization {
  const codes = orders.map((o) => encodeCodes(grid, depth, o, batch));
  return serializationFromCodes(depth, [...orders], codes);
}

/** Complete a serialization from already-computed codes (pooling derives its codes by shifting). */
export function serializationFromCodes(depth: number, orders: SerializationOrder[], codes: Float64Array[]): Serialization {
  const order = codes.map(argsortCodes);
  return { depth, orders, codes, order, inverse: order.map(inversePermutation) };
}
