/**
 * View pairs for contrastive pre-training (METHOD.md §3, issue 4 §3): each camera sees the Gaussians inside its
 * frustum, two views overlap by the IoU of those sets, pairs with an IoU in (0.3, 0.8) are kept, and the shared
 * Gaussians are the positive correspondences.
 *
 * Visibility is one bitset per view (N/32 words), so a 150k-Gaussian, 48-view scene costs one pass of point
 * transforms plus 1128 popcounts over 4.7k words: tens of milliseconds, no per-Gaussian objects.
 */
import type { Camera } from "../core/camera.ts";
import { ConfigError, ShapeError } from "../core/errors.ts";

/** The NDC limit of METHOD.md §3: the rasterizer's 1.3× guard band. */
export const FRUSTUM_NDC_LIMIT = 1.3;

/** Per-view frustum membership of one scene's Gaussians. */
export interface ViewVisibility {
  /** Gaussians N. */
  readonly count: number;
  /** Uint32 words per view bitset: ceil(N / 32). */
  readonly words: number;
  /** One bitset per view: bit i of word i >>> 5 is set when Gaussian i is in that view's frustum. */
  readonly bits: readonly Uint32Array[];
  /** Visible Gaussians per view. */
  readonly sizes: Uint32Array;
}

function checkPositions(where: string, positions: Float32Array): number {
  if (positions.length % 3 !== 0) throw new ShapeError(where, "positions [N·3]", `[${positions.length}]`);
  return positions.length / 3;
}

/**
 * Mark the Gaussians inside one camera's frustum: view-space z > 0 and NDC x, y within ±`ndcLimit`.
 *
 * NDC is taken as x = 2u/W − 1, y = 2v/H − 1 from the pixel projection, so an off-centre principal point moves
 * the frustum as it does in the rasterizer (DATA.md §2); for cx = W/2 it equals 3DGS's projection-matrix NDC.
 * z > 0 rather than the reference code's z ≥ 0 because a point on the camera plane has no projection.
 * @param out a zeroed or reusable bitset of ceil(N/32) words; it is cleared first.
 * @returns the bitset and the number of visible Gaussians.
 */
export function frustumBitset(
  positions: Float32Array,
  camera: Camera,
  ndcLimit = FRUSTUM_NDC_LIMIT,
  out?: Uint32Array,
): { bits: Uint32Array; size: number } {
  const n = checkPositions("frustumBitset", positions);
  const words = Math.ceil(n / 32);
  if (out !== undefined && out.length !== words) {
    throw new ShapeError("frustumBitset", `out [${words}] (ceil(N/32) for N = ${n})`, `out [${out.length}]`);
  }
  const bits = out ?? new Uint32Array(words);
  bits.fill(0);
  const m = camera.viewMatrix;
  const m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3];
  const m4 = m[4], m5 = m[5], m6 = m[6], m7 = m[7];
  const m8 = m[8], m9 = m[9], m10 = m[10], m11 = m[11];
  // |2u/W − 1| ≤ L with u = fx·x/z + cx is (1 − L)·W/2 ≤ u ≤ (1 + L)·W/2: bounds on x/z, compared as x
  // against bound·z so no division is needed per Gaussian.
  const L = ndcLimit;
  const xLo = ((1 - L) * camera.width * 0.5 - camera.cx) / camera.fx;
  const xHi = ((1 + L) * camera.width * 0.5 - camera.cx) / camera.fx;
  const yLo = ((1 - L) * camera.height * 0.5 - camera.cy) / camera.fy;
  const yHi = ((1 + L) * camera.height * 0.5 - camera.cy) / camera.fy;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const px = positions[i * 3],
      py = positions[i * 3 + 1],
      pz = positions[i * 3 + 2];
    const z = m8 * px + m9 * py + m10 * pz + m11;
    if (!(z > 0)) continue;
    const x = m0 * px + m1 * py + m2 * pz + m3;
    if (x < xLo * z || x > xHi * z) continue;
    const y = m4 * px + m5 * py + m6 * pz + m7;
    if (y < yLo * z || y > yHi * z) continue;
    bits[i >>> 5] |= 1 << (i & 31);
    size++;
  }
  return { bits, size };
}

/** Frustum bitsets of every camera over one scene's Gaussian positions ([N·3], metres). */
export function viewVisibility(
  positions: Float32Array,
  cameras: readonly Camera[],
  ndcLimit = FRUSTUM_NDC_LIMIT,
): ViewVisibility {
  const count = checkPositions("viewVisibility", positions);
  const bits: Uint32Array[] = [];
  const sizes = new Uint32Array(cameras.length);
  cameras.forEach((cam, v) => {
    const r = frustumBitset(positions, cam, ndcLimit);
    bits.push(r.bits);
    sizes[v] = r.size;
  });
  return { count, words: Math.ceil(count / 32), bits, sizes };
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

function checkView(where: string, vis: ViewVisibility, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= vis.bits.length) {
    throw new ConfigError(`${where}.view`, `must be an integer in 0..${vis.bits.length - 1}, got ${v}`);
  }
}

/** Gaussians seen by both views. */
export function sharedCount(vis: ViewVisibility, a: number, b: number): number {
  checkView("sharedCount", vis, a);
  checkView("sharedCount", vis, b);
  const x = vis.bits[a],
    y = vis.bits[b];
  let s = 0;
  for (let w = 0; w < vis.words; w++) s += popcount(x[w] & y[w]);
  return s;
}

/**
 * Frustum IoU |A ∩ B| / |A ∪ B| of two views' visible Gaussian sets (0 when neither sees any). This is also
 * the overlap test that `viewConsistency` (src/metrics) expects as its `frustumIoU` callback.
 */
export function frustumIoU(vis: ViewVisibility, a: number, b: number): number {
  const inter = sharedCount(vis, a, b);
  const union = vis.sizes[a] + vis.sizes[b] - inter;
  return union === 0 ? 0 : inter / union;
}

/** Every view pair's frustum IoU as a symmetric row-major [V × V] matrix with ones on the diagonal. */
export function frustumIoUMatrix(vis: ViewVisibility): Float64Array {
  const v = vis.bits.length;
  const out = new Float64Array(v * v);
  for (let a = 0; a < v; a++) {
    out[a * v + a] = vis.sizes[a] > 0 ? 1 : 0;
    for (let b = a + 1; b < v; b++) out[a * v + b] = out[b * v + a] = frustumIoU(vis, a, b);
  }
  return out;
}

function setBits(bits: Uint32Array, words: number, size: number): Uint32Array {
  const out = new Uint32Array(size);
  let k = 0;
  for (let w = 0; w < words; w++) {
    let word = bits[w];
    while (word !== 0) {
      const low = word & -word;
      out[k++] = w * 32 + (31 - Math.clz32(low));
      word ^= low;
    }
  }
  return out;
}

/** Ascending indices of the Gaussians in one view's frustum. */
export function visibleIndices(vis: ViewVisibility, v: number): Uint32Array {
  checkView("visibleIndices", vis, v);
  return setBits(vis.bits[v], vis.words, vis.sizes[v]);
}

/** Ascending indices of the Gaussians both views see: the positive correspondences of a pair. */
export function sharedGaussians(vis: ViewVisibility, a: number, b: number): Uint32Array {
  const n = sharedCount(vis, a, b);
  const x = vis.bits[a],
    y = vis.bits[b];
  const both = new Uint32Array(vis.words);
  for (let w = 0; w < vis.words; w++) both[w] = x[w] & y[w];
  return setBits(both, vis.words, n);
}

/**
 * Correspondences as positions in each view's cropped list (the reference code's `(index_1, index_2)` rows):
 * for each shared Gaussian, its rank among view a's visible Gaussians and among view b's.
 * @returns [M·2] interleaved (rank in a, rank in b), in ascending Gaussian order.
 */
export function cropCorrespondences(vis: ViewVisibility, a: number, b: number): Uint32Array {
  checkView("cropCorrespondences", vis, a);
  checkView("cropCorrespondences", vis, b);
  const x = vis.bits[a],
    y = vis.bits[b];
  const out = new Uint32Array(2 * sharedCount(vis, a, b));
  let ra = 0,
    rb = 0,
    k = 0;
  for (let w = 0; w < vis.words; w++) {
    const xa = x[w],
      yb = y[w];
    let both = xa & yb;
    while (both !== 0) {
      const low = both & -both;
      // Bits under the shared one; for bit 31, low is −2^31 and low − 1 wraps to 0x7fffffff under ToInt32.
      const below = low - 1;
      out[k++] = ra + popcount(xa & below);
      out[k++] = rb + popcount(yb & below);
      both ^= low;
    }
    ra += popcount(xa);
    rb += popcount(yb);
  }
  return out;
}

/** One contrastive pair: view indices, their frustum IoU and the shared Gaussians. */
export interface ViewPair {
  /** The earlier view. */
  a: number;
  /** The later view. */
  b: number;
  iou: number;
  /** Ascending indices of the Gaussians both views see. */
  shared: Uint32Array;
}

/** How pairs are chosen; the defaults take every pair in the IoU band. */
export interface ViewPairOptions {
  /** Exclusive lower IoU bound (default 0.3). */
  minIoU?: number;
  /** Exclusive upper IoU bound (default 0.8). */
  maxIoU?: number;
  /** Only every `anchorStride`-th view is a first view (default 1). */
  anchorStride?: number;
  /**
   * A second view is kept only when `lastSaved + minGap ≤ b`, where `lastSaved` starts at 0 for each anchor and
   * becomes b after each kept pair (default 0: every pair in the band). This is the reference code's rule,
   * including its quirk that the first gap is measured from frame 0 rather than from the anchor.
   */
  minGap?: number;
  /** NDC half-extent of the frustum (default 1.3). */
  ndcLimit?: number;
}

/**
 * The reference code's Replica selection (METHOD.md §3): view 1 every 25th camera, view 2 at least 25 frames
 * after the last saved pair.
 */
export const PAPER_PAIR_SELECTION: Readonly<ViewPairOptions> = { anchorStride: 25, minGap: 25 };

/**
 * Contrastive view pairs of one scene: views (a, b), a < b, whose frustum IoU lies strictly inside
 * (minIoU, maxIoU), with their shared Gaussians as correspondences.
 * @param positions the scene's Gaussian centres, `GaussianCloud.positions` ([N·3], metres).
 * @param visibility precomputed {@link viewVisibility} for these cameras, to share one culling pass.
 */
export function viewPairs(
  positions: Float32Array,
  cameras: readonly Camera[],
  options: ViewPairOptions = {},
  visibility?: ViewVisibility,
): ViewPair[] {
  const minIoU = options.minIoU ?? 0.3;
  const maxIoU = options.maxIoU ?? 0.8;
  const stride = options.anchorStride ?? 1;
  const minGap = options.minGap ?? 0;
  if (!(minIoU >= 0 && minIoU < maxIoU && maxIoU <= 1)) {
    throw new ConfigError("minIoU", `need 0 ≤ minIoU < maxIoU ≤ 1, got (${minIoU}, ${maxIoU})`);
  }
  if (!Number.isInteger(stride) || stride < 1) {
    throw new ConfigError("anchorStride", `must be a positive integer, got ${stride}`);
  }
  if (!Number.isInteger(minGap) || minGap < 0) throw new ConfigError("minGap", `must be a non-negative integer, got ${minGap}`);
  const vis = visibility ?? viewVisibility(positions, cameras, options.ndcLimit);
  if (vis.bits.length !== cameras.length || vis.count !== positions.length / 3) {
    throw new ShapeError(
      "viewPairs",
      `visibility of ${cameras.length} views × ${positions.length / 3} Gaussians`,
      `${vis.bits.length} views × ${vis.count} Gaussians`,
    );
  }
  const pairs: ViewPair[] = [];
  for (let a = 0; a < cameras.length - 1; a += stride) {
    let lastSaved = 0;
    for (let b = a + 1; b < cameras.length; b++) {
      const iou = frustumIoU(vis, a, b);
      if (!(iou > minIoU && iou < maxIoU) || lastSaved + minGap > b) continue;
      pairs.push({ a, b, iou, shared: sharedGaussians(vis, a, b) });
      lastSaved = b;
    }
  }
  return pairs;
}
