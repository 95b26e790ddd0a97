/**
 * Stage 2 of the rasterizer: give every 16×16 tile its list of Gaussians, front to back. Sorting all visible
 * Gaussians once by view depth (a stable radix sort, so ties keep index order) and then bucketing them by tile in
 * that order yields exactly the per-tile (tile, depth, index) order of the reference's key sort — no global-sort
 * popping — without sorting the much longer list of tile instances. Counting splits across threads (ranges of
 * Gaussians); the sort and the fill run once.
 */
import { REC, R_DEPTH } from "./project.ts";

/** Add, for Gaussians [start, end), one to counts[t + 1] for every tile t their rectangle covers. */
export function countTiles(rects: Int32Array, start: number, end: number, gridW: number, counts: Uint32Array): void {
  for (let i = start; i < end; i++) {
    const r = i * 4;
    const x0 = rects[r], y0 = rects[r + 1], x1 = rects[r + 2], y1 = rects[r + 3];
    for (let ty = y0; ty < y1; ty++) for (let tx = x0; tx < x1; tx++) counts[ty * gridW + tx + 1]++;
  }
}

/** Turn per-tile counts (at t + 1) into start offsets in place; returns the total. */
export function prefixSum(counts: Uint32Array): number {
  for (let t = 1; t < counts.length; t++) counts[t] += counts[t - 1];
  return counts[counts.length - 1];
}

/** Indices of the Gaussians with a non-empty rectangle, front to back; ties keep index order. */
export function sortByDepth(records: Float32Array, rects: Int32Array, count: number): Uint32Array {
  let visible = 0;
  for (let i = 0; i < count; i++) if (rects[i * 4 + 2] > rects[i * 4]) visible++;
  const order = new Uint32Array(visible);
  const depth = new Float32Array(visible);
  for (let i = 0, k = 0; i < count; i++) {
    if (rects[i * 4 + 2] <= rects[i * 4]) continue;
    order[k] = i;
    depth[k++] = records[i * REC + R_DEPTH];
  }
  // Depths are > near > 0, and positive IEEE floats order like their bit patterns.
  return radixSortByKey(new Uint32Array(depth.buffer), order);
}

/** Write `sorted` into the tile lists, whose start offsets `tileStart` gives; each tile keeps `sorted`'s order. */
export function fillTiles(sorted: Uint32Array, rects: Int32Array, gridW: number, tileStart: Uint32Array, list: Uint32Array): void {
  const cursor = tileStart.slice(0, tileStart.length - 1);
  for (let s = 0; s < sorted.length; s++) {
    const i = sorted[s];
    const r = i * 4;
    const x0 = rects[r], y0 = rects[r + 1], x1 = rects[r + 2], y1 = rects[r + 3];
    for (let ty = y0; ty < y1; ty++) for (let tx = x0; tx < x1; tx++) list[cursor[ty * gridW + tx]++] = i;
  }
}

/** Stable LSD radix sort of `values` by uint32 `keys` (3 passes of 11 bits). Returns the sorted values. */
export function radixSortByKey(keys: Uint32Array, values: Uint32Array): Uint32Array {
  const n = keys.length;
  let kIn: Uint32Array = keys.slice(), vIn: Uint32Array = values.slice();
  let kOut: Uint32Array = new Uint32Array(n), vOut: Uint32Array = new Uint32Array(n);
  const hist = new Uint32Array(2048);
  for (let shift = 0; shift < 33; shift += 11) {
    hist.fill(0);
    for (let i = 0; i < n; i++) hist[(kIn[i] >>> shift) & 2047]++;
    let sum = 0;
    for (let b = 0; b < 2048; b++) {
      const c = hist[b];
      hist[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const dst = hist[(kIn[i] >>> shift) & 2047]++;
      kOut[dst] = kIn[i];
      vOut[dst] = vIn[i];
    }
    [kIn, kOut] = [kOut, kIn];
    [vIn, vOut] = [vOut, vIn];
  }
  return vIn;
}
