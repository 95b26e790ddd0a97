/**
 * Patch partition for PTv3's serialized attention (METHOD.md §9), in plain JS: points taken in one curve order
 * are cut into patches of K, each cloud of the batch padded to a multiple of K by re-using the points of its
 * preceding patch (no mask), and the patch count padded to a bucket so a jitted step sees few distinct shapes
 * (ENGINE.md rule 2). The device side gathers `[P·K, C]` rows with `gather`, attends within each `[K, C]`
 * patch, and reads each point's result back at `scatter`.
 */
import { ConfigError } from "../../core/errors.ts";

/** Index tables of one patch partition. */
export interface PatchPlan {
  /** Points per patch K. */
  patchSize: number;
  /** Patches P, including the bucket's padding patches. */
  patches: number;
  /** Patches that hold at least one point slot of their own (the rest copy the last one). */
  realPatches: number;
  /** `[P·K]` point index at each slot. */
  gather: Int32Array;
  /** `[N]` the slot whose attention output is point i's (the unpad map; Pointcept's `unpad` ∘ `inverse`). */
  scatter: Int32Array;
}

/**
 * The block's order index: block i of a stage uses order i mod (number of orders), PTv3's cycling through
 * z, z-trans, hilbert, hilbert-trans.
 */
export function orderForBlock(blockIndex: number, orderCount: number): number {
  if (!Number.isInteger(orderCount) || orderCount < 1) throw new ConfigError("orders", `need at least one order, got ${orderCount}`);
  return blockIndex % orderCount;
}

/**
 * The smallest bucket ≥ n: multiples of `multiple`, on a geometric ladder `multiple·⌈growth^k⌉`, so a cloud's
 * size moves between a handful of shapes (each a jit compile) and padding wastes at most a factor `growth`.
 */
export function bucketCount(n: number, multiple = 1, growth = 1.25): number {
  if (!Number.isInteger(multiple) || multiple < 1) throw new ConfigError("multiple", `must be a positive integer, got ${multiple}`);
  if (!(growth > 1)) throw new ConfigError("growth", `must exceed 1, got ${growth}`);
  const units = Math.max(1, Math.ceil(n / multiple));
  let b = 1;
  while (b < units) b = Math.max(b + 1, Math.ceil(b * growth));
  return b * multiple;
}

/** Options of `patchPlan`. */
export interface PatchPlanOptions {
  /** Pad the patch count to `bucketCount(P, 1, growth)` (default true). */
  bucket?: boolean;
  /** Growth of the patch-count ladder (default 1.25). */
  growth?: number;
}

/**
 * Cut the points, taken in `order` (a serialization's sort permutation), into patches of `patchSize`.
 *
 * `batch[i]` is point i's cloud; since codes carry the batch in their top bits, each cloud is one contiguous run
 * of `order`. A cloud of n points fills ⌈n/K⌉ patches: slot j ≥ n of its last patch takes the point at j − K
 * (the preceding patch, Pointcept's `get_padding_and_inverse`); a cloud with fewer than K points repeats its
 * own points cyclically instead — Pointcept shrinks K to the smallest cloud there, which would change shapes.
 */
export function patchPlan(
  order: Int32Array,
  batch: ArrayLike<number>,
  patchSize: number,
  options: PatchPlanOptions = {},
): PatchPlan {
  if (!Number.isInteger(patchSize) || patchSize < 1) throw new ConfigError("patchSize", `must be a positive integer, got ${patchSize}`);
  const K = patchSize;
  const n = order.length;
  if (n === 0) throw new ConfigError("points", "cannot partition an empty point set");
  // Runs of equal batch along the order: [start, end) per cloud.
  const runs: [number, number][] = [];
  const seen = new Set<number>();
  for (let k = 0; k < n; k++) {
    const b = batch[order[k]];
    if (k === 0 || b !== batch[order[k - 1]]) {
      if (seen.has(b)) throw new ConfigError("order", `cloud ${b} is not contiguous in the serialized order`);
      seen.add(b);
      runs.push([k, k]);
    }
    runs[runs.length - 1][1] = k + 1;
  }
  const realPatches = runs.reduce((a, [s, e]) => a + Math.ceil((e - s) / K), 0);
  const P = options.bucket === false ? realPatches : bucketCount(realPatches, 1, options.growth ?? 1.25);
  const gather = new Int32Array(P * K);
  const scatter = new Int32Array(n);
  let slot = 0;
  for (const [s, e] of runs) {
    const count = e - s;
    const padded = Math.ceil(count / K) * K;
    for (let j = 0; j < padded; j++) {
      const src = j < count ? j : count >= K ? j - K : j % count;
      gather[slot + j] = order[s + src];
      if (j < count) scatter[order[s + j]] = slot + j;
    }
    slot += padded;
  }
  // Bucket padding: whole copies of the last real patch, whose outputs nothing reads.
  for (let p = realPatches; p < P; p++) gather.copyWithin(p * K, (realPatches - 1) * K, realPatches * K);
  return { patchSize: K, patches: P, realPatches, gather, scatter };
}
