/**
 * Bounding a pre-training pair's encoder rows (a memory bound, not in the paper: jax-js's wasm heap is 4 GiB and a
 * lite pair of two full 0.05 m-subsampled views needs more). Two ways to drop Gaussians from the subsampled
 * scene before it is intersected with the two views:
 *
 * - `thin`: a seeded uniform subset. Keeps the whole overlap but lowers the point density ~10× below what the
 *   encoder later meets when it encodes a full scene.
 * - `crop`: the kept Gaussians nearest to a seeded centre (a Gaussian both views see), up to the cap: a ball of
 *   the scene at the subsample's own density, as point-cloud SSL methods crop (PointContrast, Sonata).
 */
import { ConfigError } from "../../core/errors.ts";
import type { Rng } from "../../core/rng.ts";

/** How `capPairPoints` drops Gaussians. */
export type PairCapMode = "thin" | "crop";
export const PAIR_CAP_MODES: readonly PairCapMode[] = ["thin", "crop"];

/** `mode` checked against the known ones (a ConfigError naming `field` otherwise). */
export function parsePairCapMode(mode: string, field = "pairCap"): PairCapMode {
  if (!(PAIR_CAP_MODES as readonly string[]).includes(mode)) throw new ConfigError(field, `must be one of ${PAIR_CAP_MODES.join(", ")}, got "${mode}"`);
  return mode as PairCapMode;
}

/** Membership flags of an index list over `0..n−1`. */
function flags(indices: ArrayLike<number>, n: number): Uint8Array {
  const f = new Uint8Array(n);
  for (let i = 0; i < indices.length; i++) if (indices[i] < n) f[indices[i]] = 1;
  return f;
}

/**
 * `kept` (ascending) reduced so that its overlap with both views is at most about `maxPoints` rows; unchanged
 * (and no random draw) when it already fits or there is no cap. `positions` (xyz per Gaussian) is read by `crop`.
 * Returns an ascending subset of `kept`.
 */
export function capPairPoints(
  kept: Uint32Array,
  visibleA: ArrayLike<number>,
  visibleB: ArrayLike<number>,
  maxPoints: number | undefined,
  rng: Rng,
  options: { mode?: PairCapMode; positions?: Float32Array } = {},
): Uint32Array {
  if (maxPoints === undefined) return kept;
  const n = kept.length === 0 ? 0 : kept[kept.length - 1] + 1;
  const inA = flags(visibleA, n);
  const inB = flags(visibleB, n);
  let rows = 0;
  for (const g of kept) rows += inA[g] + inB[g];
  if (rows <= maxPoints) return kept;
  if ((options.mode ?? "thin") === "thin") {
    const take = Math.floor((kept.length * maxPoints) / rows);
    const idx = Uint32Array.from(kept);
    for (let i = 0; i < take; i++) {
      const j = i + rng.int(idx.length - i);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
    }
    return idx.subarray(0, take).sort();
  }
  const pos = options.positions;
  if (pos === undefined) throw new ConfigError("positions", "the crop cap needs the Gaussians' positions");
  // The centre is a Gaussian both views keep, so the ball always holds correspondences.
  const shared: number[] = [];
  for (const g of kept) if (inA[g] === 1 && inB[g] === 1) shared.push(g);
  const pool = shared.length > 0 ? shared : Array.from(kept);
  const c = pool[rng.int(pool.length)];
  const cx = pos[3 * c],
    cy = pos[3 * c + 1],
    cz = pos[3 * c + 2];
  const d2 = new Float64Array(kept.length);
  kept.forEach((g, i) => {
    d2[i] = (pos[3 * g] - cx) ** 2 + (pos[3 * g + 1] - cy) ** 2 + (pos[3 * g + 2] - cz) ** 2;
  });
  const order = Uint32Array.from(kept.keys()).sort((i, j) => d2[i] - d2[j] || i - j);
  const out: number[] = [];
  let used = 0;
  for (const i of order) {
    const g = kept[i];
    const cost = inA[g] + inB[g];
    if (used + cost > maxPoints) break;
    used += cost;
    out.push(g);
  }
  return Uint32Array.from(out).sort();
}
