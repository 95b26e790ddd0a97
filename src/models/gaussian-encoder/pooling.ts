/**
 * PTv3 grid pooling and unpooling maps (`SerializedPooling` / `SerializedUnpooling`, METHOD.md §9), computed
 * in plain JS: stride 2 merges the 2×2×2 children of each coarser cell, found as the unique values of
 * code ≫ 3. The device side needs only the index tables built here: a segment-max plan of fixed-width gathers
 * for the pooled features, and `cluster` (child → parent) for unpooling.
 */
import { ConfigError } from "../../core/errors.ts";
import { serializationFromCodes, type Serialization, type SerializationOrder } from "./serialization.ts";

/** How the points of one level merge into the next. */
export interface PoolMap {
  /** Number of parents M. */
  parentCount: number;
  /** `[N]` parent of each child: the gather index of unpooling (`parent_feat[cluster]`). */
  cluster: Int32Array;
  /** `[N]` children grouped by parent, parents in ascending code order, children in index order. */
  members: Int32Array;
  /** `[M+1]` parent p owns `members[ptr[p] .. ptr[p+1])`. */
  ptr: Int32Array;
  /** `[M]` one representative child per parent (its first member), whose codes, grid and batch the parent takes. */
  heads: Int32Array;
}

/**
 * Group points by `code ≫ 3·log2(stride)` (Pointcept `SerializedPooling`, stride 2 ⇒ shift 3 bits). Parents
 * are numbered in ascending shifted code, as `torch.unique(sorted=True)` numbers them. Any one order's codes
 * give the same clusters, since every curve's code prefix names the parent cell.
 */
export function gridPoolMap(codes: Float64Array, stride = 2): PoolMap {
  const shift = Math.log2(stride);
  if (!Number.isInteger(shift) || shift < 1) throw new ConfigError("stride", `must be a power of two ≥ 2, got ${stride}`);
  const div = 2 ** (3 * shift);
  const n = codes.length;
  const parentCode = new Float64Array(n);
  for (let i = 0; i < n; i++) parentCode[i] = Math.floor(codes[i] / div);
  const members = new Int32Array(n);
  for (let i = 0; i < n; i++) members[i] = i;
  members.sort((a, b) => parentCode[a] - parentCode[b] || a - b);
  const cluster = new Int32Array(n);
  const ptrList: number[] = [0];
  for (let k = 0; k < n; k++) {
    if (k > 0 && parentCode[members[k]] !== parentCode[members[k - 1]]) ptrList.push(k);
    cluster[members[k]] = ptrList.length - 1;
  }
  if (n > 0) ptrList.push(n);
  const ptr = Int32Array.from(ptrList);
  const M = ptr.length - 1;
  const heads = new Int32Array(M);
  for (let p = 0; p < M; p++) heads[p] = members[ptr[p]];
  return { parentCount: M, cluster, members, ptr, heads };
}

/** The geometry of one encoder level: what serialization, the voxel hash and pooling read. */
export interface PointLevel {
  /** `[N·3]` grid cells at this level's resolution. */
  grid: Int32Array;
  /** `[N·3]` coordinates in metres (the pooled level holds its children's mean). */
  coords: Float32Array;
  /** `[N]` batch (cloud) index of each point. */
  batch: Int32Array;
  /** The level's serialization (codes, orders, inverses). */
  serialization: Serialization;
}

/**
 * The next level after grid pooling with `map` (stride 2): codes shifted right by 3 bits and re-sorted, grid
 * halved, batch from each parent's head, coordinates the mean of the children (Pointcept's segment mean).
 * `orders` may re-permute the order list, as PTv3 does when `shuffle_orders` is on. A depth-0 level stays at
 * depth 0 (its map must then group by cloud, see `planEncoder`).
 */
export function poolLevel(level: PointLevel, map: PoolMap, orders?: readonly SerializationOrder[]): PointLevel {
  const s = level.serialization;
  // A depth-0 level (one cell per cloud) has codes = batch index; it stays at depth 0, codes unshifted.
  const div = s.depth > 0 ? 8 : 1;
  const M = map.parentCount;
  const grid = new Int32Array(M * 3);
  const batch = new Int32Array(M);
  const coords = new Float32Array(M * 3);
  for (let p = 0; p < M; p++) {
    const h = map.heads[p];
    for (let k = 0; k < 3; k++) grid[p * 3 + k] = level.grid[h * 3 + k] >> 1;
    batch[p] = level.batch[h];
    const sum = [0, 0, 0];
    for (let m = map.ptr[p]; m < map.ptr[p + 1]; m++) {
      const i = map.members[m];
      for (let k = 0; k < 3; k++) sum[k] += level.coords[i * 3 + k];
    }
    const count = map.ptr[p + 1] - map.ptr[p];
    for (let k = 0; k < 3; k++) coords[p * 3 + k] = sum[k] / count;
  }
  const wanted = orders ?? s.orders;
  const codes = wanted.map((o) => {
    const from = s.orders.indexOf(o);
    if (from < 0) throw new ConfigError("orders", `order "${o}" was not serialized at the finer level`);
    const out = new Float64Array(M);
    for (let p = 0; p < M; p++) out[p] = Math.floor(s.codes[from][map.heads[p]] / div);
    return out;
  });
  return { grid, coords, batch, serialization: serializationFromCodes(Math.max(0, s.depth - 1), [...wanted], codes) };
}

/** One round of a segment max: gather `rows × width` rows of the previous round's output, max over the width. */
export interface SegmentMaxRound {
  rows: number;
  width: number;
  /** `[rows·width]` indices into the previous round's rows; the value equal to that row count names a −∞ row. */
  index: Int32Array;
}

/**
 * A plan that computes a segment max with fixed-width gathers: each round gathers `[rows, width]` indices
 * (`take` → reshape → max over axis 1), splitting segments longer than `width` into chunks and reducing the
 * chunk maxima in further rounds, so no round is as wide as the largest segment. The final round's row p is
 * segment p. Short chunks are filled with a sentinel index (= the previous round's row count) that the device
 * side points at a −∞ row: repeating a real member instead would tie it with itself and, under a max vjp that
 * gives each tied copy the full gradient, double-count it in the scatter-add.
 */
export function segmentMaxPlan(ptr: Int32Array, members: Int32Array, width = 8): SegmentMaxRound[] {
  if (!Number.isInteger(width) || width < 2) throw new ConfigError("width", `must be an integer ≥ 2, got ${width}`);
  let segments: Int32Array[] = [];
  for (let p = 0; p + 1 < ptr.length; p++) segments.push(members.subarray(ptr[p], ptr[p + 1]));
  let inputRows = members.length;
  const rounds: SegmentMaxRound[] = [];
  for (;;) {
    const chunksPer = segments.map((s) => Math.max(1, Math.ceil(s.length / width)));
    const rows = chunksPer.reduce((a, b) => a + b, 0);
    const index = new Int32Array(rows * width).fill(inputRows);
    const next: Int32Array[] = [];
    let row = 0;
    segments.forEach((s, si) => {
      const ids = new Int32Array(chunksPer[si]);
      for (let c = 0; c < chunksPer[si]; c++) {
        const chunk = s.subarray(c * width, (c + 1) * width);
        index.set(chunk, row * width);
        ids[c] = row++;
      }
      next.push(ids);
    });
    rounds.push({ rows, width, index });
    segments = next;
    inputRows = rows;
    if (segments.every((s) => s.length === 1)) return rounds;
  }
}

/** Plain-JS reference of a segment max over `[N, C]` rows, following `plan` (for tests and CPU checks). */
export function segmentMaxReference(x: Float32Array, channels: number, plan: readonly SegmentMaxRound[]): Float32Array {
  let cur = x;
  for (const r of plan) {
    const prevRows = cur.length / channels;
    const out = new Float32Array(r.rows * channels).fill(-Infinity);
    for (let row = 0; row < r.rows; row++)
      for (let w = 0; w < r.width; w++) {
        const src = r.index[row * r.width + w];
        if (src === prevRows) continue;
        for (let c = 0; c < channels; c++) out[row * channels + c] = Math.max(out[row * channels + c], cur[src * channels + c]);
      }
    cur = out;
  }
  return cur;
}
